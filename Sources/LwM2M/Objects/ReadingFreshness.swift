import Time

/// How long an object backed by the platform (the Device object) may serve a reading it has
/// already taken instead of asking the platform again: a Read returns values at most `maxAge`
/// old on `clock` (the loop's monotonic clock in the daemon, a virtual one in tests).
///
/// `.everyRead` (the default) keeps no reading past the Read that took it: each Read of several
/// resources takes each platform reading once, the next Read takes them again.
public struct ReadingFreshness {
    /// The oldest a served reading may be; zero: every Read reads the platform.
    public let maxAge: Duration
    /// The time readings are stamped with.
    public let clock: () -> Instant

    /// Readings reused for at most `maxAge` (negative counts as zero) as measured by `clock`.
    public init(maxAge: Duration, clock: @escaping () -> Instant) {
        self.maxAge = maxAge > .zero ? maxAge : .zero
        self.clock = clock
    }

    /// Every Read reads the platform (readings shared only within one Read).
    public static var everyRead: ReadingFreshness { ReadingFreshness(maxAge: .zero, clock: { .zero }) }

    /// Whether readings are kept past the Read that took them.
    public var reuses: Bool { maxAge > .zero }

    /// Whether readings taken at `takenAt` may still be served at `now`: younger than `maxAge`
    /// (a clock that went backwards, which a monotonic one does not, counts as stale).
    public func isFresh(takenAt: Instant, now: Instant) -> Bool {
        guard reuses, now >= takenAt else { return false }
        return now - takenAt < maxAge
    }
}
