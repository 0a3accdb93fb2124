import Time

/// One edge the kernel saw on an input line.
public struct GPIOEdgeEvent: Sendable, Equatable {
    /// Whether the logical level rose (the kernel applies active-low to the edge too).
    public var rising: Bool
    /// The kernel's event time (CLOCK_MONOTONIC on kernels >= 5.7, CLOCK_REALTIME before).
    public var timestamp: Instant

    public init(rising: Bool, timestamp: Instant) {
        self.rising = rising
        self.timestamp = timestamp
    }
}
