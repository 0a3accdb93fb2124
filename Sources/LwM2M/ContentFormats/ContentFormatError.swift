/// Why a payload cannot be decoded (→ 4.00 Bad Request) or a value cannot be encoded in a
/// content format (→ 4.06 Not Acceptable / 5.00).
public enum ContentFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The payload ends before the structure it announced.
    case truncated(String)
    /// The payload is not valid in its format; the text says where and why.
    case malformed(String)
    /// Nesting deeper than the format or our limit allows.
    case nestingTooDeep
    /// More records or bytes than our limit.
    case tooLarge(String)
    /// A path in the payload that is not valid or lies outside the request's path.
    case invalidPath(String)
    /// The decoder needs the resource's type (TLV, text, opaque) and the path has none.
    case unknownResource(LwM2MPath)
    /// A value does not fit the resource's type (e.g. 300 for a boolean, text for an integer).
    case typeMismatch(LwM2MPath, expected: ResourceType)
    /// The format cannot carry this value or this request shape.
    case unsupported(String)

    public var description: String {
        switch self {
        case .truncated(let what): "truncated payload: \(what)"
        case .malformed(let what): "malformed payload: \(what)"
        case .nestingTooDeep: "payload nested too deeply"
        case .tooLarge(let what): "payload too large: \(what)"
        case .invalidPath(let what): "invalid path: \(what)"
        case .unknownResource(let path): "unknown resource \(path)"
        case .typeMismatch(let path, let expected): "value for \(path) is not a valid \(expected.rawValue)"
        case .unsupported(let what): "not supported: \(what)"
        }
    }
}
