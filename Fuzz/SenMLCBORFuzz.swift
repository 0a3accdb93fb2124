@testable import CoAP
@testable import LwM2M

// libFuzzer target for the SenML CBOR content format (112) in Sources/LwM2M.
//
// Built and run by scripts/fuzz.sh (target senml-cbor), which links the CoAP and LwM2M sources as an
// instrumented libraries imported with @testable.
//
// Properties checked for every input:
//   * decoding (records with times, plain records, path lists) never traps and only throws
//     ContentFormatError;
//   * what `decode` accepts, `decodeTimestamped` accepts with the same records;
//   * decoded records (with and without resource types) re-encode under every base-name mode,
//     and decode again to records whose encoding is the same (compared through the encoding,
//     as a NaN float is not == itself);
//   * a decoded path list re-encodes and decodes to the same paths.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    // Untyped, typed by a made-up rule, and typed by the OMA schema the way the responder's
    // Write / Write-Composite decodes (PayloadCodec → SenMLCBOR.decode(types:)).
    for types in [{ (_: LwM2MPath) in nil } as (LwM2MPath) -> ResourceType?, senmlFuzzTypes, omaTypes] {
        let timed: [SenMLCBOR.TimestampedRecord]
        do {
            timed = try SenMLCBOR.decodeTimestamped(input, types: types)
        } catch is ContentFormatError {
            if (try? SenMLCBOR.decode(input, types: types)) != nil {
                fatalError("decode accepted what decodeTimestamped rejected")
            }
            continue
        } catch {
            fatalError("SenML CBOR decoder threw a foreign error: \(error)")
        }
        let encoded: [UInt8]
        do {
            encoded = try SenMLCBOR.encodeTimestamped(timed)
        } catch {
            fatalError("decoded SenML records do not re-encode: \(error) \(timed)")
        }
        guard let again = try? SenMLCBOR.decodeTimestamped(encoded, types: types), again.count == timed.count,
              (try? SenMLCBOR.encodeTimestamped(again)) == encoded
        else { fatalError("SenML round trip changed the records: \(timed)") }

        // Plain records: the same records when the paths are unique.
        do {
            let records = try SenMLCBOR.decode(input, types: types)
            guard records.count == timed.count else { fatalError("decode and decodeTimestamped disagree") }
            for base in [SenMLCBOR.BaseName.none, .commonPrefix, .path(.root),
                         .path(SenMLCBOR.commonPrefix(of: records.map(\.path)))] {
                guard let plain = try? SenMLCBOR.encode(records, base: base),
                      let back = try? SenMLCBOR.decode(plain, types: types),
                      (try? SenMLCBOR.encode(back, base: base)) == plain
                else { fatalError("SenML round trip with base \(base) changed the records: \(records)") }
            }
        } catch is ContentFormatError {
            // a history (repeated path): fine for decodeTimestamped only
        } catch {
            fatalError("SenML CBOR decoder threw a foreign error: \(error)")
        }
    }

    do {
        let paths = try SenMLCBOR.decodePaths(input)
        guard let encoded = try? SenMLCBOR.encodePaths(paths), (try? SenMLCBOR.decodePaths(encoded)) == paths else {
            fatalError("path list round trip failed: \(paths)")
        }
    } catch is ContentFormatError {
    } catch {
        fatalError("SenML CBOR path decoder threw a foreign error: \(error)")
    }
    return 0
}

/// The types the responder decodes with.
private func omaTypes(_ path: LwM2MPath) -> ResourceType? { ResourceSchema.oma.type(of: path) }

/// A deterministic type for each path, so typed decoding gets exercised too.
private func senmlFuzzTypes(_ path: LwM2MPath) -> ResourceType? {
    let all = ResourceType.allCases
    let index = (Int(path.resourceID ?? 0) &+ Int(path.resourceInstanceID ?? 0)) % (all.count + 1)
    return index == all.count ? nil : all[index]
}
