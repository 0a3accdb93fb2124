/// A CoAP token: 0 to 8 opaque bytes, stored inline so matching never allocates.
public struct Token: Hashable, Sendable, CustomStringConvertible {
    /// The bytes, big-endian in the low `count` bytes.
    @usableFromInline var storage: UInt64
    /// Number of bytes, 0...8.
    public let count: Int

    /// The empty token.
    public static let empty = Token(storage: 0, count: 0)

    @usableFromInline init(storage: UInt64, count: Int) {
        self.storage = storage
        self.count = count
    }

    /// A token from up to 8 bytes; `nil` when longer.
    public init?<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count <= 8 else { return nil }
        var value: UInt64 = 0
        for byte in bytes { value = value << 8 | UInt64(byte) }
        self.init(storage: value, count: bytes.count)
    }

    /// A token of `count` bytes (1...8) taken from the low bytes of `value`.
    public init(value: UInt64, count: Int) {
        precondition(count >= 0 && count <= 8, "a CoAP token has 0 to 8 bytes")
        let mask: UInt64 = count == 8 ? .max : (UInt64(1) << UInt64(count * 8)) &- 1
        self.init(storage: value & mask, count: count)
    }

    /// The token's bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        appendBytes(to: &out)
        return out
    }

    @inlinable
    func appendBytes(to buffer: inout [UInt8]) {
        var shift = (count - 1) * 8
        while shift >= 0 {
            buffer.append(UInt8(truncatingIfNeeded: storage >> UInt64(shift)))
            shift -= 8
        }
    }

    public var description: String {
        count == 0 ? "-" : bytes.map { hex2($0) }.joined()
    }
}

@usableFromInline
func hex2(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
