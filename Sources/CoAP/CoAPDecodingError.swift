/// Why a datagram is not a well-formed CoAP message (RFC 7252 §3, §4.2–4.3 "message format error").
public enum CoAPDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than the 4 header bytes.
    case truncatedHeader(length: Int)
    /// Version field other than 1 (such messages are silently ignored).
    case unsupportedVersion(UInt8)
    /// Token length nibble 9...15 (reserved).
    case invalidTokenLength(UInt8)
    /// The datagram ends inside the token.
    case truncatedToken
    /// Option delta nibble 15 that is not the 0xFF payload marker.
    case reservedOptionDelta
    /// Option length nibble 15.
    case reservedOptionLength
    /// The datagram ends inside an option header or value.
    case truncatedOption
    /// Accumulated option number exceeds 65535.
    case optionNumberOverflow
    /// A payload marker followed by zero bytes.
    case emptyPayloadAfterMarker
    /// A 0.00 message that carries a token, options or payload.
    case nonEmptyEmptyMessage
    /// Code class 1, 6 or 7.
    case reservedCodeClass(UInt8)

    public var description: String {
        switch self {
        case .truncatedHeader(let n): "datagram of \(n) bytes is shorter than the 4-byte CoAP header"
        case .unsupportedVersion(let v): "unsupported CoAP version \(v)"
        case .invalidTokenLength(let n): "reserved token length \(n)"
        case .truncatedToken: "datagram ends inside the token"
        case .reservedOptionDelta: "reserved option delta 15"
        case .reservedOptionLength: "reserved option length 15"
        case .truncatedOption: "datagram ends inside an option"
        case .optionNumberOverflow: "option number exceeds 65535"
        case .emptyPayloadAfterMarker: "payload marker without payload"
        case .nonEmptyEmptyMessage: "empty message (0.00) with token, options or payload"
        case .reservedCodeClass(let c): "reserved code class \(c)"
        }
    }
}

/// Why a message cannot be encoded.
public enum CoAPEncodingError: Error, Hashable, Sendable {
    /// An option value longer than the 65804 bytes the format can express.
    case optionTooLong(OptionNumber, length: Int)
}
