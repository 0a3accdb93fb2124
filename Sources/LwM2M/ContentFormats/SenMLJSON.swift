/// SenML JSON (RFC 8428 §5), content format 110 `application/senml+json`, as LwM2M uses it
/// (TS 1.1 §7.4.4).
///
/// Encoding (`encode`): one JSON array; the first record carries `bn` = the request path with a
/// trailing slash (`"/3/0/"`), every record carries `n` relative to it (`"0"`, `"7/0"`). Values:
///
/// | ResourceValue            | label | JSON                                                  |
/// |--------------------------|-------|-------------------------------------------------------|
/// | integer, unsigned, time  | `v`   | number, exact (`3800`, `18446744073709551615`)        |
/// | float                    | `v`   | shortest round-trip, always `.`/`e` (`23.1`, `2.0`)   |
/// | string, coreLink         | `vs`  | string                                                |
/// | boolean                  | `vb`  | `true` / `false`                                      |
/// | opaque                   | `vd`  | base64url without padding (RFC 8428 §4.3, §5)         |
/// | objectLink               | `vlo` | `"3:0"` (LwM2M-registered SenML label)                 |
///
/// Opaque: the LwM2M TS SenML JSON table only says "base64"; RFC 8428 fixes base64url without
/// padding, and Leshan and Zephyr follow the RFC (OMA_LwM2M_for_Developers#553, leshan#1444,
/// zephyr#102515); older clients sent padded standard base64. We send base64url without padding
/// and accept either alphabet, padded or not (but not mixed, and canonical), when decoding.
///
/// Decoding (`decode`, `decodeEntries`): base name and base time carry forward to the records
/// that follow until the next `bn`/`bt` (RFC 8428 §4.5); the full name `bn + n` must be an LwM2M
/// path (`/3/0/7/0`; optional leading slash, decimal IDs without leading zeros, no empty
/// segments) under the request's base path, at resource or resource-instance depth. `t`/`bt` are
/// parsed (resolved time = bt + t) but LwM2M writes ignore them. Numbers are typed by the
/// resolver; without type information integer literals (no fraction, no exponent) become
/// `.integer` (or `.unsignedInteger` above Int64.max) and other numbers `.float`. Refused:
/// records with no value or several values, duplicate labels in a record, labels ending in `_`
/// (must-understand, RFC 8428 §4.4), `bver` above 10, a non-zero `bv` (base value; LwM2M never
/// uses it).
///
/// Composite operations: `decodePaths` reads Read-/Observe-Composite request bodies (records with
/// names only); `encodeComposite` writes Read-Composite responses and Send payloads (records from
/// several objects, a new `bn` per object instance); `decode(_:basePath: .root)` reads
/// Write-Composite bodies (absolute names).
public enum SenMLJSON {
    /// The resource type for a path, from the object definitions; nil when unknown.
    public typealias TypeResolver = (LwM2MPath) -> ResourceType?

    // MARK: - Generic SenML (RFC 8428)

    /// A SenML value before LwM2M typing.
    public enum Value: Hashable, Sendable {
        /// `v`
        case number(JSONNumber)
        /// `vs`
        case string(String)
        /// `vb`
        case boolean(Bool)
        /// `vd`: the base64 text as received.
        case data(String)
        /// `vlo` (LwM2M extension): the `"oid:iid"` text as received.
        case objectLink(String)
    }

    /// A record with its base fields applied (RFC 8428 §4.6 "resolved record").
    public struct ResolvedRecord: Hashable, Sendable {
        /// `bn + n`.
        public var name: String
        /// `bt + t` in seconds; nil when neither is present. Values below 2^28 are relative to
        /// "now" (RFC 8428 §4.5.3); no clock is applied here.
        public var time: Double?
        /// `u`, else the current `bu`.
        public var unit: String?
        /// Nil for a record without a value (Read-Composite names, sums only).
        public var value: Value?

        public init(name: String, time: Double? = nil, unit: String? = nil, value: Value? = nil) {
            self.name = name
            self.time = time
            self.unit = unit
            self.value = value
        }
    }

    /// The highest SenML version we understand (RFC 8428 §4.4).
    public static let version = 10

