@testable import CoAP
@testable import LwM2M

// libFuzzer target for the small text parsers a peer reaches: CoAP URIs (a bootstrap server
// writes them to /0/x/0), Uri-Query attribute lists (Write-Attributes), Execute arguments,
// LwM2M paths, object links, text/plain values of every type, base64, and CoAP uint option
// values as Block1/Block2 values.
//
// Built and run by scripts/fuzz.sh (target uri-query). The whole input goes to every parser
// (each is cheap); for the query, it is split at "&" as the Uri-Query options would be.
//
// Properties checked for every input:
//   * nothing traps (overflow, narrowing conversions, NaN/inf → Int, index arithmetic);
//   * a parsed URI has a port and one option per path segment and query item;
//   * parsed attributes validate or are refused with .badRequest, apply to any set and print
//     as link-format attributes whose values parse back to the same numbers;
//   * a text/plain value re-encodes and decodes to the same value;
//   * a parsed path or object link prints to text that parses back to it;
//   * a Block value's offset and size are computed without overflow, also on 32 bits.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzURIQuery(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: input, as: UTF8.self)

    if let uri = try? CoAPURI(text) {
        // (Its description does not percent-encode, so it is not a parse round trip.)
        guard uri.port != 0, uri.options.count == uri.pathSegments.count + uri.queryItems.count else {
            fatalError("URI \(uri) has port 0 or lost options")
        }
    }

    let query = text.split(separator: "&", omittingEmptySubsequences: false).map(String.init)
    if let changes = try? AttributeChanges(query: query) {
        let applied = changes.applied(to: NotificationAttributes(pmin: 1, pmax: 2, gt: 3, lt: -3, st: 1, epmin: 0))
        try? applied.validate()
        for attribute in applied.linkAttributes {
            guard let value = attribute.value, let number = AttributeChanges.number(Substring(value)),
                  let name = NotificationAttributeName(rawValue: attribute.name), applied[name] == number
            else { fatalError("attribute \(attribute) does not print back to its number") }
        }
        _ = applied.effectivePmax
    }

    if let arguments = try? ExecuteArgument.parse(input) {
        guard arguments.allSatisfy({ $0.id <= 9 }) else { fatalError("Execute argument ID above 9") }
    }

    if let path = LwM2MPath(text) {
        guard LwM2MPath(path.description) == path else { fatalError("path \(path) does not print back") }
    }
    if let link = ObjectLink(text) {
        guard ObjectLink(link.description) == link else { fatalError("object link \(link) does not print back") }
    }
    _ = Base64.decodeEitherAlphabet(text)

    for type in ResourceType.allCases {
        let path = LwM2MPath(3, 0, 14)
        guard let value = try? PlainTextFormat.decodeValue(input, type: type, path: path) else { continue }
        guard let encoded = try? PlainTextFormat.encode(value),
              let back = try? PlainTextFormat.decodeValue(encoded, type: type, path: path),
              (try? PlainTextFormat.encode(back)) == encoded
        else { fatalError("text/plain \(type) value \(value) does not round-trip") }
    }

    if let raw = decodeUInt(input), let block = BlockValue(rawValue: raw) {
        let (end, overflow) = block.offset.addingReportingOverflow(block.size)
        guard !overflow, end > 0, BlockValue(rawValue: block.rawValue) == block else {
            fatalError("Block value \(raw) gives offset \(block.offset) size \(block.size)")
        }
    }
    return 0
}
