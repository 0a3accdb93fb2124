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
            guard !record.path.ids.contains(65535) else { throw .invalidPath("reserved ID 65535 in \(record.path)") }
        }
        let sorted = records.sorted { $0.path < $1.path }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.path == next.path {
            throw .invalidPath("\(next.path) appears twice")
        }

        var out: [UInt8] = []
        switch base.depth {
        case 1:
            for group in groups(sorted[...], level: 1) {
                let children = try resources(group)
                try appendHeader(&out, kind: .objectInstance, id: group.first!.path.instanceID!, length: children.count)
                out += children
            }
        case 2:
            out = try resources(sorted[...])
        case 3:
            if !sorted.isEmpty { out = try resources(sorted[...]) }
        default:
            guard sorted.count == 1 else {
                throw .invalidPath("a TLV payload for \(base) holds exactly one resource instance")
            }
            try appendLeaf(&out, kind: .resourceInstance, id: base.resourceInstanceID!, value: sorted[0].value)
        }
        return out
    }

    /// Consecutive runs of records that share the ID at `level` (records are sorted).
    private static func groups(_ records: ArraySlice<LwM2MRecord>, level: Int) -> [ArraySlice<LwM2MRecord>] {
        var result: [ArraySlice<LwM2MRecord>] = []
        var start = records.startIndex
        while start < records.endIndex {
            let id = records[start].path.ids[level]
            var end = start + 1
            while end < records.endIndex, records[end].path.ids[level] == id { end += 1 }
            result.append(records[start..<end])
            start = end
        }
        return result
    }

    /// The resource TLVs for the sorted records of one object instance.
    private static func resources(_ records: ArraySlice<LwM2MRecord>) throws(ContentFormatError) -> [UInt8] {
        var out: [UInt8] = []
        for group in groups(records, level: 2) {
            let first = group.first!
            let resourceID = first.path.resourceID!
            if first.path.isResource {
                guard group.count == 1 else {
                    throw .invalidPath("\(first.path) has both a value and resource instances")
                }
                try appendLeaf(&out, kind: .resourceValue, id: resourceID, value: first.value)
            } else {
                var children: [UInt8] = []
                for record in group {
                    try appendLeaf(&children, kind: .resourceInstance, id: record.path.resourceInstanceID!,
                                   value: record.value)
                }
                try appendHeader(&out, kind: .multipleResource, id: resourceID, length: children.count)
                out += children
            }
        }
        return out
    }

    private static func appendLeaf(_ out: inout [UInt8], kind: Kind, id: UInt16,
                                   value: ResourceValue) throws(ContentFormatError) {
        let bytes = try encodeValue(value)
        try appendHeader(&out, kind: kind, id: id, length: bytes.count)
        out += bytes
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
