// LwM2M CBOR (content format 11544, application/vnd.oma.lwm2m+cbor): LwM2M TS 1.2 §7.4.6.
//
// The payload is a CBOR map whose keys are path fragments and whose values are either nested
// maps (the next level down) or resource values:
//
//     {3: {0: {0: "Open Mobile Alliance", 7: {0: 3800, 1: 5000}}}}
//
// A key is one ID (0...65534) or an array of IDs covering several levels at once, so the same
// content may be written {[3, 0]: {0: "Open Mobile Alliance", [7, 0]: 3800, [7, 1]: 5000}}.
// The encoder writes definite-length maps; how it uses array keys is `PathCompression`. The
// default, `.commonPrefix`, writes the path all records share as one key and one map per level
// below it (as Anjay does): a Read of /3/0 gives {[3, 0]: {0: …, 7: {0: …, 1: …}}}, a Read of
// /3/0/1 gives {[3, 0, 1]: …}, a composite of /1/0/1 and /3/0/0 gives {1: {0: {1: …}}, 3: …}.
// The decoder accepts any mix of single and array keys, definite and indefinite lengths, at any
// level.
//
// Values: String, Corelnk → text; Integer, Time → integer; Unsigned → unsigned integer;
// Float → float (shortest exact width); Boolean → true/false; Opaque → byte string;
// Objlnk → text "oid:iid". Decoding also accepts decimal fractions (tag 4) for numbers and an
// epoch tag (1) around a time.

/// The LwM2M CBOR content format (11544).
public enum LwM2MCBOR {
    /// Which map keys the encoder joins into arrays of IDs.
    public enum PathCompression: Hashable, Sendable {
        /// One map per path level: {3: {0: {0: …}}}.
        case none
        /// The levels all records share form one key: {[3, 0]: {0: …, 7: {0: …}}}.
        case commonPrefix
        /// Every chain of levels with a single child forms one key: {[3, 0]: {0: …, [11, 0]: …}}.
        case full
    }

    /// Encodes leaf records (resource or resource-instance paths), all under `basePath` (the
    /// request path; the root for Read-Composite and Send).
    public static func encode(_ records: [LwM2MRecord], basePath: LwM2MPath = .root,
                              compression: PathCompression = .commonPrefix) throws -> [UInt8] {
        var tree = Tree()
        for record in records {
            guard (3...4).contains(record.path.depth) else {
                throw ContentFormatError.invalidPath("\(record.path) is not a resource or resource instance")
            }
            guard basePath.contains(record.path) else {
                throw ContentFormatError.invalidPath("\(record.path) is not under \(basePath)")
            }
            try tree.insert(record)
        }
        return try CBORValue.map(tree.entries(of: 0, compression: compression, atRoot: true)).encoded()
    }

    /// Decodes a payload into leaf records under `basePath`. `types` gives each resource's type
    /// (numbers then decode as integer, unsigned, float or time, text as string, Corelnk or
    /// Objlnk); without it values take their natural type. A `null` value is `.unsupported`:
    /// records cannot carry it.
    public static func decode(_ payload: [UInt8], under basePath: LwM2MPath = .root,
                              types: (LwM2MPath) -> ResourceType? = { _ in nil }) throws -> [LwM2MRecord] {
        guard case .map(let entries) = try CBORValue(decoding: payload) else {
            throw ContentFormatError.malformed("an LwM2M CBOR payload is a CBOR map")
        }
        var walker = Walker(basePath: basePath)
        try walker.walk(entries, prefix: [], types: types)
        try CBORResourceCoding.checkLeaves(walker.records.map(\.path), allowRepeats: false, encoding: false)
        return walker.records
    }

    // MARK: - Internals

    /// The records as a tree of path IDs, children in first-seen order.
    private struct Tree {
        struct Node {
            var id: UInt16
            var children: [Int] = []
            var value: ResourceValue?
        }

        private var nodes = [Node(id: 0)]  // nodes[0] is the root

        mutating func insert(_ record: LwM2MRecord) throws {
            var index = 0
            for id in record.path.ids {
                if nodes[index].value != nil {
                    throw ContentFormatError.invalidPath("\(record.path) lies under another record's path")
                }
                if let child = nodes[index].children.first(where: { nodes[$0].id == id }) {
                    index = child
                } else {
                    nodes.append(Node(id: id))
                    nodes[index].children.append(nodes.count - 1)
                    index = nodes.count - 1
                }
            }
            guard nodes[index].value == nil, nodes[index].children.isEmpty else {
                throw ContentFormatError.invalidPath("\(record.path) occurs twice or has records under it")
            }
            nodes[index].value = record.value
        }

        func entries(of index: Int, compression: PathCompression, atRoot: Bool) -> [(CBORValue, CBORValue)] {
            let compress = compression == .full || (compression == .commonPrefix && atRoot
                && nodes[index].children.count == 1)
            return nodes[index].children.map { child in
                var ids = [nodes[child].id]
                var current = child
                while compress, nodes[current].value == nil, nodes[current].children.count == 1 {
                    current = nodes[current].children[0]
                    ids.append(nodes[current].id)
                }
                let key: CBORValue = ids.count == 1 ? .unsigned(UInt64(ids[0])) : .array(ids.map { .unsigned(UInt64($0)) })
                if let value = nodes[current].value {
                    return (key, CBORResourceCoding.item(for: value))
                }
                return (key, .map(entries(of: current, compression: compression, atRoot: false)))
            }
        }
    }

    /// Walks the nested maps, collecting leaves.
    private struct Walker {
        let basePath: LwM2MPath
        var records: [LwM2MRecord] = []

        mutating func walk(_ entries: [(CBORValue, CBORValue)], prefix: [UInt16],
                           types: (LwM2MPath) -> ResourceType?) throws {
            for (key, value) in entries {
                let ids = prefix + (try Walker.ids(of: key, after: prefix))
                guard ids.count <= 4 else {
                    throw ContentFormatError.invalidPath("LwM2M CBOR path \(Walker.text(ids)) has more than 4 IDs")
                }
                if case .map(let inner) = value {
                    try walk(inner, prefix: ids, types: types)
                    continue
                }
                let path = ids.reduce(LwM2MPath.root) { $0.appending($1) }
                guard ids.count >= 3 else {
                    throw ContentFormatError.invalidPath("LwM2M CBOR value at \(path), not at a resource or resource instance")
                }
                guard basePath.contains(path) else {
                    throw ContentFormatError.invalidPath("\(path) is not under \(basePath)")
                }

                if case .null = value {
                    throw ContentFormatError.unsupported("null value (deletion) for \(path)")
                }
                records.append(LwM2MRecord(path, try CBORResourceCoding.resourceValue(item: value, path: path,
                                                                                     type: types(path))))
            }
        }

        /// The IDs in a key: one unsigned integer or a non-empty array of them, each 0...65534.
        private static func ids(of key: CBORValue, after prefix: [UInt16]) throws -> [UInt16] {
            func id(_ item: CBORValue) throws -> UInt16 {
                guard case .unsigned(let n) = item, n < 65535 else {
                    throw ContentFormatError.invalidPath("LwM2M CBOR key \(key) under \(text(prefix)) is not a path ID (0...65534)")
                }
                return UInt16(n)
            }
            if case .array(let items) = key {
                guard !items.isEmpty else {
                    throw ContentFormatError.invalidPath("empty LwM2M CBOR path key under \(text(prefix))")
                }
                return try items.map(id)
            }
            return [try id(key)]
        }

        private static func text(_ ids: [UInt16]) -> String { "/" + ids.map(String.init).joined(separator: "/") }
    }
}
