/// Plain CBOR (`application/cbor`, content format 60; LwM2M TS 1.1.1 §7.4.6): the value of one
/// resource or resource instance as a single CBOR data item (RFC 8949), typed by the resource's
/// definition. Static and sans-IO; the CBOR core is `CBORValue` (CBORDecoder / CBOREncoder).
///
/// | type             | written as                                 | read from                                     |
/// |------------------|--------------------------------------------|-----------------------------------------------|
/// | Integer          | major type 0 / 1, shortest head            | major type 0 / 1 within Int64                 |
/// | Unsigned Integer | major type 0                               | major type 0 (any head width, up to 2^64 − 1) |
/// | Float            | major type 7, shortest exact width         | half, single or double (finite), or an integer|
/// |                  | (half / single / double)                   | a double holds exactly                        |
/// | Boolean          | `true` / `false` (simple 21 / 20)          | the same                                      |
/// | String, Corelnk  | text string (major type 3)                 | text string, definite or indefinite           |
/// | Opaque           | byte string (major type 2)                 | byte string, definite or indefinite           |
/// | Time             | tag 1 (epoch seconds) around an integer    | an integer within Int64, tagged 1 or not, or  |
/// |                  |                                            | tag 1 around a float holding a whole second   |
/// | Objlnk           | text string `"oid:iid"`                    | the same, strictly (two decimal 16-bit IDs)   |
///
/// Anything else is refused with a `ContentFormatError` (the caller answers 4.00): not exactly
/// one well-formed, valid item (truncated, trailing bytes, bad UTF-8), an item of the wrong major
/// type for the resource (including null, undefined, other simple values, arrays and maps), a
/// number out of the type's range, NaN or ±∞ for a Float (as text/plain), and every tag except 1
/// on a Time — in particular decimal fractions and bigfloats (tags 4 / 5) and bignums (2 / 3),
/// which the single-value table does not list. No arithmetic is done on the numbers read: they
/// are compared and converted with checked, exact conversions only, so no input can trap (also
/// where `Int` is 32 bits).
///
/// Only a resource or resource-instance path can be carried (an object, instance or
/// multi-instance resource read is 4.06 Not Acceptable, as for text/plain).
public enum CBORSingleValueFormat {
    /// Decoding limits: one item, at most a tag around it; indefinite strings may have chunks.
    static let limits = CBORDecodingLimits(maxDepth: 4, maxItems: 65_536)

    /// Encodes the single record at `base` (a resource or resource-instance path). Anything else
    /// — several records, an object or instance path — is `.unsupported`.
    public static func encode(_ records: [LwM2MRecord], base: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        guard base.depth >= 3, records.count == 1, records[0].path == base else {
            throw .unsupported("application/cbor carries exactly one resource or resource instance value")
        }
        return try encode(records[0].value)
    }

    /// The CBOR bytes of one value.
    public static func encode(_ value: ResourceValue) throws(ContentFormatError) -> [UInt8] {
        do {
            return try item(for: value).encoded()
        } catch let error as ContentFormatError {
            throw error
        } catch {
            throw .unsupported("\(error)")
        }
    }

    /// The CBOR item for one value: the LwM2M CBOR leaf item, with a Time tagged as epoch seconds.
    static func item(for value: ResourceValue) -> CBORValue {
        if case .time(let seconds) = value { return .tagged(1, .integer(seconds)) }
        return CBORResourceCoding.item(for: value)
    }

    /// Decodes the value of the resource or resource instance `base`. `type` is asked with the
    /// resource path `/o/i/r` (also for an instance); nil → `.unknownResource`.
    public static func decode(_ bytes: [UInt8], base: LwM2MPath,
                              type: (LwM2MPath) -> ResourceType?) throws(ContentFormatError) -> [LwM2MRecord] {
        guard base.depth >= 3 else {
            throw .unsupported("application/cbor carries exactly one resource or resource instance value")
        }
        let resource = base.isResourceInstance ? base.parent : base
        guard let resourceType = type(resource) else { throw .unknownResource(resource) }
        return [LwM2MRecord(base, try decodeValue(bytes, type: resourceType, path: base))]
    }

    /// Decodes one value of `type` from exactly one CBOR item (`path` names it in errors).
    public static func decodeValue(_ bytes: [UInt8], type: ResourceType,
                                   path: LwM2MPath) throws(ContentFormatError) -> ResourceValue {
        let item: CBORValue
        do {
            item = try CBORValue(decoding: bytes, limits: limits)
        } catch let error as ContentFormatError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
        return try value(of: item, type: type, path: path)
    }

    /// The value of `type` an item stands for.
    static func value(of item: CBORValue, type: ResourceType,
                      path: LwM2MPath) throws(ContentFormatError) -> ResourceValue {
        let mismatch = ContentFormatError.typeMismatch(path, expected: type)
        switch (type, item) {
        case (.string, .text(let text)):
            return .string(text)
        case (.coreLink, .text(let text)):
            return .coreLink(text)
        case (.objectLink, .text(let text)):
            return try PlainTextFormat.decodeValue(Array(text.utf8), type: .objectLink, path: path)
        case (.opaque, .bytes(let bytes)):
            return .opaque(bytes)
        case (.boolean, .bool(let flag)):
            return .boolean(flag)
        case (.integer, _):
            guard let number = item.int64Value else { throw mismatch }
            return .integer(number)
        case (.unsignedInteger, .unsigned(let number)):
            return .unsignedInteger(number)
        case (.float, .float(let number)):
            guard number.isFinite else { throw mismatch }
            return .float(number)
        case (.float, .unsigned(let number)):
            guard let exact = Double(exactly: number) else { throw mismatch }
            return .float(exact)
        case (.float, .negative):
            guard let number = item.int64Value, let exact = Double(exactly: number) else { throw mismatch }
            return .float(exact)
        case (.time, .tagged(1, .float(let seconds))):
            guard let whole = Int64(exactly: seconds) else { throw mismatch }
            return .time(whole)
        case (.time, .tagged(1, let inner)):
            guard let number = inner.int64Value else { throw mismatch }
            return .time(number)
        case (.time, _):
            guard let number = item.int64Value else { throw mismatch }
            return .time(number)
        default:
            throw mismatch
        }
    }
}
