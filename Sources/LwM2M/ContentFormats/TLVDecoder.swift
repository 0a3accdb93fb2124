/// The LwM2M TLV content format (`application/vnd.oma.lwm2m+tlv`, content format 11542;
/// OMA-TS-LightweightM2M_Core 1.1 §7.4.3). Static and sans-IO: bytes in, records out and back.
///
/// Wire layout of one TLV (TS 1.1 §7.4.3):
///
///     type byte:  bits 7–6  identifier type: 00 object instance, 01 resource instance,
///                           10 multiple resource, 11 resource with value
///                 bit 5     identifier is 16 bits (else 8)
///                 bits 4–3  length field size: 00 none (length in bits 2–0), 01 8 bits,
///                           10 16 bits, 11 24 bits
///                 bits 2–0  the length when bits 4–3 are 00 (ignored otherwise)
///     identifier: 1 or 2 bytes, big-endian
///     length:     0–3 bytes, big-endian
///     value:      `length` bytes; for types 00 and 10 the value is a sequence of child TLVs
///
/// The nesting is fixed: object instance ⊃ resources (11) and multiple resources (10);
/// multiple resource ⊃ resource instances (01). Nothing else nests.
///
/// Values (TS 1.1 Appendix C, TLV column), as this codec writes and reads them:
///
/// | type             | written                                         | read                        |
/// |------------------|-------------------------------------------------|-----------------------------|
/// | Integer, Time    | two's complement, big-endian, the smallest of   | 1, 2, 4 or 8 bytes          |
/// |                  | 1/2/4/8 bytes that holds the value               |                             |
/// | Unsigned Integer | as a non-negative Integer: 200 → `00 C8`          | 1/2/4/8 bytes; see below    |
/// |                  | (≥ 2^63 cannot be written → `.unsupported`)       |                             |
/// | Float            | 4 bytes (binary32) when the value is exactly     | 4 or 8 bytes                |
/// |                  | representable in binary32 (±0, ±∞ included),      |                             |
/// |                  | else 8 bytes (binary64; NaN always 8 bytes)        |                             |
/// | Boolean          | 1 byte, 0 or 1                                   | exactly 1 byte, 0 or 1       |
/// | Objlnk           | 4 bytes: object ID, instance ID (16 bits each)   | exactly 4 bytes             |
/// | String, Corelnk  | UTF-8                                            | valid UTF-8                 |
/// | Opaque           | raw bytes                                        | raw bytes                   |
///
/// Unsigned integers on read: a 1-, 2- or 4-byte value whose top bit is set is read as an
/// unsigned number (`C8` → 200). Correct peers never send that (they widen to `00 C8`), but some
/// implementations (Wakaama's unsigned encoder) do, and reading it as unsigned is the only
/// interpretation that makes sense for an unsigned resource. An 8-byte value with the top bit set
/// is rejected (`.typeMismatch`): it is either a negative number or a value ≥ 2^63, which this
/// codec cannot write back.
///
/// Any value of any wrong length is `.typeMismatch`; a length running past its container is
/// `.truncated`; a container TLV where none may stand is `.nestingTooDeep`; a TLV of the wrong
/// kind for its place, or a duplicate ID, is `.malformed`; an ID that contradicts the request
/// path, or the reserved ID 65535, is `.invalidPath`.
public enum TLV {
    /// The identifier type (bits 7–6 of the type byte).
    enum Kind: UInt8, Sendable {
        case objectInstance = 0b00
        case resourceInstance = 0b01
        case multipleResource = 0b10
        case resourceValue = 0b11
    }

    /// One TLV as it sits in the buffer: its kind, identifier and the range of its value.
    struct Element {
        var kind: Kind
        var id: UInt16
        var value: Range<Int>
    }

    /// The largest value a 24-bit length field can announce.
    static let maxLength = 0xFF_FFFF

