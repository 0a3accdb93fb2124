@testable import CoAP
@testable import LwM2M

// libFuzzer target for the generic CBOR codec and the LwM2M CBOR content format (11544), both
// in Sources/LwM2M.
//
// Built and run by scripts/fuzz.sh (target cbor), which links the CoAP and LwM2M sources as an
// instrumented libraries imported with @testable.
//
// Properties checked for every input:
//   * decoding never traps (ASan also catches out-of-bounds reads of the input buffer), and a
//     rejected input throws a ContentFormatError;
//   * a decoded item re-encodes without error, that encoding decodes to an equal item (with an
//     equal hash), and re-encoding it gives the same bytes again (preferred serialization is a
//     fixed point);
//   * the diagnostic description never traps;
//   * interpreted as LwM2M CBOR (without and with resource types), whatever decodes re-encodes
//     (every compression mode) and decodes to records whose encoding is the same again.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    // Generic CBOR, with the default limits and with tight ones.
    let value: CBORValue
    do {
        value = try CBORValue(decoding: input)
    } catch is ContentFormatError {
        _ = try? CBORValue(decoding: input, limits: CBORDecodingLimits(maxDepth: 2, maxItems: 8))
        fuzzLwM2MCBOR(input)
        return 0
    } catch {
        fatalError("CBOR decoder threw a foreign error: \(error)")
    }
    let encoded: [UInt8]
    do {
        encoded = try value.encoded()
    } catch {
        fatalError("decoded item does not re-encode: \(error) \(value)")
    }
    let again: CBORValue
    do {
        again = try CBORValue(decoding: encoded)
    } catch {
        fatalError("re-encoded item does not decode: \(error)")
    }
    guard again == value, again.hashValue == value.hashValue else {
        fatalError("round trip changed the item: \(value) -> \(again)")
    }
    guard (try? again.encoded()) == encoded else { fatalError("preferred serialization is not a fixed point") }
    _ = value.description

    fuzzLwM2MCBOR(input)
    return 0
}

/// A deterministic type for each path, so typed decoding paths get exercised too.
private func fuzzTypes(_ path: LwM2MPath) -> ResourceType? {
    let all = ResourceType.allCases
    let index = (Int(path.resourceID ?? 0) &+ Int(path.resourceInstanceID ?? 0)) % (all.count + 1)
    return index == all.count ? nil : all[index]
}

private func fuzzLwM2MCBOR(_ input: [UInt8]) {
    for types in [{ (_: LwM2MPath) in nil } as (LwM2MPath) -> ResourceType?, fuzzTypes] {
        let records: [LwM2MRecord]
        do {
            records = try LwM2MCBOR.decode(input, types: types)
        } catch is ContentFormatError {
            continue
        } catch {
            fatalError("LwM2M CBOR decoder threw a foreign error: \(error)")
        }
        for compression in [LwM2MCBOR.PathCompression.none, .commonPrefix, .full] {
            let encoded: [UInt8]
            do {
                encoded = try LwM2MCBOR.encode(records, compression: compression)
            } catch {
                fatalError("decoded LwM2M CBOR records do not re-encode: \(error) \(records)")
            }
            // Compare through the encoding: a NaN float is not == itself.
            guard let again = try? LwM2MCBOR.decode(encoded, types: types), again.count == records.count,
                  (try? LwM2MCBOR.encode(again, compression: compression)) == encoded
            else { fatalError("LwM2M CBOR round trip changed the records: \(records)") }
        }
    }
}
