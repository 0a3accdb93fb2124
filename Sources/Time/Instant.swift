/// A point on a monotonic timeline, in nanoseconds from an arbitrary origin.
///
/// The protocol cores never read a clock: the outer layer passes `Instant`s in, so tests can
/// drive them with a virtual clock and production code with `CLOCK_MONOTONIC`.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The origin of a virtual clock.
    public static let zero = Instant(nanoseconds: 0)

    @inlinable
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Saturates at the ends of the timeline: a deadline `now + .seconds(Int64.max)` (a period a
    /// server wrote) is "never", not a wrapped-around instant in the past.
    @inlinable
    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.nanosecondsClamped)
        if overflow { return Instant(nanoseconds: sum < 0 ? .max : .min) }
        return Instant(nanoseconds: sum)
    }

    @inlinable
    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    @inlinable
    public static func += (lhs: inout Instant, rhs: Duration) { lhs = lhs + rhs }

    public var description: String {
        let ms = nanoseconds / 1_000_000
        return "\(ms / 1000).\(String(ms % 1000 + 1000).dropFirst())s"
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturated to `Int64`.
    @inlinable
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return ns &+ attoseconds / 1_000_000_000
    }

    /// The duration in whole milliseconds, saturated to `Int64` (poll(2) waits, timer callbacks).
    @inlinable
    public var millisecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        return ms &+ attoseconds / 1_000_000_000_000_000
    }
}
