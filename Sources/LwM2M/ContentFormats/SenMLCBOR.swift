// SenML CBOR (content format 112, application/senml+cbor): RFC 8428 §6 with the LwM2M rules
// of TS 1.1 §7.4.5 (and TS 1.2 §7.4.5).
//
// A pack is a CBOR array of records; each record is a map with integer labels:
//
//     bver -1  bn -2  bt -3  bu -4  bv -5  bs -6   n 0  u 1  v 2  vs 3  vb 4  s 5  t 6  ut 7  vd 8
//
// plus the LwM2M extension label "vlo" (a text label: Objlnk values as "oid:iid"). The resolved
// name of a record (base name carried forward + name) is an absolute LwM2M path.
//
// Values by resource type:
//
//     String, Corelnk → vs (text)      Integer, Time → v (CBOR integer)   Unsigned → v (uint)
//     Float → v (CBOR float, shortest exact width)   Boolean → vb   Opaque → vd (byte string)
//     Objlnk → "vlo" (text "3:0")
//
// Encoding writes the record labels in core deterministic order (bytewise order of the encoded
// keys, RFC 8949 §4.2.1): n, v, vs, vb, t, vd, bn, bt, "vlo". Decoding accepts any order, any
// valid combination of bn/n, bt/t and bv/v, numbers as integers, floats of any width or decimal
// fractions (tag 4), and ignores labels it does not use (u, bu, ut, s, bs, bver, unknown labels)
// except unknown labels ending in "_", which RFC 8428 §12.2 says must be understood.

/// The SenML CBOR content format (112).
public enum SenMLCBOR {
    /// How record names are written.
    public enum BaseName: Hashable, Sendable {
        /// No base name: every record's `n` is its absolute path ("/3/0/1"). Read-Composite,
        /// Write-Composite and Send payloads can use this.
        case none
        /// The request path as base name on the first record, names relative to it: a Read of
        /// /3/0 gives `bn` "/3/0/" and names "0", "1", "7/0"…; a Read of /3/0/1 gives `bn`
        /// "/3/0/1" and no name. Every record must lie under the path.
        case path(LwM2MPath)
        /// `.path` of the longest common path prefix of the records (`.none` when that is the
        /// root).
        case commonPrefix
    }

    /// A record with its SenML time (seconds: bt + t). Times below 2^28 are relative to "now"
    /// (RFC 8428 §4.5.3); a resolved time of 0 ("now") decodes as nil.
    public struct TimestampedRecord: Hashable, Sendable, CustomStringConvertible {
        public var record: LwM2MRecord
        public var time: Double?

        public init(_ record: LwM2MRecord, time: Double? = nil) {
            self.record = record
            self.time = time
        }

        public var description: String { time.map { "\(record)@\($0)" } ?? record.description }
    }

    // MARK: Encoding

    /// Encodes leaf records (resource or resource-instance paths, each once) as a SenML CBOR
    /// pack.
    public static func encode(_ records: [LwM2MRecord], base: BaseName = .commonPrefix) throws -> [UInt8] {
        try CBORResourceCoding.checkLeaves(records.map(\.path), allowRepeats: false, encoding: true)
        // No times: write the pack straight away (the stricter check above covers
        // encodeTimestamped's).
        return try writePack(records, times: nil, base: base)
    }

    /// Encodes timestamped records (a Send or a notification with history: a path may repeat).
    /// A change of time is written as `bt` on the record where it changes; a record without time
    /// after a timed one gets `bt` 0 ("now").
    public static func encodeTimestamped(_ records: [TimestampedRecord], base: BaseName = .commonPrefix) throws
        -> [UInt8]
    {
        try CBORResourceCoding.checkLeaves(records.map(\.record.path), allowRepeats: true, encoding: true)
        return try writePack(records.map(\.record), times: records.map(\.time), base: base)
    }

