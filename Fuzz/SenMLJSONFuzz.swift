@testable import CoAP
@testable import LwM2M

// libFuzzer target for the JSON content formats: SenML JSON (110) and LwM2M JSON (11543),
// Sources/LwM2M/ContentFormats/SenMLJSON.swift and LwM2MJSON.swift with the JSON parser/writer and Base64.
//
//     scripts/fuzz.sh senml-json 60
//
// scripts/fuzz.sh builds the modules as instrumented libraries and this file against them (hence the
// `@testable import` above). By hand, compile the sources it needs as ONE module with this file
// (the rest of Sources/LwM2M and Sources/CoAP may be added):
//
//     swiftc -swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -g -module-name SenMLJSONFuzz \
//         Sources/LwM2M/ContentFormats/ContentFormatError.swift Sources/LwM2M/DataModel/LwM2MPath.swift \
//         Sources/LwM2M/DataModel/ResourceValue.swift Sources/LwM2M/DataModel/ResourceType.swift Sources/LwM2M/DataModel/ObjectLink.swift Sources/LwM2M/DataModel/LwM2MRecord.swift Sources/LwM2M/ContentFormats/JSON.swift Sources/LwM2M/ContentFormats/JSONParser.swift \
//         Sources/LwM2M/ContentFormats/JSONWriter.swift Sources/LwM2M/ContentFormats/Base64.swift Sources/LwM2M/ContentFormats/SenMLJSON.swift \
//         Sources/LwM2M/ContentFormats/LwM2MJSON.swift Fuzz/SenMLJSONFuzz.swift -o .build-fuzz/senml-json-fuzz -use-ld=lld
//
// Properties checked for every input, with a typed resolver (a type per resource ID) and without:
//   * decoding never traps;
//   * decoded records re-encode (request-path form and composite form) and decode to equal
//     records; decoded entries keep their times through a composite re-encoding;
//   * a payload accepted under a base path is accepted at the root with the same records;
//   * Read-Composite paths re-encode and decode to equal paths;
//   * LwM2M JSON: decoded records re-encode and decode to equal records.

private let fuzzTypes: [ResourceType] = [.string, .integer, .unsignedInteger, .float, .boolean, .opaque, .time,
                                         .objectLink, .coreLink, .none]

/// A deterministic type per resource ID; resource IDs ≥ 100 have no type information.
private func fuzzResolver(_ path: LwM2MPath) -> ResourceType? {
    guard let resource = path.resourceID, resource < 100 else { return nil }
    return fuzzTypes[Int(resource) % fuzzTypes.count]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func senMLJSONFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    _ = try? SenMLJSON.resolve(input)
    let resolvers: [SenMLJSON.TypeResolver] = [fuzzResolver, { _ in nil }]

    for resolver in resolvers {
        if let records = try? SenMLJSON.decode(input, resolver: resolver) {
            roundTripSenML(records, resolver: resolver)
            // The same payload under the base path of its first record's instance.
            if let first = records.first {
                let base = first.path.depth == 4 ? first.path.parent.parent : first.path.parent
                if let under = try? SenMLJSON.decode(input, basePath: base, resolver: resolver), under != records {
                    fatalError("decoding under \(base) changed the records")
                }
            }
        }
        if let entries = try? SenMLJSON.decodeEntries(input, resolver: resolver) {
            do {
                let again = try SenMLJSON.decodeEntries(SenMLJSON.encodeComposite(entries: entries), resolver: resolver)
                guard again == entries else { fatalError("entries changed through encodeComposite(entries:)") }
            } catch {
                fatalError("decoded entries do not round-trip: \(error)")
            }
        }
        if let records = try? LwM2MJSON.decode(input, resolver: resolver) {
            do {
                let again = try LwM2MJSON.decode(LwM2MJSON.encode(records, basePath: .root), resolver: resolver)
                guard again == records else { fatalError("LwM2M JSON round trip changed the records") }
            } catch {
                fatalError("decoded LwM2M JSON records do not round-trip: \(error)")
            }
        }
    }

    if let paths = try? SenMLJSON.decodePaths(input) {
        guard (try? SenMLJSON.decodePaths(SenMLJSON.encodePaths(paths))) == paths else {
            fatalError("composite paths do not round-trip")
        }
    }
    return 0
}

private func roundTripSenML(_ records: [LwM2MRecord], resolver: SenMLJSON.TypeResolver) {
    do {
        let plain = try SenMLJSON.decode(SenMLJSON.encode(records, basePath: .root), resolver: resolver)
        guard plain == records else { fatalError("SenML JSON round trip changed the records") }
        let composite = try SenMLJSON.decode(SenMLJSON.encodeComposite(records), resolver: resolver)
        guard composite == records else { fatalError("SenML JSON composite round trip changed the records") }
        for record in records { _ = record.description }
    } catch {
        fatalError("decoded SenML JSON records do not round-trip: \(error)")
    }
}