    /// Parses a SenML JSON pack and resolves base name, base time and base unit.
    public static func resolve(_ payload: [UInt8],
                               limits: JSONParser.Limits = .default) throws(ContentFormatError) -> [ResolvedRecord] {
        let document = try JSONParser.parse(payload, limits: limits)
        guard case .array(let records) = document else { throw .malformed("SenML JSON pack must be an array") }
        var baseName = ""
        var baseTime: Double?
        var baseUnit: String?
        var resolved: [ResolvedRecord] = []
        resolved.reserveCapacity(records.count)
        for (position, record) in records.enumerated() {
            guard case .object(let members) = record else {
                throw .malformed("SenML record \(position) is not an object")
            }
            var seenFew: [String] = []
            var seenMany: Set<String> = []
            var name: String?
            var time: Double?
            var unit: String?
            var value: Value?
            for (label, element) in members {
                // Records have a handful of labels: a linear scan beats hashing, but stays
                // linear only while the record is small.
                let repeated: Bool
                if members.count <= 16 {
                    repeated = seenFew.contains(label)
                    seenFew.append(label)
                } else {
                    repeated = !seenMany.insert(label).inserted
                }
                guard !repeated else { throw .malformed("label \"\(label)\" repeated in SenML record \(position)") }
                switch label {
                case "bn": baseName = try string(element, label)
                case "bt": baseTime = try number(element, label).doubleValue
                case "bu": baseUnit = try string(element, label)
                case "bver":
                    guard let version = try number(element, label).int64Value, version >= 1 else {
                        throw .malformed("bver must be a positive integer")
                    }
                    if version > Int64(SenMLJSON.version) { throw .unsupported("SenML version \(version)") }
                case "bv":
                    if try number(element, label).doubleValue != 0 { throw .unsupported("SenML base value (bv)") }
                case "bs", "s", "ut": _ = try number(element, label)
                case "n": name = try string(element, label)
                case "u": unit = try string(element, label)
                case "t": time = try number(element, label).doubleValue
                case "v": try setValue(&value, .number(try number(element, label)), position)
                case "vs": try setValue(&value, .string(try string(element, label)), position)
                case "vb":
                    guard case .bool(let flag) = element else { throw .malformed("vb must be a boolean") }
                    try setValue(&value, .boolean(flag), position)
                case "vd": try setValue(&value, .data(try string(element, label)), position)
                case "vlo": try setValue(&value, .objectLink(try string(element, label)), position)
                default:
                    if label.hasSuffix("_") { throw .unsupported("must-understand SenML label \"\(label)\"") }
                    // Other labels (extensions we do not know) are ignored (RFC 8428 §12.2).
                }
            }
            let fullTime: Double? = (baseTime == nil && time == nil) ? nil : (baseTime ?? 0) + (time ?? 0)
            if let fullTime, !fullTime.isFinite { throw .malformed("time of SenML record \(position) out of range") }
            resolved.append(ResolvedRecord(name: baseName + (name ?? ""), time: fullTime,
                                           unit: unit ?? baseUnit, value: value))
        }
        return resolved
    }

    private static func string(_ element: JSONValue, _ label: String) throws(ContentFormatError) -> String {
        guard case .string(let text) = element else { throw .malformed("\(label) must be a string") }
        return text
    }

    private static func number(_ element: JSONValue, _ label: String) throws(ContentFormatError) -> JSONNumber {
        guard case .number(let number) = element else { throw .malformed("\(label) must be a number") }
        return number
    }

    private static func setValue(_ slot: inout Value?, _ value: Value, _ position: Int) throws(ContentFormatError) {
        guard slot == nil else { throw .malformed("SenML record \(position) has more than one value") }
        slot = value
    }

    // MARK: - LwM2M decoding

    /// A decoded record with its SenML time (bt + t), if any.
    public struct Entry: Hashable, Sendable {
        public var record: LwM2MRecord
        public var time: Double?

        public init(_ record: LwM2MRecord, time: Double? = nil) {
            self.record = record
            self.time = time
        }
    }

