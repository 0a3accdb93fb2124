/// A strict RFC 8259 JSON parser with limits, for untrusted payloads. It never traps: every
/// failure is a `ContentFormatError`.
///
/// Decisions where RFC 8259 leaves a choice (each is tested in `JSONTests`):
///   * any value may be the top-level value (`"x"`, `2`, `null`), surrounded by whitespace
///     (space, tab, LF, CR only); nothing may follow it;
///   * the input must be UTF-8 (§8.1); invalid UTF-8 in a string (overlong forms, encoded
///     surrogates, code points above U+10FFFF, stray continuation bytes) is `malformed`;
///     a byte order mark is refused (§8.1 allows ignoring it; CoAP payloads never carry one);
///   * `\uXXXX` escapes must form scalars: a lone or reversed surrogate is `malformed` (§8.2
///     leaves it unpredictable); `\u0000` is accepted;
///   * numbers follow the §6 grammar exactly (no `+1`, `.5`, `1.`, `01`, `NaN`, `Infinity`, hex);
///     a number whose magnitude overflows a Double (`1e400`) is refused (`malformed`), while
///     underflow (`1e-400`) is accepted as written (it reads as 0.0 as a Double);
///   * duplicate object keys are kept in order (§4: "SHOULD be unique"; the content formats
///     decide);
///   * a prefix of a valid text that ends too early (`[1,`, `"ab`, `tru`, `-`, `1.`) is
///     `truncated`; anything else invalid is `malformed`.
public struct JSONParser {
    /// Bounds on untrusted input.
    public struct Limits: Hashable, Sendable {
        /// Deepest nesting of arrays and objects (`[]` is depth 1); clamped to 1...512.
        public var maxDepth: Int
        /// Largest input in bytes.
        public var maxInputBytes: Int
        /// Most values in the document (every scalar, array and object counts one).
        public var maxValues: Int
        /// Longest number literal in characters.
        public var maxNumberLength: Int

        public init(maxDepth: Int = 16, maxInputBytes: Int = 1 << 20, maxValues: Int = 65_536,
                    maxNumberLength: Int = 256) {
            self.maxDepth = min(max(maxDepth, 1), 512)
            self.maxInputBytes = max(maxInputBytes, 0)
            self.maxValues = max(maxValues, 1)
            self.maxNumberLength = max(maxNumberLength, 1)
        }

        public static let `default` = Limits()
    }

    /// Parses one JSON text.
    public static func parse(_ bytes: [UInt8], limits: Limits = .default) throws(ContentFormatError) -> JSONValue {
        guard bytes.count <= limits.maxInputBytes else {
            throw .tooLarge("JSON text of \(bytes.count) bytes (limit \(limits.maxInputBytes))")
        }
        var parser = JSONParser(bytes: bytes, limits: limits)
        return try parser.parseDocument()
    }

    /// Parses one JSON text given as a Swift string (its UTF-8 form).
    public static func parse(_ text: String, limits: Limits = .default) throws(ContentFormatError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var index = 0
    private var depth = 0
    private var values = 0

    private init(bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    private mutating func parseDocument() throws(ContentFormatError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw .malformed("byte order mark before the JSON text") }
        skipWhitespace()
        guard index < bytes.count else { throw .truncated("empty JSON text") }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw .malformed("unexpected data after the JSON value at offset \(index)") }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func countValue() throws(ContentFormatError) {
        values += 1
        if values > limits.maxValues { throw .tooLarge("more than \(limits.maxValues) JSON values") }
    }

    private mutating func parseValue() throws(ContentFormatError) -> JSONValue {
        guard index < bytes.count else { throw .truncated("JSON value expected at offset \(index)") }
        try countValue()
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw .malformed("unexpected byte 0x\(hex(bytes[index])) at offset \(index)")
        }
    }

    private mutating func parseLiteral(_ word: String) throws(ContentFormatError) {
        for byte in word.utf8 {
            guard index < bytes.count else { throw .truncated("literal \(word) cut short") }
            guard bytes[index] == byte else { throw .malformed("invalid literal at offset \(index)") }
            index += 1
        }
    }

    private mutating func enter() throws(ContentFormatError) {
        depth += 1
        if depth > limits.maxDepth { throw .nestingTooDeep }
    }

