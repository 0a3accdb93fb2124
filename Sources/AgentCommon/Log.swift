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
/// Every line is made safe for a line-oriented log: control characters in the message (C0
/// including CR/LF and NUL, DEL, C1, U+2028/U+2029) are written as `\xNN` / `\u{NNNN}`
/// escapes, so text a peer put into a message (a URI, a path, a diagnostic) can neither end the
/// line nor forge another one with its own `<0>` priority. (Invalid UTF-8 cannot reach a Swift
/// `String`: decoding replaces it with U+FFFD.)
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
        write("<\(messageLevel.rawValue)>\(Logger.escaped(component)): \(Logger.escaped(message()))\n")
    }

    /// `text` with every control character escaped (see the type's documentation): printable
    /// text, including non-ASCII letters, is unchanged.
    public static func escaped(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }  // plain ASCII: as is
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x00..<0x20, 0x7F:
                result += "\\x" + hex(value, digits: 2)
            case 0x80..<0xA0, 0x2028, 0x2029:
                result += "\\u{" + hex(value, digits: 4) + "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func notice(_ message: @autoclosure () -> String) { log(.notice, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    @usableFromInline
    func write(_ line: String) { Console.error(line) }
}