    /// Writes the pack bytes directly (no `CBORValue` tree): the same preferred serialization
    /// `CBORValue.encoded()` gives, labels in core deterministic order — n, v, vs, vb, vd, bn,
    /// bt, "vlo". `times` (one per record) is nil for records without time.
    private static func writePack(_ records: [LwM2MRecord], times: [Double?]?, base: BaseName) throws -> [UInt8] {
        let basePath: LwM2MPath?
        switch base {
        case .none: basePath = nil
        case .path(let path):
            for record in records where !path.contains(record.path) {
                throw ContentFormatError.invalidPath("\(record.path) is not under \(path)")
            }
            basePath = path
        case .commonPrefix:
            let prefix = commonPrefix(of: records.map(\.path))
            basePath = prefix.isRoot ? nil : prefix
        }
        // Names: without a base, the absolute path; under a base, the IDs below it —
        // "/"-prefixed when some record is the base itself (that record then has no name and the
        // base name no trailing "/").
        let nameLevel = basePath?.depth ?? 0
        let someRecordIsBase = basePath.map { base in records.contains { $0.path == base } } ?? false
        let slashedNames = basePath == nil || someRecordIsBase

        var out: [UInt8] = []
        out.reserveCapacity(16 + records.count * 24)
        CBORValue.appendHead(major: 4, UInt64(records.count), to: &out)
        var currentTime: Double? = nil
        for (index, record) in records.enumerated() {
            let hasName = record.path.depth > nameLevel
            let time = times?[index] ?? nil
            let writesTime = time != currentTime
            let fields = (hasName ? 1 : 0) + 1 + (index == 0 && basePath != nil ? 1 : 0) + (writesTime ? 1 : 0)
            CBORValue.appendHead(major: 5, UInt64(fields), to: &out)
            if hasName {
                out.append(0x00)  // n
                appendName(record.path, from: nameLevel, slashed: slashedNames, to: &out)
            }
            var objectLink: ObjectLink? = nil
            switch record.value {
            case .string(let text), .coreLink(let text):
                out.append(0x03)  // vs
                appendText(text, to: &out)
            case .integer(let v), .time(let v):
                out.append(0x02)  // v
                if v >= 0 { CBORValue.appendHead(major: 0, UInt64(v), to: &out) }
                else { CBORValue.appendHead(major: 1, UInt64(-(v + 1)), to: &out) }
            case .unsignedInteger(let v):
                out.append(0x02)
                CBORValue.appendHead(major: 0, v, to: &out)
            case .float(let v):
                out.append(0x02)
                CBORValue.appendFloat(v, to: &out)
            case .boolean(let flag):
                out.append(0x04)  // vb
                out.append(flag ? 0xf5 : 0xf4)
            case .opaque(let bytes):
                out.append(0x08)  // vd
                CBORValue.appendHead(major: 2, UInt64(bytes.count), to: &out)
                out.append(contentsOf: bytes)
            case .objectLink(let link):
                objectLink = link  // "vlo" sorts last
            }
            if index == 0, let basePath {
                // bn (-2): "/3/0/", or "/3/0/1" when a record is the base; "/" for the root.
                out.append(0x21)
                appendName(basePath, from: 0, slashed: true, trailingSlash: !someRecordIsBase && !basePath.isRoot,
                           to: &out)
            }
            if writesTime {
                out.append(0x22)  // bt (-3)
                let seconds = time ?? 0
                if let whole = Int64(exactly: seconds) {
                    if whole >= 0 { CBORValue.appendHead(major: 0, UInt64(whole), to: &out) }
                    else { CBORValue.appendHead(major: 1, UInt64(-(whole + 1)), to: &out) }
                } else {
                    CBORValue.appendFloat(seconds, to: &out)
                }
                currentTime = time
            }
            if let objectLink {
                appendText(Label.objectLinkValue, to: &out)
                appendText(objectLink.description, to: &out)
            }
        }
        return out
    }

    private static func appendText(_ text: String, to out: inout [UInt8]) {
        CBORValue.appendHead(major: 3, UInt64(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }

    /// The text item for the IDs of `path` from `level` on, "/"-separated ("7/1"), with a
    /// leading "/" when `slashed` (and a trailing one when `trailingSlash`) — written digit by
    /// digit instead of building a String.
    private static func appendName(_ path: LwM2MPath, from level: Int, slashed: Bool, trailingSlash: Bool = false,
                                   to out: inout [UInt8]) {
        let depth = path.depth, packed = path.packed
        var length = (slashed ? 1 : 0) + (trailingSlash ? 1 : 0)
        for l in level..<depth {
            let id = LwM2MPath.id(in: packed, at: l)
            length += (l > level ? 1 : 0) + (id >= 10_000 ? 5 : id >= 1000 ? 4 : id >= 100 ? 3 : id >= 10 ? 2 : 1)
        }
        CBORValue.appendHead(major: 3, UInt64(length), to: &out)
        if slashed { out.append(UInt8(ascii: "/")) }
        for l in level..<depth {
            if l > level { out.append(UInt8(ascii: "/")) }
            let id = LwM2MPath.id(in: packed, at: l)
            var divisor: UInt16 = id >= 10_000 ? 10_000 : id >= 1000 ? 1000 : id >= 100 ? 100 : id >= 10 ? 10 : 1
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8((id / divisor) % 10))
                divisor /= 10
            }
        }
        if trailingSlash { out.append(UInt8(ascii: "/")) }
    }

    /// Encodes a list of paths as records with a name and no value: the payload of a
    /// Read-Composite or Observe-Composite request (`[{0: "/3/0/1"}, {0: "/1"}]`).
    public static func encodePaths(_ paths: [LwM2MPath]) throws -> [UInt8] {
        try CBORValue.array(paths.map { .map([(0, .text($0.description))]) }).encoded()
    }

