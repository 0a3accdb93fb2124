@testable import CoAP
@testable import LwM2M

// libFuzzer target for the CoRE Link Format codec (Sources/LwM2M/ContentFormats/LinkFormat.swift).
//
// Built and run by scripts/fuzz.sh (target link-format), which links the CoAP and LwM2M
// sources as an instrumented libraries imported with @testable.
//
// Properties checked for every input (the whole input is the payload):
//   * decoding never traps;
//   * a decoded payload re-encodes without error, the encoding decodes to the same entries, and
//     encoding those gives the same bytes (the encoder is a fixed point);
//   * the accessors used by the agent (path, attribute lookup, description) never trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLinkFormat(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let entries: [LinkEntry]
    do {
        entries = try LinkFormat.decode(input)
    } catch {
        _ = error.description
        return 0
    }

    let encoded: [UInt8]
    do {
        encoded = try LinkFormat.encode(entries)
    } catch {
        fatalError("decoded entries do not re-encode: \(error)")
    }
    let again: [LinkEntry]
    do {
        again = try LinkFormat.decode(encoded)
    } catch {
        fatalError("re-encoded payload does not decode: \(error)")
    }
    guard again == entries else { fatalError("round trip changed the entries: \(entries) -> \(again)") }
    guard (try? LinkFormat.encode(again)) == encoded else { fatalError("encoder is not a fixed point") }

    for entry in entries {
        _ = entry.path
        _ = entry.description
        for attribute in entry.attributes {
            _ = entry.attribute(attribute.name)
            _ = attribute.description
        }
    }
    return 0
}
