import CoAP

extension LwM2MPath {
    /// The path a request's Uri-Path options name, parsed from the option bytes (no `String`
    /// per segment: the served Read's hot path), by the same rules as `init?(segments:)`; no
    /// Uri-Path option is the root.
    public init?(uriPathOf message: CoAPMessage) {
        self.init(segmentBytes: message.options.lazy.filter { $0.number == .uriPath }.map(\.value))
    }
}
