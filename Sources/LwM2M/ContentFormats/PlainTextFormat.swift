/// The LwM2M plain text content format (`text/plain`, content format 0; TS 1.1 §7.4.1): the
/// value of one resource or resource instance as UTF-8 text. Static and sans-IO.
///
/// | type             | text                                                                    |
/// |------------------|-------------------------------------------------------------------------|
/// | String, Corelnk  | the text itself (must be valid UTF-8 on read)                            |
/// | Integer, Time    | decimal, optional sign: `-42`, `1367491215`                              |
/// | Unsigned Integer | decimal: `18446744073709551615`                                          |
/// | Float            | decimal with optional fraction and exponent; written as Swift's shortest |
/// |                  | round-trip form (`3.14`, `1e-05`, `1.0`); ±∞ and NaN cannot be written    |
/// |                  | (`.unsupported`) or read                                                 |
/// | Boolean          | `0` or `1`                                                               |
/// | Objlnk           | `object:instance`, two decimal 16-bit numbers: `3:0`                      |
/// | Opaque           | base64 (RFC 4648 §4, standard alphabet, padded; TS 1.1 Appendix C);      |
/// |                  | read strictly (`Base64.decode`, padding required, canonical)             |
///
/// Reading is strict: no surrounding whitespace, no hexadecimal, no `inf`/`nan`, numbers must fit
/// their type; anything else is `.typeMismatch`.
public enum PlainTextFormat {
    /// Encodes the single record at `base` (a resource or resource-instance path). Anything else
    /// — several records, an object or instance path — is `.unsupported` (text/plain carries one
    /// value; the caller answers 4.06 Not Acceptable).
    public static func encode(_ records: [LwM2MRecord], base: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        guard base.depth >= 3, records.count == 1, records[0].path == base else {
            throw .unsupported("text/plain carries exactly one resource or resource instance value")
        }
        return try encode(records[0].value)
    }

    /// The text of one value.
    public static func encode(_ value: ResourceValue) throws(ContentFormatError) -> [UInt8] {
        switch value {
        case .string(let text), .coreLink(let text):
            return Array(text.utf8)
        case .integer(let number), .time(let number):
            return Array(String(number).utf8)
        case .unsignedInteger(let number):
            return Array(String(number).utf8)
        case .float(let number):
            guard number.isFinite else { throw .unsupported("\(number) has no plain text form") }
            return Array(number.description.utf8)
        case .boolean(let flag):
            return [flag ? UInt8(ascii: "1") : UInt8(ascii: "0")]
        case .objectLink(let link):
            return Array("\(link.objectID):\(link.instanceID)".utf8)
        case .opaque(let bytes):
            return Array(Base64.encode(bytes, alphabet: .standard, padded: true).utf8)
        }
    }

    /// Decodes the value of the resource or resource instance `base`. `type` is asked with the
    /// resource path `/o/i/r` (also for an instance); nil → `.unknownResource`.
    public static func decode(_ bytes: [UInt8], base: LwM2MPath,
                              type: (LwM2MPath) -> ResourceType?) throws(ContentFormatError) -> [LwM2MRecord] {
        guard base.depth >= 3 else {
            throw .unsupported("text/plain carries exactly one resource or resource instance value")
        }
        let resource = base.isResourceInstance ? base.parent : base
        guard let resourceType = type(resource) else { throw .unknownResource(resource) }
        return [LwM2MRecord(base, try decodeValue(bytes, type: resourceType, path: base))]
    }

    /// Decodes one value of `type` (`path` names it in errors).
    public static func decodeValue(_ bytes: [UInt8], type: ResourceType,
                                   path: LwM2MPath) throws(ContentFormatError) -> ResourceValue {
        let mismatch = ContentFormatError.typeMismatch(path, expected: type)
        if type == .opaque {
            guard let data = Base64.decode(bytes, alphabet: .standard, padding: .required) else { throw mismatch }
            return .opaque(data)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw mismatch }
        switch type {
        case .string:
            return .string(text)
        case .coreLink:
            return .coreLink(text)
        case .integer, .time:
            guard isDecimalInteger(bytes, allowSign: true), let number = Int64(text) else { throw mismatch }
            return type == .time ? .time(number) : .integer(number)
        case .unsignedInteger:
            guard isDecimalInteger(bytes, allowSign: false), let number = UInt64(text) else { throw mismatch }
            return .unsignedInteger(number)
        case .float:
            guard isDecimalFloat(bytes), let number = Double(text), number.isFinite else { throw mismatch }
            return .float(number)
        case .boolean:
            switch text {
            case "0": return .boolean(false)
            case "1": return .boolean(true)
            default: throw mismatch
            }
        case .objectLink:
            let parts = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard parts.count == 2, isDecimalInteger(parts[0], allowSign: false),
                  isDecimalInteger(parts[1], allowSign: false),
                  let object = UInt16(String(decoding: parts[0], as: UTF8.self)),
                  let instance = UInt16(String(decoding: parts[1], as: UTF8.self)) else { throw mismatch }
            return .objectLink(ObjectLink(objectID: object, instanceID: instance))
        case .opaque, .none:
            throw mismatch
        }
    }

    // MARK: - Grammar checks (Swift's own parsers accept more: "+5", "0x1p3", "inf", "nan")

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `[-]digits` (sign only when `allowSign`), at most 20 digits so the parse cannot be slow.
    private static func isDecimalInteger(_ bytes: some Collection<UInt8>, allowSign: Bool) -> Bool {
        var digits = bytes[...]
        if allowSign, digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.count <= 20 && digits.allSatisfy(isDigit)
    }

    /// `[-]digits[.digits][(e|E)[+|-]digits]`, at most 400 characters.
    private static func isDecimalFloat(_ bytes: [UInt8]) -> Bool {
        guard bytes.count <= 400 else { return false }
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }
}
