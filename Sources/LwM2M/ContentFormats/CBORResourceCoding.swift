/// Resource values ↔ CBOR items, shared by SenML CBOR (SenMLCBOR.swift) and LwM2M CBOR
/// (LwM2MCBOR.swift): numbers (integers, floats, decimal fractions), text, bytes, object links.
enum CBORResourceCoding {
    /// A CBOR number: integer, float or decimal fraction, reduced to Int64/UInt64/Double.
    enum Number: Equatable {
        case int(Int64)
        case uint(UInt64)  // above Int64.max
        case double(Double)

        var doubleValue: Double {
            switch self {
            case .int(let v): Double(v)
            case .uint(let v): Double(v)
            case .double(let v): v
            }
        }

        /// The exact integer value, if any.
        var int64Value: Int64? {
            switch self {
            case .int(let v): v
            case .uint: nil
            case .double(let v): Int64(exactly: v)
            }
        }

        /// The exact unsigned value, if any.
        var uint64Value: UInt64? {
            switch self {
            case .int(let v): UInt64(exactly: v)
            case .uint(let v): v
            case .double(let v): UInt64(exactly: v)
            }
        }
    }

    /// The number in `item`: a CBOR integer, a float, a decimal fraction (tag 4, RFC 8949
    /// §3.4.4 — SenML allows them, RFC 8428 §6) or an epoch time (tag 1) wrapping a number.
    static func number(_ item: CBORValue) -> Number? {
        switch item {
        case .unsigned(let n): return n <= UInt64(Int64.max) ? .int(Int64(n)) : .uint(n)
        case .negative(let n): return n <= UInt64(Int64.max) ? .int(-1 - Int64(n)) : .double(-1 - Double(n))
        case .float(let d): return .double(d)
        case .tagged(1, let inner):
            if case .tagged = inner { return nil }
            return number(inner)
        case .tagged(4, .array(let parts)):
            guard parts.count == 2, let exponent = parts[0].int64Value, let mantissa = parts[1].int64Value else {
                return nil
            }
            return decimalFraction(mantissa: mantissa, exponent: exponent)
        default: return nil
        }
    }

    /// mantissa × 10^exponent, as an integer when exact, else the nearest double we can get
    /// without Foundation (exact for |exponent| ≤ 22 and mantissas below 2^53); nil when the
    /// value is beyond the range of a double (it would be infinite). Any exponent is accepted,
    /// Int64.min included: its magnitude is taken as a UInt64 (`abs` would trap on it), and a
    /// value far below the smallest double is 0 (with the mantissa's sign).
    static func decimalFraction(mantissa: Int64, exponent: Int64) -> Number? {
        if exponent >= 0, exponent <= 18 {
            var scale: Int64 = 1
            for _ in 0..<exponent { scale *= 10 }
            let (product, overflow) = mantissa.multipliedReportingOverflow(by: scale)
            if !overflow { return .int(product) }
        }
        // Beyond 400 the result is 0 or infinite anyway (|mantissa| < 10^19, doubles < 10^309).
        let magnitude = Int(min(exponent.magnitude, 400))
        var value = Double(mantissa)
        var remaining = magnitude
        while remaining > 0 {
            let step = min(remaining, 22)
            var power = 1.0
            for _ in 0..<step { power *= 10 }
            value = exponent < 0 ? value / power : value * power
            remaining -= step
        }
        return value.isFinite ? .double(value) : nil
    }

    /// Checks that `paths` are resource or resource-instance paths, that no resource has both a
    /// value and instances, and (unless `allowRepeats`) that no path repeats. Throws
    /// `.invalidPath` when encoding, `.malformed` (a bad payload) when decoding.
    static func checkLeaves(_ paths: [LwM2MPath], allowRepeats: Bool, encoding: Bool) throws {
        // Fast path, no hashing: paths in strictly ascending order (what a registry read gives)
        // cannot repeat, and a resource with instances would be directly followed by its first
        // instance. Anything else takes the general check below, with its error messages.
        if paths.allSatisfy({ (3...4).contains($0.depth) })
            && zip(paths, paths.dropFirst()).allSatisfy({ $0 < $1 && !($0.isResource && $0.contains($1)) })
        {
            return
        }
        func fail(_ what: String) -> ContentFormatError { encoding ? .invalidPath(what) : .malformed(what) }
        var seen = Set<LwM2MPath>()
        var resourcesWithInstances = Set<LwM2MPath>()
        for path in paths {
            guard (3...4).contains(path.depth) else {
                throw ContentFormatError.invalidPath("\(path) is not a resource or resource instance")
            }
            guard seen.insert(path).inserted || allowRepeats else { throw fail("\(path) occurs twice") }
            if path.isResourceInstance { resourcesWithInstances.insert(path.parent) }
            guard !(path.isResourceInstance ? seen.contains(path.parent) : resourcesWithInstances.contains(path)) else {
                throw fail("resource \(path.isResourceInstance ? path.parent : path) has both a value and instances")
            }
        }
    }

