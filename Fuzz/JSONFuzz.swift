@testable import CoAP
@testable import LwM2M

// libFuzzer target for the strict JSON parser and writer (Sources/LwM2M/ContentFormats/JSON*.swift).
//
//     scripts/fuzz.sh json 60
//
// scripts/fuzz.sh builds the modules as instrumented libraries and this file against them (hence the
// `@testable import` above). By hand, compile the sources it needs as ONE module with this file
// (the rest of Sources/LwM2M and Sources/CoAP may be added):
//
//     swiftc -swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -g -module-name JSONFuzz \
//         Sources/LwM2M/ContentFormats/ContentFormatError.swift Sources/LwM2M/DataModel/LwM2MPath.swift \
//         Sources/LwM2M/DataModel/ResourceValue.swift Sources/LwM2M/DataModel/ResourceType.swift Sources/LwM2M/DataModel/ObjectLink.swift Sources/LwM2M/DataModel/LwM2MRecord.swift Sources/LwM2M/ContentFormats/JSON.swift Sources/LwM2M/ContentFormats/JSONParser.swift \
//         Sources/LwM2M/ContentFormats/JSONWriter.swift Fuzz/JSONFuzz.swift -o .build-fuzz/json-fuzz -use-ld=lld
//
// Properties checked for every input:
//   * parsing never traps (ASan also catches out-of-bounds reads);
//   * an accepted document re-serialises to compact text that parses to an equal value and
//     re-serialises byte for byte identically (the writer is canonical for parsed values);
//   * every number's literal is valid on its own and its accessors are total, with exact
//     integers agreeing with the Double value's sign;
//   * tighter limits never accept more: they give the same value or fail with
//     nestingTooDeep/tooLarge.

@_cdecl("LLVMFuzzerTestOneInput")
public func jsonFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    let value: JSONValue
    do {
        value = try JSONParser.parse(input)
    } catch {
        _ = error.description
        // Tighter limits must refuse as well.
        if (try? JSONParser.parse(input, limits: JSONParser.Limits(maxDepth: 3, maxValues: 32))) != nil {
            fatalError("tight limits accepted what the default limits refused")
        }
        return 0
    }

    let written = JSONWriter.bytes(value)
    let again: JSONValue
    do {
        again = try JSONParser.parse(written)
    } catch {
        fatalError("writer output does not parse: \(error)")
    }
    guard again == value else { fatalError("round trip changed the value") }
    guard JSONWriter.bytes(again) == written else { fatalError("writer is not canonical") }
    guard JSONWriter.string(value) == value.description else { fatalError("description differs from the writer") }

    checkNumbers(value)

    do {
        let tight = try JSONParser.parse(input, limits: JSONParser.Limits(maxDepth: 3, maxValues: 32))
        guard tight == value else { fatalError("tight limits changed the value") }
    } catch .nestingTooDeep {
    } catch .tooLarge {
    } catch {
        fatalError("tight limits failed differently: \(error)")
    }
    return 0
}

private func checkNumbers(_ value: JSONValue) {
    switch value {
    case .number(let number):
        guard JSONNumber(literal: number.literal) == number else { fatalError("number literal \(number) invalid") }
        let double = number.doubleValue
        guard double.isFinite else { fatalError("non-finite number \(number)") }
        if let exact = number.int64Value, exact != 0, (exact < 0) != (double < 0) {
            fatalError("Int64 \(exact) disagrees with Double \(double)")
        }
        if let exact = number.uint64Value, exact != 0, double <= 0 {
            fatalError("UInt64 \(exact) disagrees with Double \(double)")
        }
        if let exact = number.int64Value, let unsigned = number.uint64Value, exact >= 0, UInt64(exact) != unsigned {
            fatalError("Int64 and UInt64 disagree for \(number)")
        }
    case .array(let elements):
        for element in elements { checkNumbers(element) }
    case .object(let members):
        for (_, member) in members { checkNumbers(member) }
    default:
        break
    }
}
