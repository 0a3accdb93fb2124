import CoAP

// A Write of a resource streamed block by block (Block1, `StreamingWritable`): each block is
// checked as a Write is and handed to the object.

extension RequestHandler {
    /// The answer to one block of a streamed Write (`IncomingRequest.streamedBlock`) from
    /// `server` (nil: no access control): 2.31 Continue for a block taken that is not the last,
    /// 2.04 Changed for the last one, an error otherwise (which ends the transfer).
    ///
    /// Every block is checked as a Write of a resource is: a PUT (a POST on a resource is an
    /// Execute: 4.05), no Uri-Query (Write-Attributes has no body: 4.00), an LwM2M path of a
    /// resource (4.00 / 4.05), not the Security or OSCORE object (4.01), the instance and the
    /// resource exist (4.04), the resource is writable (4.05), the server holds the Write right
    /// (4.01, access control); then the object must be `StreamingWritable` and stream that
    /// resource (4.13 otherwise: this target takes no body larger than one block), and the
    /// Content-Format must be 42, application/octet-stream (4.15 otherwise).
    public func handleBlock(_ message: CoAPMessage, block: StreamedBlock, registry: ObjectRegistry,
                            server: ServerContext? = nil) -> CoAPResponse {
        guard let path = LwM2MPath(segments: message.uriPath) else {
            return .error(.badRequest, "bad request: \"\(message.path)\" is not an LwM2M path")
        }
        if let objectID = path.objectID, Self.bootstrapOnlyObjects.contains(objectID) {
            return LwM2MError.unauthorized.response
        }
        do throws(LwM2MError) {
            guard message.code == .put else { throw .methodNotAllowed }
            guard message.uriQuery.isEmpty else { throw .badRequest("Write-Attributes carries no payload") }
            guard case .resource(let resourcePath) = path.kind else { throw .methodNotAllowed }
            try authorize(.write, path, registry, AccessControl(server: server, registry: registry))
            let object = try registry.target(path)
            guard let resource = object.definition.resource(resourcePath.resourceID) else { throw .notFound }
            guard resource.operations.contains(.write) else { throw .methodNotAllowed }
            guard let streaming = object as? any StreamingWritable,
                  streaming.streamedResources.contains(resource.id) else {
                return .error(.requestEntityTooLarge, "\(path) takes no block-wise write")
            }
            guard message.contentFormat == ContentFormat.octetStream else { throw .unsupportedContentFormat }
            try streaming.receiveBlock(path, offset: block.offset, bytes: message.payload, isLast: block.isLast,
                                       format: message.contentFormat,
                                       announcedSize: block.offset == 0 ? message.size1.map(Int64.init) : nil)
            return CoAPResponse(block.isLast ? .changed : .continue)
        } catch {
            return error.response
        }
    }

    /// Tells the object that the streamed Write `request` (an `AbandonedUpload`'s request) ended
    /// without its last block. No-op unless its path names a streamed resource.
    public func abandonBlocks(of request: CoAPMessage, registry: ObjectRegistry) {
        guard let path = LwM2MPath(segments: request.uriPath), let resourceID = path.resourceID, path.isResource,
              let objectID = path.objectID, !Self.bootstrapOnlyObjects.contains(objectID),
              let object = registry.object(objectID) as? any StreamingWritable,
              object.streamedResources.contains(resourceID) else { return }
        object.abandonBlocks(path)
    }
}
