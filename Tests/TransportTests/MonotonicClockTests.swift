import CoAP
import Glibc
import Testing
import Transport

@Suite struct MonotonicClockTests {
    @Test func advancesMonotonically() {
        let first = MonotonicClock.now()
        usleep(10_000)
        let second = MonotonicClock.now()
        #expect(second - first >= .milliseconds(10))
        #expect(MonotonicClock.now() >= second)
    }

    @Test func matchesClockGettime() {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        let reference = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        let now = MonotonicClock.now().nanoseconds
        #expect(now >= reference)
    }
}
