/// One resource value, typed. Floats compare by bit pattern, so a NaN equals itself and a
/// decoded value always equals what was encoded.
public enum ResourceValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case unsignedInteger(UInt64)
    case float(Double)
    case boolean(Bool)
    case opaque([UInt8])
    /// Seconds since 1970-01-01T00:00:00Z (may be negative).
    case time(Int64)
    case objectLink(ObjectLink)
    /// CoRE link format text (RFC 6690).
    case coreLink(String)

    public static func == (lhs: ResourceValue, rhs: ResourceValue) -> Bool {
        switch (lhs, rhs) {
        case (.float(let a), .float(let b)): a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.unsignedInteger(let a), .unsignedInteger(let b)): a == b
        case (.boolean(let a), .boolean(let b)): a == b
        case (.opaque(let a), .opaque(let b)): a == b
        case (.time(let a), .time(let b)): a == b
        case (.objectLink(let a), .objectLink(let b)): a == b
        case (.coreLink(let a), .coreLink(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        switch self {
        case .float(let value): hasher.combine(value.bitPattern)
        case .string(let value), .coreLink(let value): hasher.combine(value)
        case .integer(let value), .time(let value): hasher.combine(value)
        case .unsignedInteger(let value): hasher.combine(value)
        case .boolean(let value): hasher.combine(value)
        case .opaque(let value): hasher.combine(value)
        case .objectLink(let value): hasher.combine(value)
        }
    }

    public var type: ResourceType {
        switch self {
        case .string: .string
        case .integer: .integer
        case .unsignedInteger: .unsignedInteger
        case .float: .float
        case .boolean: .boolean
        case .opaque: .opaque
        case .time: .time
        case .objectLink: .objectLink
        case .coreLink: .coreLink
        }
    }

    /// The value as a Double, for numeric types (gt/lt/st evaluation).
    public var numericValue: Double? {
        switch self {
        case .integer(let v), .time(let v): Double(v)
        case .unsignedInteger(let v): Double(v)
        case .float(let v): v
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .string(let s): "\"\(s)\""
        case .integer(let v): String(v)
        case .unsignedInteger(let v): String(v)
        case .float(let v): String(v)
        case .boolean(let v): String(v)
        case .opaque(let bytes): "opaque(\(bytes.count) bytes)"
        case .time(let v): "time(\(v))"
        case .objectLink(let link): link.description
        case .coreLink(let text): "<\(text)>"
        }
    }
}
