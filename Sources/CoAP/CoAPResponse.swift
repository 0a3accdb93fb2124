/// A response to send: code, options and payload. The endpoint picks type, message ID and token,
/// and serves a large payload block by block (Block2).
public struct CoAPResponse: Hashable, Sendable {
    public var code: CoAPCode
    public var options: [CoAPOption]
    public var payload: [UInt8]

    public init(_ code: CoAPCode, options: [CoAPOption] = [], payload: [UInt8] = []) {
        self.code = code
        self.options = options.isSortedByNumber ? options : options.sortedByNumber()
        self.payload = payload
    }

    public init(_ code: CoAPCode, contentFormat: UInt16, payload: [UInt8]) {
        self.init(code, options: [CoAPOption(.contentFormat, uint: UInt32(contentFormat))], payload: payload)
    }

    /// An error response with a diagnostic payload (RFC 7252 §5.5.2).
    public static func error(_ code: CoAPCode, _ diagnostic: String) -> CoAPResponse {
        CoAPResponse(code, payload: Array(diagnostic.utf8))
    }
}
