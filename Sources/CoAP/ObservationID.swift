/// Identifies an observation a peer registered with us (RFC 7641 server role).
public struct ObservationID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "obs#\(rawValue)" }
}
