import CoAP

/// One entry point for every LwM2M content format: encode records for a response, decode a
/// request payload, and pick the response format from an Accept option.
public enum PayloadCodec {
    /// Formats we can produce for an object, instance or resource read, in order of preference
    /// when the server states none (TLV is understood by every LwM2M 1.0/1.1 server).
    public static let hierarchicalFormats: [UInt16] = [
        ContentFormat.lwm2mTLV, ContentFormat.senmlCBOR, ContentFormat.senmlJSON,
        ContentFormat.lwm2mCBOR, ContentFormat.lwm2mJSON,
    ]

    /// Formats that carry exactly one resource or resource-instance value: text, opaque and
    /// plain CBOR. Readable and writable, never chosen without an Accept other than text/opaque
    /// (`responseFormat`), never used for composite operations, Send or notifications of more
    /// than one value.
    public static let singleValueFormats: [UInt16] = [
        ContentFormat.textPlain, ContentFormat.octetStream, ContentFormat.cbor,
    ]

    /// Whether `format` can carry the records at `base` (text, opaque and plain CBOR need one
    /// resource value).
    public static func canEncode(_ format: UInt16, base: LwM2MPath, type: ResourceType?) -> Bool {
        switch format {
        case ContentFormat.textPlain: base.depth >= 3 && type != .opaque
        case ContentFormat.octetStream: base.depth >= 3 && type == .opaque
        case ContentFormat.cbor: base.depth >= 3
        default: hierarchicalFormats.contains(format)
        }
    }

    /// The format to answer a read of `base` with: the Accept option if we can produce it
    /// (`nil` → 4.06 Not Acceptable), otherwise text/opaque for a single value and TLV for
    /// anything larger.
    public static func responseFormat(accept: UInt16?, base: LwM2MPath, schema: ResourceSchema,
                                      singleValue: Bool) -> UInt16? {
        let type = schema.type(of: base)
        if let accept { return canEncode(accept, base: base, type: type) ? accept : nil }
        if singleValue, base.depth >= 3 { return type == .opaque ? ContentFormat.octetStream : ContentFormat.textPlain }
        return ContentFormat.lwm2mTLV
    }

    /// Encodes `records` (leaves at or below `base`) in `format`.
    public static func encode(_ records: [LwM2MRecord], base: LwM2MPath, format: UInt16)
        throws(ContentFormatError) -> [UInt8]
    {
        switch format {
        case ContentFormat.lwm2mTLV: return try TLV.encode(records, base: base)
        case ContentFormat.senmlJSON: return try SenMLJSON.encode(records, basePath: base)
        case ContentFormat.lwm2mJSON: return try LwM2MJSON.encode(records, basePath: base)
        case ContentFormat.textPlain: return try PlainTextFormat.encode(records, base: base)
        case ContentFormat.octetStream: return try OpaqueFormat.encode(records, base: base)
        case ContentFormat.cbor: return try CBORSingleValueFormat.encode(records, base: base)
        case ContentFormat.senmlCBOR: return try typed { try SenMLCBOR.encode(records, base: .path(base)) }
        case ContentFormat.lwm2mCBOR: return try typed { try LwM2MCBOR.encode(records, basePath: base) }
        default: throw .unsupported("content format \(format)")
        }
    }

    /// Decodes a payload written to `base` in `format`, typing values with `schema`.
    public static func decode(_ payload: [UInt8], base: LwM2MPath, format: UInt16, schema: ResourceSchema,
                              implicitInstanceID: UInt16? = nil) throws(ContentFormatError) -> [LwM2MRecord] {
        let type = { (path: LwM2MPath) in schema.type(of: path) }
        switch format {
        case ContentFormat.lwm2mTLV:
            return try TLV.decode(payload, base: base, implicitInstanceID: implicitInstanceID, type: type,
                                  isMultiple: { schema.isMultiple($0) })
        case ContentFormat.senmlJSON: return try SenMLJSON.decode(payload, basePath: base, resolver: type)
        case ContentFormat.lwm2mJSON: return try LwM2MJSON.decode(payload, basePath: base, resolver: type)
        case ContentFormat.textPlain: return try PlainTextFormat.decode(payload, base: base, type: type)
        case ContentFormat.octetStream: return try OpaqueFormat.decode(payload, base: base, type: type)
        case ContentFormat.cbor: return try CBORSingleValueFormat.decode(payload, base: base, type: type)
        case ContentFormat.senmlCBOR: return try typed { try SenMLCBOR.decode(payload, under: base, types: type) }
        case ContentFormat.lwm2mCBOR: return try typed { try LwM2MCBOR.decode(payload, under: base, types: type) }
        default: throw .unsupported("content format \(format)")
        }
    }

    /// Runs a CBOR codec call (untyped throws) and keeps its `ContentFormatError`.
    private static func typed<T>(_ body: () throws -> T) throws(ContentFormatError) -> T {
        do {
            return try body()
        } catch let error as ContentFormatError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }
}
