/// A CBOR data item (RFC 8949), as the generic layer under the SenML CBOR (112) and LwM2M CBOR
/// (11544) content formats.
///
/// The model is the CBOR data model, not the wire bytes: indefinite-length strings, arrays and
/// maps decode to their definite equivalents, integer heads to their value, and floats of every
/// width to `Double` (half and single precision convert exactly, NaN payloads included). The
/// encoder (`encoded()`) writes preferred serialization (RFC 8949 §4.2): shortest heads,
/// definite lengths, and the shortest float width that holds the value exactly.
///
/// Equality is structural on the data model: floats compare by bit pattern (so `0.0 != -0.0`
/// and a NaN equals the same NaN), text by its UTF-8 bytes (no Unicode normalisation), and maps
/// by their entries in order.
public indirect enum CBORValue: Sendable {
    /// Major type 0.
    case unsigned(UInt64)
    /// Major type 1: the integer `-1 - n`, so `.negative(0)` is -1 and `.negative(UInt64.max)`
    /// is -2^64.
    case negative(UInt64)
    /// Major type 2.
    case bytes([UInt8])
    /// Major type 3 (valid UTF-8 by construction).
    case text(String)
    /// Major type 4.
    case array([CBORValue])
    /// Major type 5, entries in wire order. The decoder rejects duplicate keys.
    case map([(CBORValue, CBORValue)])
    /// Major type 6: tag number and content.
    case tagged(UInt64, CBORValue)
    /// Major type 7 simple values other than false/true/null/undefined: 0...19 and 32...255.
    /// (20...23 encode as the values they stand for; 24...31 cannot be encoded.)
    case simple(UInt8)
    case bool(Bool)
    case null
    case undefined
    /// Major type 7 floats of any width.
    case float(Double)
}

// MARK: - Convenience

extension CBORValue {
    /// The integer value for major types 0 and 1, when it fits an `Int64`.
    public var int64Value: Int64? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: nil
        }
    }

    /// The text of a `.text` item.
    public var textValue: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The entries of a `.map` item.
    public var mapEntries: [(CBORValue, CBORValue)]? {
        if case .map(let entries) = self { return entries }
        return nil
    }

    /// The value for `key` in a `.map` item (first match).
    public subscript(key: CBORValue) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    /// An integer item for a signed value.
    public static func integer(_ value: Int64) -> CBORValue {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }
}

extension CBORValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(arrayLiteral elements: CBORValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (CBORValue, CBORValue)...) { self = .map(elements) }
}

// MARK: - Equality and hashing (structural)

extension CBORValue: Hashable {
    public static func == (lhs: CBORValue, rhs: CBORValue) -> Bool {
        switch (lhs, rhs) {
        case (.unsigned(let a), .unsigned(let b)): a == b
        case (.negative(let a), .negative(let b)): a == b
        case (.bytes(let a), .bytes(let b)): a == b
        case (.text(let a), .text(let b)): a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): a == b
        case (.map(let a), .map(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.tagged(let ta, let a), .tagged(let tb, let b)): ta == tb && a == b
        case (.simple(let a), .simple(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null), (.undefined, .undefined): true
        case (.float(let a), .float(let b)): a.bitPattern == b.bitPattern
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .unsigned(let n): hasher.combine(0 as UInt8); hasher.combine(n)
        case .negative(let n): hasher.combine(1 as UInt8); hasher.combine(n)
        case .bytes(let b): hasher.combine(2 as UInt8); hasher.combine(b)
        case .text(let t):
            hasher.combine(3 as UInt8)
            hasher.combine(t.utf8.count)
            for byte in t.utf8 { hasher.combine(byte) }
        case .array(let items): hasher.combine(4 as UInt8); hasher.combine(items)
        case .map(let entries):
            hasher.combine(5 as UInt8)
            hasher.combine(entries.count)
            for (key, value) in entries { hasher.combine(key); hasher.combine(value) }
        case .tagged(let tag, let item): hasher.combine(6 as UInt8); hasher.combine(tag); hasher.combine(item)
        case .simple(let v): hasher.combine(7 as UInt8); hasher.combine(v)
        case .bool(let v): hasher.combine(8 as UInt8); hasher.combine(v)
        case .null: hasher.combine(9 as UInt8)
        case .undefined: hasher.combine(10 as UInt8)
        case .float(let d): hasher.combine(11 as UInt8); hasher.combine(d.bitPattern)
        }
    }
}

// MARK: - Diagnostic notation (RFC 8949 §8), for logs and test failures

extension CBORValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unsigned(let n): return String(n)
        case .negative(let n): return n == UInt64.max ? "-18446744073709551616" : "-" + String(n + 1)
        case .bytes(let bytes): return "h'" + bytes.map { cborHexByte($0) }.joined() + "'"
        case .text(let text): return "\"" + cborEscaped(text) + "\""
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries):
            return "{" + entries.map { "\($0.0.description): \($0.1.description)" }.joined(separator: ", ") + "}"
        case .tagged(let tag, let item): return "\(tag)(\(item.description))"
        case .simple(let v): return "simple(\(v))"
        case .bool(let v): return v ? "true" : "false"
        case .null: return "null"
        case .undefined: return "undefined"
        case .float(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            return String(d)
        }
    }
}

