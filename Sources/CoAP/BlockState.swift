/// Identifies "the same resource for the same peer" across the separate requests of a
/// block-wise transfer (RFC 7959 §2.4: same method, Uri-* options and Accept), for the Block2
/// cache. Block1 uploads use `UploadKey`.
struct ResourceKey<Peer: Hashable>: Hashable {
    var peer: Peer
    var bytes: [UInt8]

    init(peer: Peer, request message: CoAPMessage) {
        self.peer = peer
        var bytes = Self.identifyingBytes(of: message)
        // FETCH selects the representation with its body (RFC 8132 §2.3.2).
        if message.code == .fetch { bytes.append(contentsOf: message.payload) }
        self.bytes = bytes
    }

    /// The method, then each Uri-Host, Uri-Port, Uri-Path, Uri-Query and Accept option as
    /// number, length and value (the body is not included).
    static func identifyingBytes(of message: CoAPMessage) -> [UInt8] {
        var bytes: [UInt8] = [message.code.rawValue]
        for option in message.options {
            switch option.number {
            case .uriPath, .uriQuery, .accept, .uriHost, .uriPort:
                // The length in two bytes (values may exceed 255 bytes): no two lists read alike.
                bytes.append(UInt8(truncatingIfNeeded: option.number.rawValue))
                bytes.append(UInt8(truncatingIfNeeded: option.value.count >> 8))
                bytes.append(UInt8(truncatingIfNeeded: option.value.count))
                bytes.append(contentsOf: option.value)
            default:
                continue
            }
        }
        return bytes
    }
}

/// A response body split into Block2 blocks, kept so later block requests are served without
/// asking the application again (server role).
struct CachedRepresentation {
    var code: CoAPCode
    /// Response options other than Block2, Size2 and Observe.
    var options: [CoAPOption]
    var body: [UInt8]
    var expiry: Instant
}

/// 32-bit FNV-1a, used as an ETag for block-wise representations the application left untagged.
func fnv1a32(_ bytes: [UInt8]) -> [UInt8] {
    var hash: UInt32 = 0x811C_9DC5
    for byte in bytes {
        hash ^= UInt32(byte)
        hash = hash &* 0x0100_0193
    }
    return [UInt8(hash >> 24), UInt8(truncatingIfNeeded: hash >> 16), UInt8(truncatingIfNeeded: hash >> 8),
            UInt8(truncatingIfNeeded: hash)]
}