    /// Decodes a Write / Write-Composite payload: leaf records under `basePath`, each path at most
    /// once, no resource both with a value and with instances. `resolver` types the numbers and
    /// checks every value against the resource's type.
    public static func decode(_ payload: [UInt8], basePath: LwM2MPath = .root,
                              limits: JSONParser.Limits = .default,
                              resolver: TypeResolver = { _ in nil }) throws(ContentFormatError) -> [LwM2MRecord] {
        let records = try decodeEntries(payload, basePath: basePath, limits: limits, resolver: resolver).map(\.record)
        try checkLeaves(records.map(\.path))
        return records
    }

    /// Each path at most once, and no resource both with a value and with resource instances
    /// (`/3/0/7` and `/3/0/7/0`).
    static func checkLeaves(_ paths: [LwM2MPath]) throws(ContentFormatError) {
        var seen: Set<LwM2MPath> = []
        for path in paths where !seen.insert(path).inserted {
            throw .malformed("more than one record for \(path)")
        }
        for path in paths where path.isResourceInstance && seen.contains(path.parent) {
            throw .malformed("\(path.parent) has both a value and resource instances")
        }
    }

    /// Decodes every record in order, with its time; the same path may repeat (time series in
    /// notifications and Send).
    public static func decodeEntries(_ payload: [UInt8], basePath: LwM2MPath = .root,
                                     limits: JSONParser.Limits = .default,
                                     resolver: TypeResolver = { _ in nil }) throws(ContentFormatError) -> [Entry] {
        var entries: [Entry] = []
        for record in try resolve(payload, limits: limits) {
            guard let path = lwm2mPath(record.name, allowTrailingSlash: false) else {
                throw .invalidPath("SenML name \"\(record.name)\" is not an LwM2M path")
            }
            guard basePath.contains(path) else { throw .invalidPath("\(path) is outside \(basePath)") }
            guard path.depth >= 3 else { throw .invalidPath("\(path) is not a resource or resource instance") }
            guard let value = record.value else { throw .malformed("record for \(path) has no value") }
            entries.append(Entry(LwM2MRecord(path, try resourceValue(value, path: path, type: resolver(path))),
                                 time: record.time))
        }
        return entries
    }

    /// Decodes a Read-Composite / Observe-Composite request body: records with names only
    /// (`[{"n":"/3/0/0"},{"n":"/1/0"}]`, or with base names). Any path depth is allowed,
    /// including `/`; a trailing slash is accepted (`"/3/0/"` is `/3/0`). A record with a value
    /// is refused.
    public static func decodePaths(_ payload: [UInt8],
                                   limits: JSONParser.Limits = .default) throws(ContentFormatError) -> [LwM2MPath] {
        var paths: [LwM2MPath] = []
        for record in try resolve(payload, limits: limits) {
            guard let path = lwm2mPath(record.name, allowTrailingSlash: true) else {
                throw .invalidPath("SenML name \"\(record.name)\" is not an LwM2M path")
            }
            guard record.value == nil else { throw .malformed("composite path record for \(path) has a value") }
            paths.append(path)
        }
        return paths
    }

    // MARK: - LwM2M encoding

    /// Encodes leaf records for a Read / Observe response on `basePath`: the first record carries
    /// `bn` (`"/3/0/"`), names are relative. Every record must be a resource or resource
    /// instance under `basePath`. For a single-resource read, `bn` is the instance path and `n`
    /// the resource ID (`[{"bn":"/3/0/","n":"0","vs":"…"}]`).
    public static func encode(_ records: [LwM2MRecord], basePath: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        try encode(entries: records.map { Entry($0) }, basePath: basePath)
    }

    /// As `encode(_:basePath:)`, with a `t` (absolute seconds) on entries that have a time.
    public static func encode(entries: [Entry], basePath: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        let base = try namingBase(for: entries.map(\.record.path), basePath: basePath)
        var out: [JSONValue] = []
        out.reserveCapacity(entries.count)
        for (i, entry) in entries.enumerated() {
            var members: [(String, JSONValue)] = []
            if i == 0 { members.append(("bn", .string(directoryName(base)))) }
            members.append(("n", .string(relativeName(entry.record.path, from: base))))
            try appendValueAndTime(entry, to: &members)
            out.append(.object(members))
        }
        return JSONWriter.bytes(.array(out))
    }

