extension TLV {
    /// Encodes `records` as the TLV payload answering a request on `base` (TS 1.1 §7.4.3):
    ///
    /// - `base` = `/o`: one object-instance TLV per instance, wrapping its resources;
    /// - `base` = `/o/i`: the resource TLVs of the instance (no object-instance wrapper);
    /// - `base` = `/o/i/r`: one resource TLV (11) for a single record at `base`, or one
    ///   multiple-resource TLV (10) wrapping the resource-instance TLVs (01) of the records below
    ///   `base` (a read of a multiple resource answers with the wrapper, TS 1.1 §7.4.3 examples);
    /// - `base` = `/o/i/r/ri`: one resource-instance TLV;
    /// - the root: `.unsupported`.
    ///
    /// A record at a resource-instance path makes its resource a multiple resource: its
    /// instances are always wrapped in a type-10 TLV, even when there is only one. Records may
    /// come in any order; the output is sorted by path. Empty `records` give an empty payload.
    ///
    /// Errors: a record outside `base` or above resource level, a duplicate path, a resource with
    /// both a value and instances, or the ID 65535 → `.invalidPath`; an unsigned value ≥ 2^63 →
    /// `.unsupported`; a TLV longer than 2^24 − 1 bytes → `.tooLarge`.
    public static func encode(_ records: [LwM2MRecord], base: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        guard !base.isRoot else { throw .unsupported("TLV cannot carry a payload for the root path") }
        for record in records {
            guard base.contains(record.path), record.path.depth >= 3 else {
                throw .invalidPath("record \(record.path) does not fit a TLV payload for \(base)")
            }
            guard !record.path.hasReservedID else { throw .invalidPath("reserved ID 65535 in \(record.path)") }
        }
        // Registry reads come already in path order: skip the sort (and its copy) then.
        // (Index loops compare paths in place; zipping copied every record.)
        var isSorted = true
        for index in records.indices.dropFirst() where records[index].path < records[index - 1].path {
            isSorted = false
            break
        }
        let sorted = isSorted ? records : records.sorted { $0.path < $1.path }
        for index in sorted.indices.dropFirst() where sorted[index - 1].path == sorted[index].path {
            throw .invalidPath("\(sorted[index].path) appears twice")
        }

        var out: [UInt8] = []
        switch base.kind {
        case .root:
            break  // refused above
        case .object:
            for group in groups(sorted[...], level: 1) {
                let children = try resources(group)
                guard let first = group.first?.path, let instance = first.instancePath else {
                    throw .invalidPath("a TLV payload for \(base) needs object instances")
                }
                try appendHeader(&out, kind: .objectInstance, id: instance.instanceID, length: children.count)
                out += children
            }
        case .instance:
            out = try resources(sorted[...])
        case .resource:
            if !sorted.isEmpty { out = try resources(sorted[...]) }
        case .resourceInstance(_, let id):
            guard sorted.count == 1 else {
                throw .invalidPath("a TLV payload for \(base) holds exactly one resource instance")
            }
            try appendLeaf(&out, kind: .resourceInstance, id: id, value: sorted[0].value)
        }
        return out
    }

    /// Consecutive runs of records that share the ID at `level` (records are sorted).
    private static func groups(_ records: ArraySlice<LwM2MRecord>, level: Int) -> [ArraySlice<LwM2MRecord>] {
        var result: [ArraySlice<LwM2MRecord>] = []
        var start = records.startIndex
        while start < records.endIndex {
            let end = groupEnd(records, from: start, level: level)
            result.append(records[start..<end])
            start = end
        }
        return result
    }

    /// The end of the run of records from `start` sharing its ID at `level`.
    private static func groupEnd(_ records: ArraySlice<LwM2MRecord>, from start: Int, level: Int) -> Int {
        let id = records[start].path.id(at: level)
        var end = start + 1
        while end < records.endIndex, records[end].path.id(at: level) == id { end += 1 }
        return end
    }

