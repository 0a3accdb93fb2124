extension ResourceContent {
    /// The single value as a string, if it is one.
    var stringValue: String? {
        if case .single(.string(let value)) = self { return value }
        return nil
    }

    /// The single value as a Boolean, if it is one.
    var boolValue: Bool? {
        if case .single(.boolean(let value)) = self { return value }
        return nil
    }

    /// The single value as opaque bytes, if it is one.
    var opaqueValue: [UInt8]? {
        if case .single(.opaque(let value)) = self { return value }
        return nil
    }

    /// The single value as a signed integer (integer, unsigned integer in range, or time).
    var integerValue: Int64? {
        guard case .single(let value) = self else { return nil }
        return value.integerValue
    }
}

extension ResourceValue {
    /// The value as a signed integer (integer, unsigned integer in range, or time).
    var integerValue: Int64? {
        switch self {
        case .integer(let value), .time(let value): return value
        case .unsignedInteger(let value): return Int64(exactly: value)
        default: return nil
        }
    }
}