private func cborHexByte(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
}

private func cborEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

// MARK: - Exact float width conversions (no hardware rounding, NaN payloads kept)

/// Conversions between `Double` and the half/single bit patterns, exact or not at all.
enum CBORFloat {
    /// The binary16 bits holding `value` exactly, or nil when half precision would lose bits.
    /// NaNs convert when their payload fits the 10-bit half mantissa.
    static func halfBits(exactly value: Double) -> UInt16? {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 63) << 15
        let exponent = Int((bits >> 52) & 0x7ff)
        let mantissa = bits & 0x000f_ffff_ffff_ffff
        if exponent == 0x7ff {
            guard mantissa & ((1 << 42) - 1) == 0 else { return nil }
            return sign | 0x7c00 | UInt16(truncatingIfNeeded: mantissa >> 42)
        }
        if exponent == 0 { return mantissa == 0 ? sign : nil }  // ±0; double subnormals are too small
        let e = exponent - 1023
        if e > 15 { return nil }
        if e >= -14 {
            guard mantissa & ((1 << 42) - 1) == 0 else { return nil }
            return sign | UInt16(e + 15) << 10 | UInt16(truncatingIfNeeded: mantissa >> 42)
        }
        if e >= -24 {  // half subnormal: value = m × 2^-24, m in 1...1023
            let full = (1 << 52) | mantissa
            let shift = UInt64(52 - (e + 24))
            guard full & ((1 << shift) - 1) == 0 else { return nil }
            return sign | UInt16(truncatingIfNeeded: full >> shift)
        }
        return nil
    }

    /// The binary32 bits holding `value` exactly, or nil.
    static func singleBits(exactly value: Double) -> UInt32? {
        let bits = value.bitPattern
        let sign = UInt32(truncatingIfNeeded: bits >> 63) << 31
        let exponent = Int((bits >> 52) & 0x7ff)
        let mantissa = bits & 0x000f_ffff_ffff_ffff
        if exponent == 0x7ff {
            guard mantissa & ((1 << 29) - 1) == 0 else { return nil }
            return sign | 0x7f80_0000 | UInt32(truncatingIfNeeded: mantissa >> 29)
        }
        if exponent == 0 { return mantissa == 0 ? sign : nil }
        let e = exponent - 1023
        if e > 127 { return nil }
        if e >= -126 {
            guard mantissa & ((1 << 29) - 1) == 0 else { return nil }
            return sign | UInt32(e + 127) << 23 | UInt32(truncatingIfNeeded: mantissa >> 29)
        }
        if e >= -149 {  // single subnormal: value = m × 2^-149
            let full = (1 << 52) | mantissa
            let shift = UInt64(52 - (e + 149))
            guard full & ((1 << shift) - 1) == 0 else { return nil }
            return sign | UInt32(truncatingIfNeeded: full >> shift)
        }
        return nil
    }

    /// The `Double` for binary16 bits (always exact).
    static func double(fromHalf half: UInt16) -> Double {
        let sign = UInt64(half >> 15) << 63
        let exponent = Int((half >> 10) & 0x1f)
        let mantissa = UInt64(half & 0x3ff)
        switch exponent {
        case 0:
            let magnitude = Double(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Double(bitPattern: sign | 0x7ff0_0000_0000_0000 | mantissa << 42)
        default:
            return Double(bitPattern: sign | UInt64(exponent - 15 + 1023) << 52 | mantissa << 42)
        }
    }

    /// The `Double` for binary32 bits (always exact).
    static func double(fromSingle single: UInt32) -> Double {
        let sign = UInt64(single >> 31) << 63
        let exponent = Int((single >> 23) & 0xff)
        let mantissa = UInt64(single & 0x7f_ffff)
        switch exponent {
        case 0:
            let magnitude = Double(mantissa) * 0x1p-149
            return sign == 0 ? magnitude : -magnitude
        case 255:
            return Double(bitPattern: sign | 0x7ff0_0000_0000_0000 | mantissa << 29)
        default:
            return Double(bitPattern: sign | UInt64(exponent - 127 + 1023) << 52 | mantissa << 29)
        }
    }
}
