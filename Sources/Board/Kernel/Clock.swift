import Glibc

/// The wall clock (CLOCK_REALTIME): read it, and set it (clock_settime(2), needs CAP_SYS_TIME).
public enum SystemClock {
    /// Seconds since the Unix epoch.
    public static func now() -> Int64 {
        var value = timespec()
        clock_gettime(CLOCK_REALTIME, &value)
        return Int64(value.tv_sec)
    }

    /// Sets the clock to `seconds`; the error names the errno (EPERM: the process lacks
    /// CAP_SYS_TIME; EINVAL: a time the kernel refuses, or beyond a 32-bit `time_t`).
    public static func set(_ seconds: Int64) throws(ClockError) {
        guard let tvSec = time_t(exactly: seconds) else { throw ClockError(errno: EOVERFLOW) }
        var value = timespec(tv_sec: tvSec, tv_nsec: 0)
        guard clock_settime(CLOCK_REALTIME, &value) == 0 else { throw ClockError(errno: errno) }
    }
}

/// A failed clock_settime.
public struct ClockError: Error, Hashable, Sendable, CustomStringConvertible {
    public let errno: Int32

    public init(errno: Int32) { self.errno = errno }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return errno == EPERM ? "clock_settime: \(reason) (the agent needs CAP_SYS_TIME)" : "clock_settime: \(reason)"
    }
}
