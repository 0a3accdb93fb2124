/// A request to send: method, options (Uri-Path, Content-Format …) and payload.
/// The endpoint assigns message ID and token, and splits a large payload into Block1 blocks.
public struct CoAPRequest: Hashable, Sendable {
    public var method: CoAPCode
    public var options: [CoAPOption]
    public var payload: [UInt8]
    public var confirmable: Bool

    public init(_ method: CoAPCode, options: [CoAPOption] = [], payload: [UInt8] = [], confirmable: Bool = true) {
        self.method = method
        self.options = options.isSortedByNumber ? options : options.sortedByNumber()
        self.payload = payload
        self.confirmable = confirmable
    }

    /// A request for `path` ("/rd", "3/0/1"); `query` items become Uri-Query options.
    public init(
        _ method: CoAPCode, path: String, query: [String] = [], contentFormat: UInt16? = nil,
        payload: [UInt8] = [], confirmable: Bool = true
    ) {
        var options: [CoAPOption] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            options.append(CoAPOption(.uriPath, string: String(segment)))
        }
        if let contentFormat { options.append(CoAPOption(.contentFormat, uint: UInt32(contentFormat))) }
        for item in query { options.append(CoAPOption(.uriQuery, string: item)) }
        self.init(method, options: options, payload: payload, confirmable: confirmable)
    }
}
