import Glibc

/// Log severities, numbered as syslog/journald priorities.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case error = 3, warning = 4, notice = 5, info = 6, debug = 7

    public init?(name: String) {
        switch name.lowercased() {
        case "error": self = .error
        case "warning", "warn": self = .warning
        case "notice": self = .notice
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Writes one line per message to standard error, prefixed with the journald/syslog priority
/// (`<6>coap: …`), which journald turns into the entry's priority and strips. Messages below
/// `level` are not even formatted.
///
/// Never pass secret bytes (keys, PSKs) to a logger: log identities and lengths instead.
public struct Logger: Sendable {
    public var level: LogLevel
    public let component: String

    public init(component: String, level: LogLevel = .info) {
        self.component = component
        self.level = level
    }

    @inlinable
    public func log(_ messageLevel: LogLevel, _ message: @autoclosure () -> String) {
        guard messageLevel <= level else { return }
        write("<\(messageLevel.rawValue)>\(component): \(message())\n")
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func notice(_ message: @autoclosure () -> String) { log(.notice, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    @usableFromInline
    func write(_ line: String) { Console.error(line) }
}
