@testable import CoAP
@testable import LwM2M

// libFuzzer target for the LwM2M TLV codec (Sources/LwM2M/ContentFormats/TLVDecoder.swift, TLVEncoder.swift).
//
// Built and run by scripts/fuzz.sh (target tlv-decoder), which links the CoAP and LwM2M
// sources as an instrumented libraries imported with @testable.
//
// Input layout: byte 0 chooses the request path, the rest is the TLV payload.
//   bits 0–2 (mod 5): path depth 0–4 of /1000/0/r/1; bits 3–7: r (0–31); bit 2 also offers
//   an implicit instance ID 7 (Create on /o without an instance TLV).
// Every resource exists: its type is `types[r % 9]`, it is multiple when r % 4 == 1.
//
// Properties checked for every input:
//   * decoding never traps (ASan also catches out-of-bounds reads);
//   * decoded records are leaves below the path, without duplicates or the ID 65535;
//   * they re-encode without error, the encoding decodes to the same records (NaN compared
//     by bits), and re-encoding that gives the same bytes (the encoder is a fixed point);
//   * every decoded value that has a text/plain form survives text and back.

private let types: [ResourceType] = [.string, .opaque, .integer, .unsignedInteger, .float, .boolean, .time,
                                     .objectLink, .coreLink]
private func fuzzType(_ path: LwM2MPath) -> ResourceType? { types[Int(path.resourceID!) % types.count] }
private func fuzzMultiple(_ path: LwM2MPath) -> Bool { path.resourceID! % 4 == 1 }

private func sameValue(_ a: ResourceValue, _ b: ResourceValue) -> Bool {
    if case .float(let x) = a, case .float(let y) = b, x.isNaN || y.isNaN { return x.bitPattern == y.bitPattern }
    return a == b
}

private func sameRecords(_ lhs: [LwM2MRecord], _ rhs: [LwM2MRecord]) -> Bool {
    let left = lhs.sorted { $0.path < $1.path }, right = rhs.sorted { $0.path < $1.path }
    return left.count == right.count
        && zip(left, right).allSatisfy { $0.path == $1.path && sameValue($0.value, $1.value) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let selector = input[0]
    let depth = Int(selector & 0x07) % 5
    let ids: [UInt16] = [1000, 0, UInt16(selector >> 3), 1]
    var base = LwM2MPath.root
    for id in ids.prefix(depth) { base = base.appending(id) }
    let implicit: UInt16? = selector & 0x04 != 0 ? 7 : nil
    let payload = Array(input.dropFirst())

    let records: [LwM2MRecord]
    do {
        records = try TLV.decode(payload, base: base, implicitInstanceID: implicit, type: fuzzType,
                                 isMultiple: fuzzMultiple)
    } catch {
        _ = error.description
        return 0
    }

    var seen = Set<LwM2MPath>()
    for record in records {
        guard base.contains(record.path), record.path.depth >= 3, !record.path.ids.contains(65535),
              seen.insert(record.path).inserted
        else { fatalError("decoded record \(record) does not belong to \(base)") }
        _ = record.description
    }

    let encoded: [UInt8]
    do {
        encoded = try TLV.encode(records, base: base)
    } catch {
        fatalError("decoded records do not re-encode for \(base): \(error)")
    }
    let again: [LwM2MRecord]
    do {
        again = try TLV.decode(encoded, base: base, type: fuzzType, isMultiple: fuzzMultiple)
    } catch {
        fatalError("re-encoded payload does not decode for \(base): \(error)")
    }
    guard sameRecords(records, again) else { fatalError("round trip changed the records: \(records) -> \(again)") }
    guard (try? TLV.encode(again, base: base)) == encoded else { fatalError("encoder is not a fixed point") }

    for record in records {
        guard let text = try? PlainTextFormat.encode(record.value) else {
            if case .float(let number) = record.value, !number.isFinite { continue }
            fatalError("\(record) has no text form")
        }
        guard let back = try? PlainTextFormat.decodeValue(text, type: record.value.type, path: record.path),
              sameValue(back, record.value)
        else { fatalError("text round trip changed \(record)") }
    }
    return 0
}
