import CoAP

extension LwM2MPath {
    /// The path a request's Uri-Path options name, parsed from the option bytes (no `String`
    /// per segment: the served Read's hot path). Accepts exactly what `init?(segments:)` accepts
    /// for `message.uriPath`: at most four segments, each decimal digits without a leading zero,
    /// 0...65534; no Uri-Path option is the root.
    public init?(uriPathOf message: CoAPMessage) {
        var ids: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)
        var count = 0
        for option in message.options where option.number == .uriPath {
            guard count < 4, let id = Self.parseID(bytes: option.value) else { return nil }
            switch count {
            case 0: ids.0 = id
            case 1: ids.1 = id
            case 2: ids.2 = id
            default: ids.3 = id
            }
            count += 1
        }
        switch count {
        case 0: self.init(.root)
        case 1: self.init(.object(ids.0))
        case 2: self.init(.instance(InstancePath(ids.0, ids.1)))
        case 3: self.init(.resource(ResourcePath(ids.0, ids.1, ids.2)))
        default: self.init(.resourceInstance(ResourcePath(ids.0, ids.1, ids.2), ids.3))
        }
    }

    /// One segment's bytes: 1...5 ASCII digits, no leading zero (except "0"), at most 65534.
    private static func parseID(bytes: [UInt8]) -> UInt16? {
        guard !bytes.isEmpty, bytes.count <= 5, bytes.count == 1 || bytes[0] != UInt8(ascii: "0") else { return nil }
        var value: UInt32 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
        }
        return value < 65535 ? UInt16(value) : nil
    }
}
