import CoAP
import Glibc
import Testing
import Transport

/// `MonotonicClock` must be CLOCK_MONOTONIC in nanoseconds: checked against direct
/// `clock_gettime` reads around it (a wall clock, an offset or a scaled clock falls outside)
/// and against a measured sleep. Bounds are one-sided where load could delay the test (a sleep
/// may last longer, never shorter) or bracketed by reads taken at the same moments, so the
/// checks hold on a loaded machine.
@Suite struct MonotonicClockTests {
    /// CLOCK_MONOTONIC read directly, in nanoseconds.
    static func reference() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    @Test func readsClockMonotonicInNanoseconds() {
        var outside: [(Int64, Int64, Int64)] = []
        for _ in 0..<1000 {
            let before = Self.reference()
            let now = MonotonicClock.now().nanoseconds
            let after = Self.reference()
            if !(before <= now && now <= after) { outside.append((before, now, after)) }
        }
        #expect(outside.isEmpty, "readings outside [before, after] of CLOCK_MONOTONIC: \(outside.prefix(3))")
    }

    @Test func neverGoesBackwards() {
        var last = MonotonicClock.now()
        var backwards = 0
        for _ in 0..<100_000 {
            let now = MonotonicClock.now()
            if now < last { backwards += 1 }
            last = now
        }
        #expect(backwards == 0)
    }

    @Test func advancesByASleepAsMeasuredIndependently() {
        let clock = ContinuousClock()
        let referenceStart = clock.now
        let first = MonotonicClock.now()
        usleep(50_000)
        let second = MonotonicClock.now()
        let referenceSpan = clock.now - referenceStart
        let elapsed = second - first
        // A sleep never ends early: at least 50 ms passed (a clock in µs or ms, or stopped, fails).
        #expect(elapsed >= .milliseconds(50), "\(elapsed)")
        // Never more than the independent clock measured around it (a clock running fast fails),
        // with 1 ms of slack for the two clocks' granularity.
        #expect(elapsed <= referenceSpan + .milliseconds(1), "\(elapsed) vs \(referenceSpan)")
        // And a generous bound in absolute terms, in case both were wrong the same way.
        #expect(elapsed < .seconds(60), "\(elapsed)")
    }
}