    // MARK: Decoding

    /// Decodes a SenML CBOR pack into leaf records under `basePath` (the request path; the root
    /// for Write-Composite and Send). `types` gives a resource's type so numbers decode as
    /// integer, unsigned, float or time and text as string, Corelnk or Objlnk; without it each
    /// value takes its natural type (CBOR integer → integer, float → float, vs → string…).
    /// Times are accepted and dropped; a path that occurs twice, or a resource with both a value
    /// and resource instances, is malformed.
    public static func decode(_ payload: [UInt8], under basePath: LwM2MPath = .root,
                              types: (LwM2MPath) -> ResourceType? = { _ in nil }) throws -> [LwM2MRecord] {
        let records = try decodeTimestamped(payload, under: basePath, types: types).map(\.record)
        try CBORResourceCoding.checkLeaves(records.map(\.path), allowRepeats: false, encoding: false)
        return records
    }

    /// Like `decode`, keeping each record's time; a path may occur several times (history).
    /// A resource with both a value and resource instances is still malformed.
    public static func decodeTimestamped(_ payload: [UInt8], under basePath: LwM2MPath = .root,
                                         types: (LwM2MPath) -> ResourceType? = { _ in nil })
        throws -> [TimestampedRecord]
    {
        var resolver = Resolver()
        var result: [TimestampedRecord] = []
        for (index, item) in try packRecords(payload).enumerated() {
            let raw = try RawRecord(item, index: index)
            let (path, time, baseValue) = try resolver.resolve(raw, index: index)
            guard basePath.contains(path) else {
                throw ContentFormatError.invalidPath("SenML record \(index): \(path) is not under \(basePath)")
            }
            guard path.depth >= 3 else {
                throw ContentFormatError.invalidPath("SenML record \(index): \(path) is not a resource or resource instance")
            }
            guard let field = raw.value else {
                throw ContentFormatError.malformed("SenML record \(index) (\(path)) has no value")
            }
            let value = try CBORResourceCoding.resourceValue(senml: field, baseValue: baseValue,
                                                             path: path, type: types(path))
            result.append(TimestampedRecord(LwM2MRecord(path, value), time: time))
        }
        try CBORResourceCoding.checkLeaves(result.map(\.record.path), allowRepeats: true, encoding: false)
        return result
    }

    /// Decodes a path list (Read-Composite / Observe-Composite request): records with a name
    /// and no value; any path depth, the root "/" included.
    public static func decodePaths(_ payload: [UInt8]) throws -> [LwM2MPath] {
        var resolver = Resolver()
        var paths: [LwM2MPath] = []
        for (index, item) in try packRecords(payload).enumerated() {
            let raw = try RawRecord(item, index: index)
            guard raw.value == nil else {
                throw ContentFormatError.malformed("SenML record \(index) of a path list has a value")
            }
            paths.append(try resolver.resolve(raw, index: index).path)
        }
        return paths
    }

    // MARK: - Internals

    /// SenML CBOR labels.
    enum Label {
        static let baseVersion: Int64 = -1, baseName: Int64 = -2, baseTime: Int64 = -3, baseValue: Int64 = -5
        static let name: Int64 = 0, value: Int64 = 2, stringValue: Int64 = 3, booleanValue: Int64 = 4
        static let time: Int64 = 6, dataValue: Int64 = 8
        static let objectLinkValue = "vlo"
    }

    /// The value field of a record.
    enum ValueField: Equatable {
        case number(CBORValue)  // v: integer, float or tag-4 decimal fraction
        case string(String)  // vs
        case boolean(Bool)  // vb
        case data([UInt8])  // vd
        case objectLink(String)  // vlo
    }

    /// One record's fields as found (before base-field resolution).
    struct RawRecord {
        var baseName: String?
        var baseTime: Double?
        var baseValue: CBORValue?
        var name: String?
        var time: Double?
        var value: ValueField?

