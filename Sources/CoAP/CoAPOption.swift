/// One CoAP option instance: a number and its raw value bytes.
public struct CoAPOption: Hashable, Sendable, CustomStringConvertible {
    public var number: OptionNumber
    public var value: [UInt8]

    @inlinable public init(_ number: OptionNumber, _ value: [UInt8]) {
        self.number = number
        self.value = value
    }

    /// A string-valued option (UTF-8).
    @inlinable public init(_ number: OptionNumber, string: String) {
        self.init(number, Array(string.utf8))
    }

    /// A uint-valued option in its shortest big-endian form (0 is the empty value).
    @inlinable public init(_ number: OptionNumber, uint: UInt32) {
        self.init(number, encodeUInt(uint))
    }

    /// The value read as an unsigned integer; `nil` when longer than 4 bytes.
    @inlinable public var uintValue: UInt32? { decodeUInt(value) }

    /// The value read as UTF-8 text (invalid sequences repaired).
    public var stringValue: String { String(decoding: value, as: UTF8.self) }

    public var description: String {
        switch number.definition?.format {
        case .uint: "\(number)=\(uintValue.map(String.init) ?? "?")"
        case .string: "\(number)=\"\(stringValue)\""
        case .empty: "\(number)"
        default: "\(number)=0x\(value.map { hex2($0) }.joined())"
        }
    }
}

/// Shortest big-endian encoding of `value` (RFC 7252 §3.2: 0 is encoded as zero bytes).
@inlinable
public func encodeUInt(_ value: UInt32) -> [UInt8] {
    switch value {
    case 0: []
    case 1...0xFF: [UInt8(value)]
    case 0x100...0xFFFF: [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)]
    case 0x1_0000...0xFF_FFFF:
        [UInt8(value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    default:
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value)]
    }
}

/// Reads a big-endian unsigned integer of at most 4 bytes (leading zero bytes allowed).
@inlinable
public func decodeUInt(_ bytes: [UInt8]) -> UInt32? {
    guard bytes.count <= 4 else { return nil }
    var value: UInt32 = 0
    for byte in bytes { value = value << 8 | UInt32(byte) }
    return value
}