    private mutating func parseArray() throws(ContentFormatError) -> JSONValue {
        try enter()
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        guard index < bytes.count else { throw .truncated("array not closed") }
        if bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw .truncated("array not closed") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
                guard index < bytes.count else { throw .truncated("array element expected") }
                if bytes[index] == UInt8(ascii: "]") { throw .malformed("trailing comma in array at offset \(index)") }
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw .malformed("expected ',' or ']' at offset \(index)")
            }
        }
    }

    private mutating func parseObject() throws(ContentFormatError) -> JSONValue {
        try enter()
        index += 1  // {
        var members: [(String, JSONValue)] = []
        skipWhitespace()
        guard index < bytes.count else { throw .truncated("object not closed") }
        if bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw .truncated("object member expected") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                if bytes[index] == UInt8(ascii: "}") { throw .malformed("trailing comma in object at offset \(index)") }
                throw .malformed("object key must be a string at offset \(index)")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count else { throw .truncated("':' expected") }
            guard bytes[index] == UInt8(ascii: ":") else { throw .malformed("expected ':' at offset \(index)") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw .truncated("object not closed") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            default:
                throw .malformed("expected ',' or '}' at offset \(index)")
            }
        }
    }

    private mutating func parseString() throws(ContentFormatError) -> String {
        let start = index
        index += 1  // opening quote
        // Fast path: no escapes, no control characters.
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            guard let string = String(validating: bytes[index..<end], as: UTF8.self) else {
                throw .malformed("invalid UTF-8 in string starting at offset \(start)")
            }
            index = end + 1
            return string
        }
        var buffer: [UInt8] = []
        while true {
            guard index < bytes.count else { throw .truncated("string starting at offset \(start) not closed") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                // Escapes always produce complete scalars that start with a non-continuation
                // byte, so validating the whole buffer also validates every raw run in it.
                guard let string = String(validating: buffer, as: UTF8.self) else {
                    throw .malformed("invalid UTF-8 in string starting at offset \(start)")
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw .truncated("escape cut short") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    appendUTF8(scalar, to: &buffer)
                default:
                    throw .malformed("invalid escape '\\\(Character(Unicode.Scalar(escape)))' at offset \(index - 2)")
                }
            case 0x00..<0x20:
                throw .malformed("unescaped control character 0x\(hex(byte)) in string at offset \(index)")
            default:
                buffer.append(byte)
                index += 1
            }
        }
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` for a high surrogate.
    private mutating func parseUnicodeEscape() throws(ContentFormatError) -> UInt32 {
        let first = try parseHex4()
        switch first {
        case 0xD800...0xDBFF:
            guard index < bytes.count else { throw .truncated("surrogate pair cut short") }
            guard bytes[index] == UInt8(ascii: "\\") else { throw .malformed("lone high surrogate at offset \(index)") }
            guard index + 1 < bytes.count else { throw .truncated("surrogate pair cut short") }
            guard bytes[index + 1] == UInt8(ascii: "u") else {
                throw .malformed("lone high surrogate at offset \(index)")
            }
            index += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw .malformed("high surrogate not followed by a low surrogate at offset \(index - 6)")
            }
            return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        case 0xDC00...0xDFFF:
            throw .malformed("lone low surrogate at offset \(index - 6)")
        default:
            return first
        }
    }

    private mutating func parseHex4() throws(ContentFormatError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw .truncated("\\u escape cut short") }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw .malformed("invalid hex digit in \\u escape at offset \(index)")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | (scalar >> 6)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | (scalar >> 12)))
            buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            buffer.append(UInt8(0xF0 | ((scalar >> 18) & 0x07)))
            buffer.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    private mutating func parseNumber() throws(ContentFormatError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        try requireDigit(after: "'-'")
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, JSONNumber.isDigit(bytes[index]) {
                throw .malformed("leading zero in number at offset \(start)")
            }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            try requireDigit(after: "'.'")
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try requireDigit(after: "the exponent mark")
            skipDigits()
        }
        let length = index - start
        guard length <= limits.maxNumberLength else {
            throw .tooLarge("number literal of \(length) characters at offset \(start)")
        }
        // Only ASCII digits and signs: always valid UTF-8.
        let literal = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(literal), value.isFinite else {
            throw .malformed("number \(literal) is out of range at offset \(start)")
        }
        return JSONNumber(validatedLiteral: literal)
    }

    private mutating func requireDigit(after what: String) throws(ContentFormatError) {
        guard index < bytes.count else { throw .truncated("number cut short after \(what)") }
        guard JSONNumber.isDigit(bytes[index]) else { throw .malformed("digit expected after \(what) at offset \(index)") }
    }

    private mutating func skipDigits() {
        while index < bytes.count, JSONNumber.isDigit(bytes[index]) { index += 1 }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
