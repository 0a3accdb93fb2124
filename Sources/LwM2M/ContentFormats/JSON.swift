/// A small, strict JSON value model (RFC 8259) used by the JSON content formats (SenML JSON,
/// LwM2M JSON). Parsing lives in `JSONParser.swift`, serialisation in `JSONWriter.swift`.
///
/// Equality is syntactic where JSON leaves a choice: numbers compare by their literal text
/// (`1.0` and `1` differ, see `JSONNumber`), objects compare member by member in order (duplicate
/// keys are kept as they came). Strings compare as Swift strings (canonical equivalence).
public indirect enum JSONValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    /// Members in document order; duplicate keys are kept (RFC 8259 §4 leaves them to the
    /// application: the content formats reject them where they matter).
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let v): hasher.combine(1); hasher.combine(v)
        case .number(let v): hasher.combine(2); hasher.combine(v)
        case .string(let v): hasher.combine(3); hasher.combine(v)
        case .array(let v): hasher.combine(4); hasher.combine(v)
        case .object(let members):
            hasher.combine(5)
            hasher.combine(members.count)
            for (key, value) in members {
                hasher.combine(key)
                hasher.combine(value)
            }
        }
    }

    /// The first member named `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [(String, JSONValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Compact JSON text (see `JSONWriter`).
    public var description: String { JSONWriter.string(self) }
}

/// A JSON number, kept as its literal text so that integers of any size (up to 2^64 and beyond)
/// stay exact; conversions to `Int64`, `UInt64` and `Double` are computed from the text.
///
/// Invariants: `literal` matches the RFC 8259 number grammar
/// (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`) and its value is finite as a Double
/// (literals such as `1e400` are refused: they cannot be represented by any LwM2M type).
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number's text, exactly as parsed or produced.
    public let literal: String

    /// Accepts only RFC 8259 number literals whose value is finite as a Double.
    public init?(literal: String) {
        guard JSONNumber.isValidLiteral(Array(literal.utf8)), let value = Double(literal), value.isFinite
        else { return nil }
        self.literal = literal
    }

    /// Internal: `literal` already validated by the parser.
    init(validatedLiteral: String) {
        literal = validatedLiteral
    }

    public init(_ value: Int64) {
        literal = String(value)
    }

    public init(_ value: UInt64) {
        literal = String(value)
    }

    public init(_ value: Int) {
        literal = String(value)
    }

    /// The shortest text that parses back to the same Double, always with a fraction or an
    /// exponent (`2.0`, `1e+16`, `5e-324`) so that a reader without type information takes it as
    /// a float. Nil for NaN and the infinities, which JSON cannot carry.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        // Swift's description is the shortest round-tripping form ("0.1", "1e-05", "1e+16",
        // "-0.0", "100.0") and always has a "." or an "e".
        literal = value.description
    }

    public var description: String { literal }

    /// Whether the literal has neither fraction nor exponent (`12`, `-0`).
    public var isIntegerLiteral: Bool {
        !literal.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The nearest Double (correctly rounded); finite by construction.
    public var doubleValue: Double { Double(literal) ?? 0 }

    /// The exact value as Int64 when the number is an integer in range, whatever its spelling
    /// (`100`, `1e2`, `100.0`, `-0`); nil for fractions and out-of-range values.
    public var int64Value: Int64? {
        guard let (negative, magnitude) = exactInteger else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// The exact value as UInt64 when the number is a non-negative integer in range (`-0` is 0).
    public var uint64Value: UInt64? {
        guard let (negative, magnitude) = exactInteger else { return nil }
        if negative && magnitude != 0 { return nil }
        return magnitude
    }

    /// Sign and magnitude when the literal denotes an integer whose magnitude fits in UInt64.
    private var exactInteger: (negative: Bool, magnitude: UInt64)? {
        let bytes = Array(literal.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var digits: [UInt8] = []
        var fractionDigits = 0
        while i < bytes.count, JSONNumber.isDigit(bytes[i]) {
            digits.append(bytes[i] &- 48)
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, JSONNumber.isDigit(bytes[i]) {
                digits.append(bytes[i] &- 48)
                fractionDigits += 1
                i += 1
            }
        }
        var exponent = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var exponentNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            while i < bytes.count, JSONNumber.isDigit(bytes[i]) {
                // Saturate: anything beyond a million digits is out of range (or zero) anyway.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[i] &- 48) }
                i += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        // value = digits × 10^(exponent − fractionDigits)
        guard let first = digits.firstIndex(where: { $0 != 0 }),
              let last = digits.lastIndex(where: { $0 != 0 }) else { return (negative, 0) }
        let scale = exponent - fractionDigits + (digits.count - 1 - last)
        let significant = last - first + 1
        guard scale >= 0, significant + scale <= 20 else { return nil }
        var magnitude: UInt64 = 0
        for index in 0..<(significant + scale) {
            let digit = index < significant ? digits[first + index] : 0
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
        }
        return (negative, magnitude)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// The RFC 8259 §6 number grammar, nothing before or after.
    static func isValidLiteral(_ bytes: [UInt8]) -> Bool {
        var i = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { return false }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { return false }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { return false }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        return i == bytes.count
    }
}
