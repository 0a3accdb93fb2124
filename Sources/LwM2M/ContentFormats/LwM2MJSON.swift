/// The legacy OMA LwM2M JSON format, content format 11543 `application/vnd.oma.lwm2m+json`
/// (TS 1.0 §6.4.4; kept in TS 1.1 for 1.0 servers):
///
///     {"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"7/0","v":3800},
///                        {"n":"x","bv":true},{"n":"y","ov":"3:0"}]}
///
/// | ResourceValue            | key  | JSON                                      |
/// |--------------------------|------|-------------------------------------------|
/// | integer, unsigned, time  | `v`  | number, exact                             |
/// | float                    | `v`  | shortest round-trip                       |
/// | string, coreLink         | `sv` | string                                    |
/// | opaque                   | `sv` | base64 with padding (TS 1.0 §6.4.4 table) |
/// | boolean                  | `bv` | `true` / `false`                          |
/// | objectLink               | `ov` | `"3:0"`                                   |
///
/// Encoding: `bn` is the request path with a trailing slash (its parent for a single-resource
/// read), every entry has `n`. Decoding: `bn` + `n` is the path (without `bn`, names are relative
/// to the request path, as in the TS 1.0 example); `bt`/`t` are parsed and ignored. An `sv`
/// resolves to opaque (base64, either alphabet, padded or not) or core link only when the
/// resolver says so; without type information it is a string.
public enum LwM2MJSON {
    /// Encodes leaf records for a Read / Observe response on `basePath`.
    public static func encode(_ records: [LwM2MRecord], basePath: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        let base = try SenMLJSON.namingBase(for: records.map(\.path), basePath: basePath)
        var entries: [JSONValue] = []
        entries.reserveCapacity(records.count)
        for record in records {
            entries.append(.object([("n", .string(SenMLJSON.relativeName(record.path, from: base))),
                                    try valueMember(record)]))
        }
        return JSONWriter.bytes(.object([("bn", .string(SenMLJSON.directoryName(base))), ("e", .array(entries))]))
    }

    /// Decodes a Write payload (or a Read response, for tests and tools): leaf records under
    /// `basePath`, each path at most once, no resource both with a value and with instances.
    public static func decode(_ payload: [UInt8], basePath: LwM2MPath = .root,
                              limits: JSONParser.Limits = .default,
                              resolver: SenMLJSON.TypeResolver = { _ in nil }) throws(ContentFormatError) -> [LwM2MRecord] {
        let document = try JSONParser.parse(payload, limits: limits)
        guard case .object(let rootMembers) = document else { throw .malformed("LwM2M JSON must be an object") }
        var baseName: String?
        var entries: [JSONValue]?
        var seenRoot: Set<String> = []
        for (key, element) in rootMembers {
            guard seenRoot.insert(key).inserted else { throw .malformed("key \"\(key)\" repeated") }
            switch key {
            case "bn":
                guard case .string(let text) = element else { throw .malformed("bn must be a string") }
                baseName = text
            case "bt":
                guard case .number = element else { throw .malformed("bt must be a number") }
            case "e":
                guard case .array(let list) = element else { throw .malformed("e must be an array") }
                entries = list
            default:
                break  // unknown keys are ignored
            }
        }
        guard let entries else { throw .malformed("LwM2M JSON without \"e\" array") }

        var records: [LwM2MRecord] = []
        for (position, entry) in entries.enumerated() {
            guard case .object(let members) = entry else { throw .malformed("entry \(position) is not an object") }
            var name: String?
            var value: (key: String, element: JSONValue)?
            var seen: Set<String> = []
            for (key, element) in members {
                guard seen.insert(key).inserted else { throw .malformed("key \"\(key)\" repeated in entry \(position)") }
                switch key {
                case "n":
                    guard case .string(let text) = element else { throw .malformed("n must be a string") }
                    name = text
                case "t":
                    guard case .number = element else { throw .malformed("t must be a number") }
                case "v", "sv", "bv", "ov":
                    guard value == nil else { throw .malformed("entry \(position) has more than one value") }
                    value = (key, element)
                default:
                    break
                }
            }
            let fullName: String
            if let baseName {
                fullName = baseName + (name ?? "")
            } else if let name, !name.isEmpty {
                fullName = SenMLJSON.directoryName(basePath) + name
            } else {
                fullName = basePath.description
            }
            guard let path = SenMLJSON.lwm2mPath(fullName, allowTrailingSlash: false) else {
                throw .invalidPath("name \"\(fullName)\" is not an LwM2M path")
            }
            guard basePath.contains(path) else { throw .invalidPath("\(path) is outside \(basePath)") }
            guard path.depth >= 3 else { throw .invalidPath("\(path) is not a resource or resource instance") }
            guard let value else { throw .malformed("entry for \(path) has no value") }
            let type = resolver(path)
            let resolved: ResourceValue
            switch (value.key, value.element) {
            case ("v", .number(let number)):
                resolved = try SenMLJSON.numberValue(number, path: path, type: type)
            case ("sv", .string(let text)):
                if type == .opaque {
                    resolved = try SenMLJSON.opaqueValue(text, path: path, type: type)
                } else {
                    resolved = try SenMLJSON.textValue(text, path: path, type: type)
                }
            case ("bv", .bool(let flag)):
                resolved = try SenMLJSON.booleanValue(flag, path: path, type: type)
            case ("ov", .string(let text)):
                resolved = try SenMLJSON.objectLinkValue(text, path: path, type: type)
            default:
                throw .malformed("\(value.key) of wrong JSON type for \(path)")
            }
            records.append(LwM2MRecord(path, resolved))
        }
        try SenMLJSON.checkLeaves(records.map(\.path))
        return records
    }

    private static func valueMember(_ record: LwM2MRecord) throws(ContentFormatError) -> (String, JSONValue) {
        switch record.value {
        case .string(let s), .coreLink(let s): return ("sv", .string(s))
        case .integer(let v), .time(let v): return ("v", .number(JSONNumber(v)))
        case .unsignedInteger(let v): return ("v", .number(JSONNumber(v)))
        case .float(let v):
            guard let number = JSONNumber(v) else { throw .unsupported("\(v) for \(record.path): JSON has no NaN or infinity") }
            return ("v", .number(number))
        case .boolean(let b): return ("bv", .bool(b))
        case .opaque(let bytes): return ("sv", .string(Base64.encode(bytes, alphabet: .standard, padded: true)))
        case .objectLink(let link): return ("ov", .string(link.description))
        }
    }
}