    /// The resource TLVs for the sorted records of one object instance.
    private static func resources(_ records: ArraySlice<LwM2MRecord>) throws(ContentFormatError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 16)
        // Walks the runs by index: an array of slices per call cost more than the encoding.
        var start = records.startIndex
        while start < records.endIndex {
            let end = groupEnd(records, from: start, level: 2)
            let first = records[start].path
            switch first.kind {
            case .root, .object, .instance:
                throw .invalidPath("record \(first) lies above resource level")
            case .resource(let resource):
                guard end - start == 1 else {
                    throw .invalidPath("\(first) has both a value and resource instances")
                }
                try appendLeaf(&out, kind: .resourceValue, id: resource.resourceID, value: records[start].value)
            case .resourceInstance(let resource, _):
                // The run is sorted: a record at the resource itself would have come first, so
                // every record of the run is a resource instance.
                // The wrapper's length is the sum of its children's sizes: compute it, then
                // write everything into `out` (no intermediate buffer).
                var length = 0
                for index in start..<end {
                    let size = try valueLength(records[index].value)
                    length += headerLength(id: try instanceID(records[index].path), length: size) + size
                }
                try appendHeader(&out, kind: .multipleResource, id: resource.resourceID, length: length)
                for index in start..<end {
                    try appendLeaf(&out, kind: .resourceInstance, id: try instanceID(records[index].path),
                                   value: records[index].value)
                }
            }
            start = end
        }
        return out
    }

    /// The resource instance ID of `path`, which the caller knows to be a resource instance.
    private static func instanceID(_ path: LwM2MPath) throws(ContentFormatError) -> UInt16 {
        guard case .resourceInstance(_, let id) = path.kind else {
            throw .invalidPath("\(path) is not a resource instance")
        }
        return id
    }

    private static func appendLeaf(_ out: inout [UInt8], kind: Kind, id: UInt16,
                                   value: ResourceValue) throws(ContentFormatError) {
        try appendHeader(&out, kind: kind, id: id, length: try valueLength(value))
        // Same bytes as `encodeValue`, appended in place (no array per value).
        switch value {
        case .string(let text), .coreLink(let text): out.append(contentsOf: text.utf8)
        case .opaque(let bytes): out.append(contentsOf: bytes)
        case .integer(let number), .time(let number): appendBigEndian(&out, UInt64(bitPattern: number),
                                                                      count: integerLength(number))
        case .unsignedInteger(let number):
            let signed = Int64(number)  // < 2^63: checked by valueLength
            appendBigEndian(&out, UInt64(bitPattern: signed), count: integerLength(signed))
        case .float(let number):
            if !number.isNaN, let single = Float(exactly: number) {
                appendBigEndian(&out, UInt64(single.bitPattern), count: 4)
            } else {
                appendBigEndian(&out, number.bitPattern, count: 8)
            }
        case .boolean(let flag): out.append(flag ? 1 : 0)
        case .objectLink(let link):
            appendBigEndian(&out, UInt64(link.objectID) << 16 | UInt64(link.instanceID), count: 4)
        }
    }

    /// The size of `encodeValue(value)`, without building it.
    private static func valueLength(_ value: ResourceValue) throws(ContentFormatError) -> Int {
        switch value {
        case .string(let text), .coreLink(let text): return text.utf8.count
        case .opaque(let bytes): return bytes.count
        case .integer(let number), .time(let number): return integerLength(number)
        case .unsignedInteger(let number):
            guard let signed = Int64(exactly: number) else {
                throw .unsupported("unsigned value \(number) ≥ 2^63 cannot be expressed in TLV")
            }
            return integerLength(signed)
        case .float(let number): return !number.isNaN && Float(exactly: number) != nil ? 4 : 8
        case .boolean: return 1
        case .objectLink: return 4
        }
    }

    /// The size of the header `appendHeader` writes.
    private static func headerLength(id: UInt16, length: Int) -> Int {
        1 + (id > 0xFF ? 2 : 1) + (length < 8 ? 0 : length <= 0xFF ? 1 : length <= 0xFFFF ? 2 : 3)
    }

    private static func integerLength(_ number: Int64) -> Int {
        Int8(exactly: number) != nil ? 1 : Int16(exactly: number) != nil ? 2 : Int32(exactly: number) != nil ? 4 : 8
    }

    private static func appendBigEndian(_ out: inout [UInt8], _ raw: UInt64, count: Int) {
        for index in stride(from: count - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: raw >> (8 * UInt64(index))))
        }
    }

    /// Type byte, identifier and length field, each in its shortest form.
    static func appendHeader(_ out: inout [UInt8], kind: Kind, id: UInt16, length: Int) throws(ContentFormatError) {
        guard length <= maxLength else {
            throw .tooLarge("TLV \(id) holds \(length) bytes, the maximum is \(maxLength)")
        }
        var typeByte = kind.rawValue << 6
        if id > 0xFF { typeByte |= 0x20 }
        let lengthSize = length < 8 ? 0 : length <= 0xFF ? 1 : length <= 0xFFFF ? 2 : 3
        typeByte |= lengthSize == 0 ? UInt8(length) : UInt8(lengthSize) << 3
        out.append(typeByte)
        if id > 0xFF { out.append(UInt8(id >> 8)) }
        out.append(UInt8(truncatingIfNeeded: id))
        for shift in stride(from: 8 * (lengthSize - 1), through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: length >> shift))
        }
    }

    /// The bytes of one value (the table in ``TLV``).
    static func encodeValue(_ value: ResourceValue) throws(ContentFormatError) -> [UInt8] {
        switch value {
        case .string(let text), .coreLink(let text):
            return Array(text.utf8)
        case .opaque(let bytes):
            return bytes
        case .integer(let number), .time(let number):
            return encodeInteger(number)
        case .unsignedInteger(let number):
            guard let signed = Int64(exactly: number) else {
                throw .unsupported("unsigned value \(number) ≥ 2^63 cannot be expressed in TLV")
            }
            return encodeInteger(signed)
        case .float(let number):
            if !number.isNaN, let single = Float(exactly: number) {
                return bigEndianBytes(UInt64(single.bitPattern), count: 4)
            }
            return bigEndianBytes(number.bitPattern, count: 8)
        case .boolean(let flag):
            return [flag ? 1 : 0]
        case .objectLink(let link):
            return bigEndianBytes(UInt64(link.objectID) << 16 | UInt64(link.instanceID), count: 4)
        }
    }

    /// Two's complement in the smallest of 1, 2, 4 or 8 bytes.
    static func encodeInteger(_ number: Int64) -> [UInt8] {
        let count = Int8(exactly: number) != nil ? 1 : Int16(exactly: number) != nil ? 2
            : Int32(exactly: number) != nil ? 4 : 8
        return bigEndianBytes(UInt64(bitPattern: number), count: count)
    }

    static func bigEndianBytes(_ raw: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64(count - 1 - $0))) }
    }
}