    /// Encodes records from any objects (Read-Composite response, Send): a `bn` of the object
    /// instance (`"/3/0/"`) whenever it changes, names relative to it.
    public static func encodeComposite(_ records: [LwM2MRecord]) throws(ContentFormatError) -> [UInt8] {
        try encodeComposite(entries: records.map { Entry($0) })
    }

    /// As `encodeComposite(_:)`, with times.
    public static func encodeComposite(entries: [Entry]) throws(ContentFormatError) -> [UInt8] {
        var out: [JSONValue] = []
        out.reserveCapacity(entries.count)
        var currentBase: LwM2MPath?
        for entry in entries {
            let path = entry.record.path
            guard path.depth >= 3 else { throw .invalidPath("\(path) is not a resource or resource instance") }
            let base = path.depth == 4 ? path.parent.parent : path.parent
            var members: [(String, JSONValue)] = []
            if base != currentBase {
                members.append(("bn", .string(directoryName(base))))
                currentBase = base
            }
            members.append(("n", .string(relativeName(path, from: base))))
            try appendValueAndTime(entry, to: &members)
            out.append(.object(members))
        }
        return JSONWriter.bytes(.array(out))
    }

    /// A Read-/Observe-Composite request body: `[{"n":"/3/0/0"},{"n":"/1/0"}]`.
    public static func encodePaths(_ paths: [LwM2MPath]) -> [UInt8] {
        JSONWriter.bytes(.array(paths.map { .object([("n", .string($0.description))]) }))
    }

    private static func appendValueAndTime(_ entry: Entry, to members: inout [(String, JSONValue)]) throws(ContentFormatError) {
        members.append(try valueMember(entry.record))
        if let time = entry.time {
            guard let number = JSONNumber(time) else { throw .unsupported("non-finite time for \(entry.record.path)") }
            members.append(("t", .number(number)))
        }
    }

    private static func valueMember(_ record: LwM2MRecord) throws(ContentFormatError) -> (String, JSONValue) {
        switch record.value {
        case .string(let s), .coreLink(let s): return ("vs", .string(s))
        case .integer(let v), .time(let v): return ("v", .number(JSONNumber(v)))
        case .unsignedInteger(let v): return ("v", .number(JSONNumber(v)))
        case .float(let v):
            guard let number = JSONNumber(v) else { throw .unsupported("\(v) for \(record.path): JSON has no NaN or infinity") }
            return ("v", .number(number))
        case .boolean(let b): return ("vb", .bool(b))
        case .opaque(let bytes): return ("vd", .string(Base64.encode(bytes, alphabet: .url, padded: false)))
        case .objectLink(let link): return ("vlo", .string(link.description))
        }
    }

    // MARK: - Shared with LwM2M JSON (11543)

    /// The path all names are relative to: `basePath`, or its parent when a record is the base
    /// path itself (a single-resource read). Checks every path is a leaf under `basePath`.
    static func namingBase(for paths: [LwM2MPath], basePath: LwM2MPath) throws(ContentFormatError) -> LwM2MPath {
        var base = basePath
        for path in paths {
            guard path.depth >= 3 else { throw .invalidPath("\(path) is not a resource or resource instance") }
            guard basePath.contains(path) else { throw .invalidPath("\(path) is outside \(basePath)") }
            if path == basePath { base = basePath.parent }
        }
        return base
    }

    /// `"/"` for the root, else `"/3/0/"`.
    static func directoryName(_ path: LwM2MPath) -> String {
        path.isRoot ? "/" : path.description + "/"
    }

    /// The IDs of `path` below `base`, joined with `/` (`"7/0"`).
    static func relativeName(_ path: LwM2MPath, from base: LwM2MPath) -> String {
        path.ids.dropFirst(base.depth).map(String.init).joined(separator: "/")
    }