    /// Decodes a TLV payload received for `base`.
    ///
    /// - `base` = `/o`: a sequence of object-instance TLVs. When `implicitInstanceID` is given,
    ///   a payload of bare resource TLVs is also accepted and placed in that instance (a Create
    ///   on `/o` whose payload carries no object-instance TLV: the caller passes the ID it will
    ///   assign); without it such a payload is `.invalidPath`.
    /// - `base` = `/o/i`: resource TLVs, or exactly one object-instance TLV with ID `i` wrapping
    ///   them (servers send both forms for Write on `/o/i`).
    /// - `base` = `/o/i/r`: one resource TLV (11) or multiple-resource TLV (10) with ID `r`, or a
    ///   bare list of resource-instance TLVs for a multiple resource; an enclosing
    ///   object-instance TLV with ID `i` is tolerated. An empty payload is accepted only for a
    ///   multiple resource (no instances).
    /// - `base` = `/o/i/r/ri`: exactly one resource-instance TLV with ID `ri`.
    /// - the root path: `.unsupported` (TLV cannot carry object IDs).
    ///
    /// - Parameters:
    ///   - type: the data type of a resource, asked with the resource path `/o/i/r` (also for
    ///     its instances); `nil` → `.unknownResource`.
    ///   - isMultiple: whether the resource `/o/i/r` is multi-instance. A single-value TLV for a
    ///     multiple resource, or a multiple-resource TLV for a single one, is `.invalidPath`.
    /// - Returns: the leaf records in payload order.
    public static func decode(
        _ bytes: [UInt8], base: LwM2MPath, implicitInstanceID: UInt16? = nil,
        type: (LwM2MPath) -> ResourceType?, isMultiple: (LwM2MPath) -> Bool
    ) throws(ContentFormatError) -> [LwM2MRecord] {
        var decoder = Decoder(bytes: bytes)
        let top = try decoder.elements(in: 0..<bytes.count)
        switch base.depth {
        case 0:
            throw .unsupported("TLV cannot carry a payload for the root path")
        case 1:
            if top.isEmpty { return [] }
            if top.allSatisfy({ $0.kind == .objectInstance }) {
                var seen = Set<UInt16>()
                for element in top {
                    let instance = try checkedID(element.id, under: base)
                    guard seen.insert(element.id).inserted else {
                        throw .malformed("object instance \(instance) appears twice")
                    }
                    let children = try decoder.elements(in: element.value)
                    try decoder.resources(children, instance: instance, type: type, isMultiple: isMultiple)
                }
            } else if top.allSatisfy({ $0.kind == .resourceValue || $0.kind == .multipleResource }) {
                guard let implicitInstanceID else {
                    throw .invalidPath("resources without an object instance TLV for \(base)")
                }
                try decoder.resources(top, instance: checkedID(implicitInstanceID, under: base),
                                      type: type, isMultiple: isMultiple)
            } else {
                throw .malformed("expected object instance TLVs for \(base)")
            }
        case 2:
            if top.count == 1, top[0].kind == .objectInstance {
                guard top[0].id == base.instanceID else {
                    throw .invalidPath("object instance TLV \(top[0].id) in a payload for \(base)")
                }
                let children = try decoder.elements(in: top[0].value)
                try decoder.resources(children, instance: base, type: type, isMultiple: isMultiple)
            } else if top.contains(where: { $0.kind == .objectInstance }) {
                throw .malformed("a payload for \(base) may hold one object instance TLV, and nothing beside it")
            } else {
                try decoder.resources(top, instance: base, type: type, isMultiple: isMultiple)
            }
        case 3:
            var level = top
            if level.count == 1, level[0].kind == .objectInstance {
                guard level[0].id == base.instanceID else {
                    throw .invalidPath("object instance TLV \(level[0].id) in a payload for \(base)")
                }
                level = try decoder.elements(in: level[0].value)
            }
            if level.isEmpty || level.allSatisfy({ $0.kind == .resourceInstance }) {
                guard isMultiple(base) else {
                    if level.isEmpty { throw .malformed("no value for single resource \(base)") }
                    throw .invalidPath("resource instances for single resource \(base)")
                }
                guard let resourceType = type(base) else { throw .unknownResource(base) }
                try decoder.instances(level, resource: base, type: resourceType)
            } else if level.count == 1, level[0].kind == .resourceValue || level[0].kind == .multipleResource {
                guard level[0].id == base.resourceID else {
                    throw .invalidPath("resource TLV \(level[0].id) in a payload for \(base)")
                }
                try decoder.resource(level[0], path: base, type: type, isMultiple: isMultiple)
            } else {
                throw .malformed("expected one resource TLV for \(base)")
            }
        default:
            let resource = base.parent
            guard isMultiple(resource) else {
                throw .invalidPath("\(base) is an instance of single resource \(resource)")
            }
            guard top.count == 1, top[0].kind == .resourceInstance else {
                throw .malformed("expected one resource instance TLV for \(base)")
            }
            guard top[0].id == base.resourceInstanceID else {
                throw .invalidPath("resource instance TLV \(top[0].id) in a payload for \(base)")
            }
            guard let resourceType = type(resource) else { throw .unknownResource(resource) }
            try decoder.instances(top, resource: resource, type: resourceType)
        }
        return decoder.records
    }

