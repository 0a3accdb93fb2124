/// The value of a Block1 or Block2 option (RFC 7959 §2.2): block number, more flag, size exponent.
public struct BlockValue: Hashable, Sendable, CustomStringConvertible {
    /// Block number, 0 ..< 2^20.
    public var number: UInt32
    /// More blocks follow (M bit).
    public var more: Bool
    /// Size exponent: a block holds 2^(szx+4) bytes. 0...6; 7 is reserved (BERT, TCP only).
    public var szx: UInt8

    public static let maximumNumber: UInt32 = (1 << 20) - 1

    public init(number: UInt32, more: Bool, szx: UInt8) {
        precondition(number <= Self.maximumNumber && szx <= 6, "invalid block value")
        self.number = number
        self.more = more
        self.szx = szx
    }

    /// Decodes the option's uint value; `nil` for the reserved SZX 7 or a number over 20 bits.
    public init?(rawValue: UInt32) {
        guard rawValue >> 4 <= Self.maximumNumber, rawValue & 7 != 7 else { return nil }
        number = rawValue >> 4
        more = rawValue & 8 != 0
        szx = UInt8(rawValue & 7)
    }

    public var rawValue: UInt32 { number << 4 | (more ? 8 : 0) | UInt32(szx) }

    /// Block size in bytes: 16 ... 1024.
    public var size: Int { 16 << Int(szx) }

    /// Byte offset of this block in the whole body.
    public var offset: Int { Int(number) * size }

    /// The largest SZX whose block size is at most `bytes` (clamped to 16...1024).
    public static func szx(forSize bytes: Int) -> UInt8 {
        var szx: UInt8 = 6
        while szx > 0, 16 << Int(szx) > bytes { szx -= 1 }
        return szx
    }

    public var description: String { "\(number)/\(more ? 1 : 0)/\(size)" }
}