        init(_ item: CBORValue, index: Int) throws {
            guard case .map(let entries) = item else {
                throw ContentFormatError.malformed("SenML record \(index) is not a CBOR map")
            }
            for (key, field) in entries {
                switch key {
                case .unsigned, .negative:
                    guard let label = key.int64Value else { continue }  // unknown, far out of range
                    switch label {
                    case Label.baseName: baseName = try RawRecord.text(field, "bn", index)
                    case Label.baseTime: baseTime = try RawRecord.time(field, "bt", index)
                    case Label.baseValue:
                        guard CBORResourceCoding.number(field) != nil else {
                            throw ContentFormatError.malformed("SenML record \(index): bv is not a number (or out of range)")
                        }
                        baseValue = field
                    case Label.name: name = try RawRecord.text(field, "n", index)
                    case Label.time: time = try RawRecord.time(field, "t", index)
                    case Label.value:
                        guard CBORResourceCoding.number(field) != nil else {
                            throw ContentFormatError.malformed("SenML record \(index): v is not a number (or out of range)")
                        }
                        try setValue(.number(field), index)
                    case Label.stringValue: try setValue(.string(try RawRecord.text(field, "vs", index)), index)
                    case Label.booleanValue:
                        guard case .bool(let flag) = field else {
                            throw ContentFormatError.malformed("SenML record \(index): vb is not a boolean")
                        }
                        try setValue(.boolean(flag), index)
                    case Label.dataValue:
                        guard case .bytes(let data) = field else {
                            throw ContentFormatError.malformed("SenML record \(index): vd is not a byte string")
                        }
                        try setValue(.data(data), index)
                    default:
                        break  // bver, bu, bs, u, s, ut and unregistered labels: not used here
                    }
                case .text(let label):
                    if label == Label.objectLinkValue {
                        try setValue(.objectLink(try RawRecord.text(field, "vlo", index)), index)
                    } else if label.hasSuffix("_") {
                        throw ContentFormatError.unsupported("SenML record \(index): must-understand label \"\(label)\"")
                    }
                default:
                    throw ContentFormatError.malformed("SenML record \(index): label \(key) is neither an integer nor text")
                }
            }
        }

        private mutating func setValue(_ field: ValueField, _ index: Int) throws {
            guard value == nil else {
                throw ContentFormatError.malformed("SenML record \(index) has more than one value field")
            }
            value = field
        }

        private static func text(_ item: CBORValue, _ label: String, _ index: Int) throws -> String {
            guard case .text(let text) = item else {
                throw ContentFormatError.malformed("SenML record \(index): \(label) is not a text string")
            }
            return text
        }

        private static func time(_ item: CBORValue, _ label: String, _ index: Int) throws -> Double {
            guard let number = CBORResourceCoding.number(item) else {
                throw ContentFormatError.malformed("SenML record \(index): \(label) is not a number (or out of range)")
            }
            let seconds = number.doubleValue
            guard seconds.isFinite else {
                throw ContentFormatError.malformed("SenML record \(index): \(label) is not finite")
            }
            return seconds
        }
    }

    /// Carries the base fields from record to record and resolves names and times.
    struct Resolver {
        private var baseName = ""
        private var baseTime: Double?
        private var baseValue: CBORValue?

        mutating func resolve(_ raw: RawRecord, index: Int) throws -> (path: LwM2MPath, time: Double?, baseValue: CBORValue?) {
            if let name = raw.baseName { baseName = name }
            if let time = raw.baseTime { baseTime = time }
            if let value = raw.baseValue { baseValue = value }
            let fullName = baseName + (raw.name ?? "")
            guard let path = SenMLCBOR.path(fromName: fullName) else {
                throw ContentFormatError.invalidPath("SenML record \(index): \"\(fullName)\" is not an LwM2M path")
            }
            var time: Double? = nil
            if baseTime != nil || raw.time != nil {
                let resolved = (baseTime ?? 0) + (raw.time ?? 0)
                guard resolved.isFinite else {
                    throw ContentFormatError.malformed("SenML record \(index): time bt + t is not finite")
                }
                time = resolved == 0 ? nil : resolved
            }
            return (path, time, baseValue)
        }
    }

    /// The records of a pack.
    private static func packRecords(_ payload: [UInt8]) throws -> [CBORValue] {
        guard case .array(let records) = try CBORValue(decoding: payload) else {
            throw ContentFormatError.malformed("a SenML pack is a CBOR array")
        }
        return records
    }

    /// Parses a resolved SenML name: "/" or "/o", "/o/i", "/o/i/r", "/o/i/r/ri" — a leading
    /// slash, no empty segment, decimal IDs 0...65534 without leading zeros.
    static func path(fromName name: String) -> LwM2MPath? {
        guard name.utf8.first == UInt8(ascii: "/") else { return nil }
        if name.utf8.count == 1 { return .root }
        guard name.utf8.count <= 24 else { return nil }  // "/65534/65534/65534/65534"
        let segments = name.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.allSatisfy({ $0.count == 1 || $0.first != UInt8(ascii: "0") }) else { return nil }
        return LwM2MPath(segments: segments.map { String(decoding: $0, as: UTF8.self) })
    }

    /// The longest path that contains all `paths` (the root for none).
    static func commonPrefix(of paths: [LwM2MPath]) -> LwM2MPath {
        guard var prefix = paths.first?.ids else { return .root }
        for path in paths.dropFirst() {
            let ids = path.ids
            var count = 0
            while count < prefix.count, count < ids.count, prefix[count] == ids[count] { count += 1 }
            prefix.removeLast(prefix.count - count)
        }
        return prefix.reduce(LwM2MPath.root) { $0.appending($1) }
    }
}
