// CBOR encoder: preferred serialization (RFC 8949 §4.2.1/§4.2.2) of a `CBORValue`.
//
//   * every head (integer, length, tag number, simple value) in its shortest form;
//   * definite lengths only;
//   * floats in the shortest of binary16/binary32/binary64 that holds the value exactly
//     (NaNs included: the payload is kept, so a NaN read from a half-precision item writes back
//     as the same two bytes);
//   * map entries in the order given (the caller chooses; SenML CBOR uses core deterministic
//     order for its labels).

extension CBORValue {
    /// The preferred serialization of this item.
    /// - Throws: `ContentFormatError.unsupported` for `.simple(24...31)`, which has no encoding.
    public func encoded() throws -> [UInt8] {
        var out: [UInt8] = []
        try encode(into: &out)
        return out
    }

    /// Appends the preferred serialization of this item to `out`.
    public func encode(into out: inout [UInt8]) throws {
        switch self {
        case .unsigned(let n): CBORValue.appendHead(major: 0, n, to: &out)
        case .negative(let n): CBORValue.appendHead(major: 1, n, to: &out)
        case .bytes(let bytes):
            CBORValue.appendHead(major: 2, UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        case .text(let text):
            CBORValue.appendHead(major: 3, UInt64(text.utf8.count), to: &out)
            out.append(contentsOf: text.utf8)
        case .array(let items):
            CBORValue.appendHead(major: 4, UInt64(items.count), to: &out)
            for item in items { try item.encode(into: &out) }
        case .map(let entries):
            CBORValue.appendHead(major: 5, UInt64(entries.count), to: &out)
            for (key, value) in entries {
                try key.encode(into: &out)
                try value.encode(into: &out)
            }
        case .tagged(let tag, let item):
            CBORValue.appendHead(major: 6, tag, to: &out)
            try item.encode(into: &out)
        case .simple(let v):
            switch v {
            case 0...23: out.append(0xe0 | v)
            case 32...255: out.append(contentsOf: [0xf8, v])
            default: throw ContentFormatError.unsupported("CBOR simple value \(v) has no encoding")
            }
        case .bool(let v): out.append(v ? 0xf5 : 0xf4)
        case .null: out.append(0xf6)
        case .undefined: out.append(0xf7)
        case .float(let d): CBORValue.appendFloat(d, to: &out)
        }
    }

    /// Appends a head (major type + argument) in its shortest form.
    static func appendHead(major: UInt8, _ argument: UInt64, to out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24:
            out.append(type | UInt8(argument))
        case 24...0xff:
            out.append(contentsOf: [type | 24, UInt8(argument)])
        case 0x100...0xffff:
            out.append(contentsOf: [type | 25, UInt8(argument >> 8), UInt8(truncatingIfNeeded: argument)])
        case 0x1_0000...0xffff_ffff:
            out.append(type | 26)
            appendBigEndian(argument, bytes: 4, to: &out)
        default:
            out.append(type | 27)
            appendBigEndian(argument, bytes: 8, to: &out)
        }
    }

    /// Appends a float in the shortest width that holds it exactly.
    static func appendFloat(_ value: Double, to out: inout [UInt8]) {
        if let half = CBORFloat.halfBits(exactly: value) {
            out.append(contentsOf: [0xf9, UInt8(half >> 8), UInt8(truncatingIfNeeded: half)])
        } else if let single = CBORFloat.singleBits(exactly: value) {
            out.append(0xfa)
            appendBigEndian(UInt64(single), bytes: 4, to: &out)
        } else {
            out.append(0xfb)
            appendBigEndian(value.bitPattern, bytes: 8, to: &out)
        }
    }

    private static func appendBigEndian(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for index in stride(from: bytes - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: value >> (UInt64(index) * 8)))
        }
    }
}
