import AgentCommon
import AgentDaemon
/// What a factory command reports: a tree of named values printed as indented text or JSON.
/// Never holds secret bytes (only names, lengths, public-key hashes).
public indirect enum FactoryReport: Sendable, Equatable {
    /// A string (a name, a path, a hash).
    case text(String)
    /// A count or length.
    case number(Int)
    /// A yes/no fact.
    case flag(Bool)
    /// An ordered list.
    case list([FactoryReport])
    /// Named fields in order.
    case object([(String, FactoryReport)])

    public static func == (lhs: FactoryReport, rhs: FactoryReport) -> Bool { lhs.json == rhs.json }

    /// Compact JSON.
    public var json: String {
        switch self {
        case .text(let value): Self.quoted(value)
        case .number(let value): String(value)
        case .flag(let value): value ? "true" : "false"
        case .list(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    /// Indented `key: value` lines.
    public func text(indent: String = "") -> String {
        switch self {
        case .text(let value): return value
        case .number(let value): return String(value)
        case .flag(let value): return value ? "yes" : "no"
        case .list(let items):
            return items.map { "\n\(indent)- " + $0.text(indent: indent + "  ") }.joined()
        case .object(let fields):
            return fields.map { key, value in
                switch value {
                case .object, .list: "\n\(indent)\(key):" + value.text(indent: indent + "  ")
                default: "\n\(indent)\(key): " + value.text(indent: indent)
                }
            }.joined()
        }
    }

    static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

/// Lower-case hexadecimal of public bytes (hashes, points).
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
    return String(decoding: text, as: UTF8.self)
}
