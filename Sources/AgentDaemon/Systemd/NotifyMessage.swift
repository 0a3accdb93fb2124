/// One message of the systemd notification protocol (sd_notify(3)): newline-separated
/// `KEY=VALUE` assignments in one datagram. Built here without libsystemd.
public enum NotifyMessage: Hashable, Sendable {
    /// `READY=1`: start-up finished (the event loop runs), or a reload finished.
    case ready
    /// `RELOADING=1` with `MONOTONIC_USEC` (the CLOCK_MONOTONIC time of the reload, in µs,
    /// which systemd >= 253 requires for `Type=notify-reload` and otherwise ignores).
    case reloading(monotonicMicroseconds: Int64)
    /// `STOPPING=1`: shutting down (the De-registers may still take a few seconds).
    case stopping
    /// `STATUS=…`: one line describing the daemon's state (`systemctl status` shows it).
    case status(String)
    /// `WATCHDOG=1`: the event loop is alive.
    case watchdog

    /// The longest STATUS text sent; longer text is cut (with "…").
    public static let maximumStatusLength = 400

    /// The datagram's text.
    public var text: String {
        switch self {
        case .ready: return "READY=1"
        case .reloading(let microseconds): return "RELOADING=1\nMONOTONIC_USEC=\(microseconds)"
        case .stopping: return "STOPPING=1"
        case .status(let line): return "STATUS=\(Self.oneLine(line))"
        case .watchdog: return "WATCHDOG=1"
        }
    }

    /// `line` with every control character (a newline would start a new assignment) replaced
    /// by a space, cut to ``maximumStatusLength`` characters.
    static func oneLine(_ line: String) -> String {
        var result = ""
        var count = 0
        for character in line {
            if count == maximumStatusLength - 1 { return result + "…" }
            let isControl = character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
            result.append(isControl ? " " : character)
            count += 1
        }
        return result
    }
}