    /// The LwM2M CBOR leaf item for a value.
    static func item(for value: ResourceValue) -> CBORValue {
        switch value {
        case .string(let s), .coreLink(let s): .text(s)
        case .integer(let v), .time(let v): .integer(v)
        case .unsignedInteger(let v): .unsigned(v)
        case .float(let v): .float(v)
        case .boolean(let v): .bool(v)
        case .opaque(let bytes): .bytes(bytes)
        case .objectLink(let link): .text(link.description)
        }
    }

    /// The value of a SenML value field (with the base value, if any, added to `v`).
    static func resourceValue(senml field: SenMLCBOR.ValueField, baseValue: CBORValue?, path: LwM2MPath,
                              type: ResourceType?) throws -> ResourceValue {
        switch field {
        case .number(let item):
            guard var number = number(item) else {
                throw ContentFormatError.malformed("SenML value of \(path) is not a number (or out of range)")
            }
            if let baseValue, let base = self.number(baseValue) { number = sum(base, number) }
            return try numericValue(number, path: path, type: type, isEpochTagged: false)
        case .string(let text):
            switch type {
            case nil, .string: return .string(text)
            case .coreLink: return .coreLink(text)
            case .objectLink: return try objectLink(text, path: path)  // older encoders put Objlnk in vs
            case .some(let expected): throw ContentFormatError.typeMismatch(path, expected: expected)
            }
        case .boolean(let flag):
            guard type == nil || type == .boolean else { throw ContentFormatError.typeMismatch(path, expected: type!) }
            return .boolean(flag)
        case .data(let bytes):
            guard type == nil || type == .opaque else { throw ContentFormatError.typeMismatch(path, expected: type!) }
            return .opaque(bytes)
        case .objectLink(let text):
            guard type == nil || type == .objectLink else { throw ContentFormatError.typeMismatch(path, expected: type!) }
            return try objectLink(text, path: path)
        }
    }

    /// The value of an LwM2M CBOR leaf item.
    static func resourceValue(item: CBORValue, path: LwM2MPath, type: ResourceType?) throws -> ResourceValue {
        switch item {
        case .text(let text):
            switch type {
            case nil, .string: return .string(text)
            case .coreLink: return .coreLink(text)
            case .objectLink: return try objectLink(text, path: path)
            case .some(let expected): throw ContentFormatError.typeMismatch(path, expected: expected)
            }
        case .bytes(let bytes):
            guard type == nil || type == .opaque else { throw ContentFormatError.typeMismatch(path, expected: type!) }
            return .opaque(bytes)
        case .bool(let flag):
            guard type == nil || type == .boolean else { throw ContentFormatError.typeMismatch(path, expected: type!) }
            return .boolean(flag)
        default:
            guard let number = number(item) else {
                if let type { throw ContentFormatError.typeMismatch(path, expected: type) }
                throw ContentFormatError.malformed("CBOR item \(item) for \(path) is not a resource value (or a number out of range)")
            }
            var isEpochTagged = false
            if case .tagged(1, _) = item { isEpochTagged = true }
            return try numericValue(number, path: path, type: type, isEpochTagged: isEpochTagged)
        }
    }

    /// A number as the resource's type, or in its natural type without one.
    private static func numericValue(_ number: Number, path: LwM2MPath, type: ResourceType?,
                                     isEpochTagged: Bool) throws -> ResourceValue {
        switch type {
        case nil:
            switch number {
            case .int(let v): return isEpochTagged ? .time(v) : .integer(v)
            case .uint(let v): return .unsignedInteger(v)
            case .double(let v):
                if isEpochTagged, let whole = Int64(exactly: v) { return .time(whole) }
                return .float(v)
            }
        case .integer:
            guard let v = number.int64Value else { throw ContentFormatError.typeMismatch(path, expected: .integer) }
            return .integer(v)
        case .time:
            guard let v = number.int64Value else { throw ContentFormatError.typeMismatch(path, expected: .time) }
            return .time(v)
        case .unsignedInteger:
            guard let v = number.uint64Value else {
                throw ContentFormatError.typeMismatch(path, expected: .unsignedInteger)
            }
            return .unsignedInteger(v)
        case .float:
            return .float(number.doubleValue)
        case .some(let expected):
            throw ContentFormatError.typeMismatch(path, expected: expected)
        }
    }

    /// bv + v: exact for integers that do not overflow, else in Double.
    private static func sum(_ a: Number, _ b: Number) -> Number {
        if case .int(let x) = a, case .int(let y) = b {
            let (total, overflow) = x.addingReportingOverflow(y)
            if !overflow { return .int(total) }
        }
        return .double(a.doubleValue + b.doubleValue)
    }

    /// "oid:iid" with decimal IDs 0...65535 (65535:65535 is the null link).
    private static func objectLink(_ text: String, path: LwM2MPath) throws -> ResourceValue {
        let parts = text.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy { $0 >= 48 && $0 <= 57 } }),
              let link = ObjectLink(text)
        else { throw ContentFormatError.typeMismatch(path, expected: .objectLink) }
        return .objectLink(link)
    }
}
