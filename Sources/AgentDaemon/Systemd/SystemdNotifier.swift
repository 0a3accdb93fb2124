import CoAP
import Glibc
import Transport

/// Tells systemd how the daemon is doing (sd_notify(3) without libsystemd): each message is one
/// AF_UNIX datagram to `$NOTIFY_SOCKET`, sent without blocking. Without `$NOTIFY_SOCKET` (SysV
/// or BusyBox init, started by hand) there is no notifier at all. A failed send is reported to
/// the caller, never fatal.
public final class SystemdNotifier {
    public let address: NotifySocketAddress
    /// How often the event loop sends WATCHDOG=1: half of `$WATCHDOG_USEC`; nil without a
    /// watchdog (or when `$WATCHDOG_PID` names another process).
    public let watchdogInterval: Duration?
    private let descriptor: Int32

    /// The notifier `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID` describe (nil when
    /// `$NOTIFY_SOCKET` is unset). The three variables are removed from the environment, so the
    /// daemon's children (firmware installers, reboot commands) do not talk to systemd in its name.
    /// Throws when the variable is set but unusable, or no socket can be made.
    public static func fromEnvironment() throws(NotifyError) -> SystemdNotifier? {
        let socket = environment("NOTIFY_SOCKET")
        let usec = environment("WATCHDOG_USEC")
        let pid = environment("WATCHDOG_PID")
        unsetenv("NOTIFY_SOCKET")
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        guard let socket else { return nil }
        guard let address = NotifySocketAddress(socket) else { throw .badAddress(socket) }
        return try SystemdNotifier(address: address,
                                   watchdogInterval: watchdogInterval(usec: usec, pid: pid, ourPID: getpid()))
    }

    /// A notifier sending to `address`.
    public init(address: NotifySocketAddress, watchdogInterval: Duration? = nil) throws(NotifyError) {
        self.address = address
        self.watchdogInterval = watchdogInterval
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw .socket(errno: errno) }
    }

    deinit { close(descriptor) }

    /// Sends `message`; returns the errno of a failed send (never waits: a full or gone
    /// socket is a failure, not a stall of the event loop).
    @discardableResult
    public func send(_ message: NotifyMessage) -> Int32? {
        let bytes = Array(message.text.utf8)
        let sent = address.withSockaddr { target, length in
            bytes.withUnsafeBytes { buffer in
                sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), target, length)
            }
        }
        return sent == bytes.count ? nil : (sent < 0 ? errno : EMSGSIZE)
    }

    /// Half of `$WATCHDOG_USEC` (systemd's advice: ping at half the timeout), or nil when there
    /// is no usable watchdog setting or `$WATCHDOG_PID` is set and not `ourPID`.
    public static func watchdogInterval(usec: String?, pid: String?, ourPID: Int32) -> Duration? {
        if let pid, !pid.isEmpty {
            guard let number = Int32(pid), number == ourPID else { return nil }
        }
        // UInt64: microseconds overflow a 32-bit Int after 35 minutes.
        guard let usec, let microseconds = UInt64(usec), microseconds > 0, microseconds < UInt64(Int64.max) else { return nil }
        return .microseconds(Int64(microseconds / 2))
    }

    /// CLOCK_MONOTONIC in microseconds (RELOADING=1's MONOTONIC_USEC).
    public static func monotonicMicroseconds() -> Int64 { MonotonicClock.now().nanoseconds / 1000 }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

/// Why the systemd notifier could not be set up.
public enum NotifyError: Error, Equatable, CustomStringConvertible {
    /// `$NOTIFY_SOCKET` is neither an absolute path nor an `@abstract` name that fits.
    case badAddress(String)
    case socket(errno: Int32)

    public var description: String {
        switch self {
        case .badAddress(let value): return "NOTIFY_SOCKET=\"\(value)\": not an absolute path or @abstract name that fits in sun_path (systemd notifications off)"
        case .socket(let errno): return "systemd notifications off: cannot make a datagram socket: \(String(cString: strerror(errno)))"
        }
    }
}