    /// `parent` extended by `id`, refusing the reserved ID 65535.
    static func checkedID(_ id: UInt16, under parent: LwM2MPath) throws(ContentFormatError) -> LwM2MPath {
        guard id != 65535 else { throw .invalidPath("reserved ID 65535 under \(parent)") }
        return parent.appending(id)
    }

    // MARK: - Structure

    /// The payload being decoded and the records found so far. The resolvers are passed to each
    /// method (they are non-escaping, so they cannot be stored).
    private struct Decoder {
        let bytes: [UInt8]
        var records: [LwM2MRecord] = []

        /// The TLVs that exactly fill `range` (one nesting level).
        func elements(in range: Range<Int>) throws(ContentFormatError) -> [Element] {
            var result: [Element] = []
            var index = range.lowerBound
            let end = range.upperBound
            while index < end {
                let typeByte = bytes[index]
                index += 1
                let kind = Kind(rawValue: typeByte >> 6)!
                let idSize = typeByte & 0x20 != 0 ? 2 : 1
                let lengthSize = Int((typeByte >> 3) & 0x03)
                guard end - index >= idSize + lengthSize else {
                    throw .truncated("TLV header at offset \(index - 1) needs \(1 + idSize + lengthSize) bytes")
                }
                var id = UInt16(bytes[index])
                if idSize == 2 { id = id << 8 | UInt16(bytes[index + 1]) }
                index += idSize
                var length = Int(typeByte & 0x07)
                if lengthSize > 0 {
                    length = 0
                    for offset in 0..<lengthSize { length = length << 8 | Int(bytes[index + offset]) }
                    index += lengthSize
                }
                guard length <= end - index else {
                    throw .truncated("TLV \(id) announces \(length) bytes, \(end - index) remain")
                }
                result.append(Element(kind: kind, id: id, value: index..<(index + length)))
                index += length
            }
            return result
        }

        /// The resource TLVs (10 or 11) of one object instance.
        mutating func resources(_ elements: [Element], instance: LwM2MPath, type: (LwM2MPath) -> ResourceType?,
                                isMultiple: (LwM2MPath) -> Bool) throws(ContentFormatError) {
            var seen = Set<UInt16>()
            for element in elements {
                switch element.kind {
                case .objectInstance:
                    throw .nestingTooDeep
                case .resourceInstance:
                    throw .malformed("resource instance TLV \(element.id) outside a multiple resource in \(instance)")
                case .resourceValue, .multipleResource:
                    let path = try checkedID(element.id, under: instance)
                    guard seen.insert(element.id).inserted else { throw .malformed("resource \(path) appears twice") }
                    try resource(element, path: path, type: type, isMultiple: isMultiple)
                }
            }
        }

