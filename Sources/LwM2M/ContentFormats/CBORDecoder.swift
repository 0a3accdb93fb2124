// CBOR decoder (RFC 8949): strict well-formedness and validity checks with resource limits.
//
// Accepts definite and indefinite lengths and every head width (non-preferred encodings are
// well-formed and valid, so they decode). Rejects, never traps on:
//   * input that ends inside an item                         → .truncated
//   * reserved additional information 28...30, indefinite length on major types 0/1/6/7,
//     a "break" outside an indefinite-length item or in a map value position, indefinite
//     string chunks of the wrong type or themselves indefinite, two-byte simple values < 32,
//     and bytes after the top-level item (not well-formed)  → .malformed
//   * invalid UTF-8 in a text string (or in one chunk of it) and duplicate map keys (well-formed
//     but not valid, RFC 8949 §5.3)                          → .malformed, reported only once
//     the whole item proved well-formed, so a truncated input is always `.truncated`
//   * containers (arrays, maps, tags) nested deeper than `limits.maxDepth` → .nestingTooDeep
//   * more than `limits.maxItems` data items (chunks count)  → .tooLarge
// A length or count announced in a head is checked against the bytes actually left before
// anything is allocated, so "a byte string of 2^62 bytes" costs nothing.

/// Limits for `CBORValue(decoding:limits:)`.
public struct CBORDecodingLimits: Hashable, Sendable {
    /// How many arrays/maps/tags may enclose an item (16: the top-level container plus 15).
    public var maxDepth: Int
    /// How many data items (including map keys and string chunks) one payload may hold.
    public var maxItems: Int

    public init(maxDepth: Int = 16, maxItems: Int = 65_536) {
        self.maxDepth = maxDepth
        self.maxItems = maxItems
    }
}

extension CBORValue {
    /// Decodes exactly one CBOR data item that spans all of `bytes`.
    public init(decoding bytes: [UInt8], limits: CBORDecodingLimits = CBORDecodingLimits()) throws {
        var reader = CBORReader(bytes: bytes, limits: limits)
        let value = try reader.readItem(depth: 0)
        guard reader.position == bytes.count else {
            throw ContentFormatError.malformed(
                "\(bytes.count - reader.position) bytes after the CBOR item at offset \(reader.position)")
        }
        if let invalid = reader.validityError { throw invalid }
        self = value
    }
}

/// A cursor over the input.
struct CBORReader {
    let bytes: [UInt8]
    let limits: CBORDecodingLimits
    private(set) var position = 0
    private var items = 0
    /// The first validity error (bad UTF-8, duplicate key), thrown once the item is complete.
    private(set) var validityError: ContentFormatError?

    init(bytes: [UInt8], limits: CBORDecodingLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private var remaining: Int { bytes.count - position }

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else {
            throw ContentFormatError.truncated("CBOR input ends at offset \(position)")
        }
        defer { position += 1 }
        return bytes[position]
    }

    private func peekByte() throws -> UInt8 {
        guard position < bytes.count else {
            throw ContentFormatError.truncated("CBOR input ends at offset \(position) inside an indefinite-length item")
        }
        return bytes[position]
    }

    private mutating func readBigEndian(_ count: Int) throws -> UInt64 {
        guard remaining >= count else {
            throw ContentFormatError.truncated("CBOR head needs \(count) bytes at offset \(position), \(remaining) left")
        }
        var value: UInt64 = 0
        for _ in 0..<count {
            value = value << 8 | UInt64(bytes[position])
            position += 1
        }
        return value
    }

    /// The argument for additional information 0...27.
    private mutating func readArgument(_ info: UInt8) throws -> UInt64 {
        switch info {
        case 0..<24: UInt64(info)
        case 24: try readBigEndian(1)
        case 25: try readBigEndian(2)
        case 26: try readBigEndian(4)
        default: try readBigEndian(8)
        }
    }

    private mutating func countItem() throws {
        items += 1
        guard items <= limits.maxItems else {
            throw ContentFormatError.tooLarge("more than \(limits.maxItems) CBOR data items")
        }
    }

    /// Reads `count` bytes after checking they are there.
    private mutating func readBytes(_ count: UInt64) throws -> [UInt8] {
        guard count <= UInt64(remaining) else {
            throw ContentFormatError.truncated("CBOR string of \(count) bytes at offset \(position), \(remaining) left")
        }
        let end = position + Int(count)
        defer { position = end }
        return Array(bytes[position..<end])
    }

