@testable import CoAP
@testable import LwM2M

// libFuzzer target for what the responder does with a Write / Create / Write-Composite payload:
// `PayloadCodec.decode` in every content format it accepts, typed by the OMA object schema
// (Security, Server, Access Control, Device, Connectivity Monitoring, Firmware Update, Location,
// Connectivity Statistics, Portfolio … ResourceSchema.oma), under a request path.
//
// Built and run by scripts/fuzz.sh (target payload-codec). Input layout:
//   byte 0      the content format: index into `formats` (modulo its size)
//   byte 1      the request path: index into `bases` (modulo its size); bit 7 asks for an implicit
//               instance ID 0 (TLV Create without an instance TLV)
//   bytes 2...  the payload
//
// Properties checked for every input:
//   * decoding never traps and throws only ContentFormatError (typed throws enforce the type);
//   * decoded records are leaves (resource or resource instance) at or below the request path;
//   * every decoded value has the type the schema gives its resource;
//   * the records re-encode in the same format (a format that cannot carry them, e.g. text/plain
//     for several, is skipped) and decode again to records with the same encoding (NaN-safe).

private let formats: [UInt16] = [
    ContentFormat.textPlain, ContentFormat.octetStream, ContentFormat.lwm2mTLV, ContentFormat.senmlJSON,
    ContentFormat.senmlCBOR, ContentFormat.lwm2mJSON, ContentFormat.lwm2mCBOR, ContentFormat.cbor,
]

private let bases: [LwM2MPath] = [
    LwM2MPath(3, 0, 14), LwM2MPath(3, 0, 13), LwM2MPath(3, 0), LwM2MPath(3), .root, LwM2MPath(1, 0, 1),
    LwM2MPath(1, 0), LwM2MPath(1), LwM2MPath(0, 1), LwM2MPath(2, 0), LwM2MPath(3, 0, 6, 0), LwM2MPath(3, 0, 6),
    LwM2MPath(4, 0), LwM2MPath(5, 0, 0), LwM2MPath(6, 0, 0), LwM2MPath(6, 0), LwM2MPath(7, 0), LwM2MPath(1, 0, 2),
    LwM2MPath(3, 0, 0), LwM2MPath(0, 1, 5), LwM2MPath(2, 0, 2, 1), LwM2MPath(1, 0, 7),
]

private let schema = ResourceSchema.oma

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayloadCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let format = formats[Int(input[0]) % formats.count]
    let base = bases[Int(input[1] & 0x7f) % bases.count]
    let implicit: UInt16? = input[1] & 0x80 != 0 ? 0 : nil
    let payload = Array(input.dropFirst(2))

    let records: [LwM2MRecord]
    do {
        records = try PayloadCodec.decode(payload, base: base, format: format, schema: schema,
                                          implicitInstanceID: implicit)
    } catch {
        return 0  // ContentFormatError by the signature
    }
    for record in records {
        guard record.path.depth >= 3, base.contains(record.path) || implicit != nil else {
            fatalError("decoded record \(record.path) is not a leaf under \(base)")
        }
        let resource = record.path.isResourceInstance ? record.path.parent : record.path
        if let type = schema.type(of: resource), type != record.value.type {
            fatalError("\(record.path) decoded as \(record.value.type), the schema says \(type)")
        }
    }
    guard !records.isEmpty else { return 0 }
    let encoded: [UInt8]
    do {
        encoded = try PayloadCodec.encode(records, base: base, format: format)
    } catch {
        return 0  // e.g. a TLV Create with an implicit instance, or plain text of a multiple resource
    }
    guard let again = try? PayloadCodec.decode(encoded, base: base, format: format, schema: schema),
          again.count == records.count,
          (try? PayloadCodec.encode(again, base: base, format: format)) == encoded
    else { fatalError("format \(format) round trip under \(base) changed the records: \(records)") }
    return 0
}