        /// One resource TLV (10 or 11) at `path`.
        mutating func resource(_ element: Element, path: LwM2MPath, type: (LwM2MPath) -> ResourceType?,
                               isMultiple: (LwM2MPath) -> Bool) throws(ContentFormatError) {
            guard let resourceType = type(path) else { throw .unknownResource(path) }
            let multiple = isMultiple(path)
            if element.kind == .resourceValue {
                guard !multiple else { throw .invalidPath("single value for multiple resource \(path)") }
                records.append(LwM2MRecord(path, try value(element.value, type: resourceType, path: path)))
            } else {
                guard multiple else { throw .invalidPath("multiple-resource TLV for single resource \(path)") }
                let children = try elements(in: element.value)
                try instances(children, resource: path, type: resourceType)
            }
        }

        /// The resource-instance TLVs of one multiple resource.
        mutating func instances(_ elements: [Element], resource: LwM2MPath,
                                type resourceType: ResourceType) throws(ContentFormatError) {
            var seen = Set<UInt16>()
            for element in elements {
                switch element.kind {
                case .objectInstance, .multipleResource:
                    throw .nestingTooDeep
                case .resourceValue:
                    throw .malformed("resource TLV \(element.id) inside multiple resource \(resource)")
                case .resourceInstance:
                    let path = try checkedID(element.id, under: resource)
                    guard seen.insert(element.id).inserted else { throw .malformed("\(path) appears twice") }
                    records.append(LwM2MRecord(path, try value(element.value, type: resourceType, path: path)))
                }
            }
        }

        func value(_ range: Range<Int>, type: ResourceType,
                   path: LwM2MPath) throws(ContentFormatError) -> ResourceValue {
            try TLV.decodeValue(bytes[range], type: type, path: path)
        }
    }

    // MARK: - Values

    /// Decodes one TLV value of `type` (`path` names it in errors).
    static func decodeValue(_ bytes: ArraySlice<UInt8>, type: ResourceType,
                            path: LwM2MPath) throws(ContentFormatError) -> ResourceValue {
        let mismatch = ContentFormatError.typeMismatch(path, expected: type)
        switch type {
        case .string:
            guard let text = String(validating: bytes, as: UTF8.self) else { throw mismatch }
            return .string(text)
        case .coreLink:
            guard let text = String(validating: bytes, as: UTF8.self) else { throw mismatch }
            return .coreLink(text)
        case .opaque:
            return .opaque(Array(bytes))
        case .integer:
            guard let value = signedInteger(bytes) else { throw mismatch }
            return .integer(value)
        case .time:
            guard let value = signedInteger(bytes) else { throw mismatch }
            return .time(value)
        case .unsignedInteger:
            guard let raw = bigEndian(bytes) else { throw mismatch }
            // 1, 2, 4 bytes: the unsigned reading (C8 → 200, see the type's documentation);
            // 8 bytes: must read as a non-negative Int64.
            guard bytes.count < 8 || raw <= UInt64(Int64.max) else { throw mismatch }
            return .unsignedInteger(raw)
        case .float:
            switch bytes.count {
            case 4: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bigEndian(bytes)!))))
            case 8: return .float(Double(bitPattern: bigEndian(bytes)!))
            default: throw mismatch
            }
        case .boolean:
            guard bytes.count == 1, bytes.first! <= 1 else { throw mismatch }
            return .boolean(bytes.first! == 1)
        case .objectLink:
            guard bytes.count == 4, let raw = bigEndian(bytes) else { throw mismatch }
            return .objectLink(ObjectLink(objectID: UInt16(truncatingIfNeeded: raw >> 16),
                                          instanceID: UInt16(truncatingIfNeeded: raw)))
        case .none:
            throw mismatch
        }
    }

    /// The big-endian unsigned value of a 1-, 2-, 4- or 8-byte field (nil for other lengths;
    /// objlnk reuses it for its 4 bytes).
    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        switch bytes.count {
        case 1, 2, 4, 8: return bytes.reduce(0) { $0 << 8 | UInt64($1) }
        default: return nil
        }
    }

    /// A two's complement big-endian integer of 1, 2, 4 or 8 bytes, sign-extended.
    static func signedInteger(_ bytes: ArraySlice<UInt8>) -> Int64? {
        guard let raw = bigEndian(bytes) else { return nil }
        let unusedBits = UInt64(64 - 8 * bytes.count)
        return Int64(bitPattern: raw << unusedBits) >> unusedBits
    }
}
