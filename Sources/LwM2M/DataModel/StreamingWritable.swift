import CoAP

/// An object that takes the value of some opaque resources block by block as a server writes
/// them with Block1 (a firmware package of tens of MiB), instead of whole in one
/// `write(_:_:)`: the CoAP engine streams those writes (`EndpointConfiguration.block1Streaming`,
/// rules from `ObjectRegistry.block1StreamRules`) and `RequestHandler.handleBlock` hands each
/// block here after the same checks as a Write (path, write operation, access control).
///
/// Only `application/octet-stream` (Content-Format 42) streams: the bytes of a block are the
/// resource's bytes at `offset`. A TLV or SenML value cannot be decoded a block at a time, so a
/// block-wise write in another format is refused with 4.15; a body in one message (with or
/// without a Block1 option) is an ordinary Write and reaches `write(_:_:)` whole, whatever its
/// format.
public protocol StreamingWritable: LwM2MObject {
    /// The resources (IDs) whose block-wise writes stream. Each must be an opaque resource the
    /// definition lets a server write. Default: every such resource of the definition.
    var streamedResources: [UInt16] { get }

    /// The next block of a write of the resource at `path` (`/o/i/r`, `r` in
    /// `streamedResources`). `offset` 0 starts the value, or starts it again (a server
    /// restarting the transfer: drop what was received); later blocks follow each other
    /// without gap or overlap. `isLast` ends the value. `format` is the request's
    /// Content-Format (always 42 today). Throwing ends the transfer: the server gets the
    /// error's response code, and receives no further block.
    func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?)
        throws(LwM2MError)

    /// `receiveBlock` with the value's total size as block 0 announced it (CoAP Size1), nil when
    /// it did not: an object with limited room refuses there, before storing anything. The
    /// default ignores the size and calls `receiveBlock(_:offset:bytes:isLast:format:)`.
    func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?,
                      announcedSize: Int64?) throws(LwM2MError)

    /// The transfer to `path` ended without its last block: the server stopped sending for
    /// EXCHANGE_LIFETIME, sent a block out of sequence, or exceeded the size limit. Drop what
    /// was received (the Firmware Update object goes back to Idle).
    func abandonBlocks(_ path: LwM2MPath)
}

extension StreamingWritable {
    /// Ignores the announced size.
    public func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?,
                             announcedSize: Int64?) throws(LwM2MError) {
        try receiveBlock(path, offset: offset, bytes: bytes, isLast: isLast, format: format)
    }

    /// Every opaque resource the definition lets a server write.
    public var streamedResources: [UInt16] {
        definition.resources.filter { $0.type == .opaque && $0.operations.contains(.write) }.map(\.id)
    }
}

extension ObjectRegistry {
    /// The CoAP engine's streaming rules for the registered `StreamingWritable` objects: a PUT
    /// (Write) of a streamed resource of any instance, `/o/*/r`. Set them in
    /// `EndpointConfiguration.block1Streaming.rules` where the endpoint is made.
    public var block1StreamRules: [Block1StreamRule] {
        var rules: [Block1StreamRule] = []
        for id in objectIDs {
            guard let object = object(id) as? any StreamingWritable else { continue }
            for resource in object.streamedResources.sorted() {
                rules.append(Block1StreamRule(method: .put, path: [String(id), nil, String(resource)]))
            }
        }
        return rules
    }
}