    /// Parses a SenML / LwM2M JSON name strictly: `/` alone is the root; otherwise an optional
    /// leading `/`, then 1 to 4 segments of decimal IDs 0...65534 without leading zeros,
    /// separated by single slashes; a trailing slash only when allowed.
    static func lwm2mPath(_ name: String, allowTrailingSlash: Bool) -> LwM2MPath? {
        var bytes = Array(name.utf8)
        if bytes == [UInt8(ascii: "/")] { return .root }
        if bytes.first == UInt8(ascii: "/") { bytes.removeFirst() }
        if allowTrailingSlash, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        var ids: [UInt16] = []
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard ids.count < 4, let id = decimalID(segment) else { return nil }
            ids.append(id)
        }
        var path = LwM2MPath.root
        for id in ids { path = path.appending(id) }
        return path
    }

    /// A decimal ID without sign or leading zeros, at most `max`.
    static func decimalID(_ digits: ArraySlice<UInt8>, max: UInt32 = 65534) -> UInt16? {
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy(JSONNumber.isDigit) else { return nil }
        if digits.count > 1 && digits.first == UInt8(ascii: "0") { return nil }
        let value = digits.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - 48) }
        return value <= max ? UInt16(value) : nil
    }

    /// Strict `"oid:iid"` (each 0...65535, no sign, no leading zeros).
    static func objectLink(_ text: String) -> ObjectLink? {
        let parts = Array(text.utf8).split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 2, let object = decimalID(parts[0], max: 65535),
              let instance = decimalID(parts[1], max: 65535) else { return nil }
        return ObjectLink(objectID: object, instanceID: instance)
    }

    /// Types a number by the resource type (nil: integer literal → integer, else float).
    static func numberValue(_ number: JSONNumber, path: LwM2MPath,
                            type: ResourceType?) throws(ContentFormatError) -> ResourceValue {
        switch type {
        case nil:
            if number.isIntegerLiteral {
                if let v = number.int64Value { return .integer(v) }
                if let v = number.uint64Value { return .unsignedInteger(v) }
            }
            return .float(number.doubleValue)
        case .integer?:
            guard let v = number.int64Value else { throw .typeMismatch(path, expected: .integer) }
            return .integer(v)
        case .unsignedInteger?:
            guard let v = number.uint64Value else { throw .typeMismatch(path, expected: .unsignedInteger) }
            return .unsignedInteger(v)
        case .float?:
            return .float(number.doubleValue)
        case .time?:
            guard let v = number.int64Value else { throw .typeMismatch(path, expected: .time) }
            return .time(v)
        case let other?:
            throw .typeMismatch(path, expected: other)
        }
    }

    /// Types a text value: string or core link.
    static func textValue(_ text: String, path: LwM2MPath, type: ResourceType?) throws(ContentFormatError) -> ResourceValue {
        switch type {
        case nil, .string?: return .string(text)
        case .coreLink?: return .coreLink(text)
        case let other?: throw .typeMismatch(path, expected: other)
        }
    }

    static func booleanValue(_ flag: Bool, path: LwM2MPath, type: ResourceType?) throws(ContentFormatError) -> ResourceValue {
        guard type == nil || type == .boolean else { throw .typeMismatch(path, expected: type ?? .boolean) }
        return .boolean(flag)
    }

    static func objectLinkValue(_ text: String, path: LwM2MPath, type: ResourceType?) throws(ContentFormatError) -> ResourceValue {
        guard type == nil || type == .objectLink else { throw .typeMismatch(path, expected: type ?? .objectLink) }
        guard let link = objectLink(text) else { throw .malformed("object link \"\(text)\" for \(path)") }
        return .objectLink(link)
    }

    static func opaqueValue(_ text: String, path: LwM2MPath, type: ResourceType?) throws(ContentFormatError) -> ResourceValue {
        guard type == nil || type == .opaque else { throw .typeMismatch(path, expected: type ?? .opaque) }
        guard let bytes = Base64.decodeEitherAlphabet(text) else { throw .malformed("invalid base64 for \(path)") }
        return .opaque(bytes)
    }

    private static func resourceValue(_ value: Value, path: LwM2MPath,
                                      type: ResourceType?) throws(ContentFormatError) -> ResourceValue {
        switch value {
        case .number(let number): try numberValue(number, path: path, type: type)
        case .string(let text): try textValue(text, path: path, type: type)
        case .boolean(let flag): try booleanValue(flag, path: path, type: type)
        case .data(let text): try opaqueValue(text, path: path, type: type)
        case .objectLink(let text): try objectLinkValue(text, path: path, type: type)
        }
    }
}
