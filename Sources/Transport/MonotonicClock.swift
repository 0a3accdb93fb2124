import Time
import Glibc

/// The production clock for the protocol cores: `CLOCK_MONOTONIC`, which never jumps with
/// wall-clock changes (NTP, manual date setting) and does not advance while the system is
/// suspended.
public enum MonotonicClock {
    /// The current monotonic time. Served by the vDSO on Linux: no system call, no allocation.
    @inlinable
    public static func now() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }
}