    private mutating func text(_ utf8: [UInt8], at offset: Int) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            invalid("invalid UTF-8 in CBOR text string at offset \(offset)")
            return ""
        }
        return text
    }

    private mutating func invalid(_ what: String) {
        if validityError == nil { validityError = .malformed(what) }
    }

    private func enter(_ depth: Int) throws -> Int {
        guard depth < limits.maxDepth else { throw ContentFormatError.nestingTooDeep }
        return depth + 1
    }

    /// Reads one data item; `depth` is the number of containers around it.
    mutating func readItem(depth: Int) throws -> CBORValue {
        try countItem()
        let start = position
        let initial = try readByte()
        let major = initial >> 5
        let info = initial & 0x1f
        if info >= 28 && info <= 30 {
            throw ContentFormatError.malformed("reserved additional information \(info) at offset \(start)")
        }
        if info == 31 {
            switch major {
            case 2: return .bytes(try readChunks(major: 2))
            case 3: return .text(text(try readChunks(major: 3), at: start))
            case 4:
                let inner = try enter(depth)
                var items: [CBORValue] = []
                while try peekByte() != 0xff { items.append(try readItem(depth: inner)) }
                position += 1
                return .array(items)
            case 5:
                let inner = try enter(depth)
                var entries: [(CBORValue, CBORValue)] = []
                var keys = Set<CBORValue>()
                while try peekByte() != 0xff {
                    let keyOffset = position
                    let key = try readItem(depth: inner)
                    checkUnique(key, in: &keys, at: keyOffset)
                    entries.append((key, try readItem(depth: inner)))
                }
                position += 1
                return .map(entries)
            case 7:
                throw ContentFormatError.malformed("CBOR break outside an indefinite-length item at offset \(start)")
            default:
                throw ContentFormatError.malformed("indefinite length on major type \(major) at offset \(start)")
            }
        }

        let argument = try readArgument(info)
        switch major {
        case 0:
            return .unsigned(argument)
        case 1:
            return .negative(argument)
        case 2:
            return .bytes(try readBytes(argument))
        case 3:
            return .text(text(try readBytes(argument), at: start))
        case 4:
            // Every item takes at least one byte: a count beyond the input is a truncation,
            // found before reserving anything.
            guard argument <= UInt64(remaining) else {
                throw ContentFormatError.truncated("CBOR array of \(argument) items at offset \(start), \(remaining) bytes left")
            }
            let inner = try enter(depth)
            var items: [CBORValue] = []
            items.reserveCapacity(Int(argument))
            for _ in 0..<argument { items.append(try readItem(depth: inner)) }
            return .array(items)
        case 5:
            guard argument <= UInt64(remaining) else {  // (a pair takes 2 bytes; the break check comes first)
                throw ContentFormatError.truncated("CBOR map of \(argument) entries at offset \(start), \(remaining) bytes left")
            }
            let inner = try enter(depth)
            var entries: [(CBORValue, CBORValue)] = []
            entries.reserveCapacity(Int(argument))
            var keys = Set<CBORValue>()
            for _ in 0..<argument {
                let keyOffset = position
                let key = try readItem(depth: inner)
                checkUnique(key, in: &keys, at: keyOffset)
                entries.append((key, try readItem(depth: inner)))
            }
            return .map(entries)
        case 6:
            let inner = try enter(depth)
            return .tagged(argument, try readItem(depth: inner))
        default:  // 7
            switch info {
            case 0...19: return .simple(info)
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: return .undefined
            case 24:
                guard argument >= 32 else {
                    throw ContentFormatError.malformed("two-byte CBOR simple value \(argument) (< 32) at offset \(start)")
                }
                return .simple(UInt8(argument))
            case 25: return .float(CBORFloat.double(fromHalf: UInt16(argument)))
            case 26: return .float(CBORFloat.double(fromSingle: UInt32(argument)))
            default: return .float(Double(bitPattern: argument))
            }
        }
    }

    /// The concatenated chunks of an indefinite-length byte or text string (the initial byte
    /// is already read). Each chunk must be a definite-length string of the same major type.
    private mutating func readChunks(major: UInt8) throws -> [UInt8] {
        var result: [UInt8] = []
        while true {
            let offset = position
            let initial = try readByte()
            if initial == 0xff { return result }
            try countItem()
            let info = initial & 0x1f
            guard initial >> 5 == major, info < 28 else {
                throw ContentFormatError.malformed(
                    "indefinite-length string chunk at offset \(offset) is not a definite-length string of major type \(major)")
            }
            let chunk = try readBytes(try readArgument(info))
            if major == 3 { _ = text(chunk, at: offset) }  // chunks hold whole characters
            result.append(contentsOf: chunk)
        }
    }

    private mutating func checkUnique(_ key: CBORValue, in keys: inout Set<CBORValue>, at offset: Int) {
        if validityError == nil, !keys.insert(key).inserted {
            invalid("duplicate CBOR map key \(key) at offset \(offset)")
        }
    }
}
