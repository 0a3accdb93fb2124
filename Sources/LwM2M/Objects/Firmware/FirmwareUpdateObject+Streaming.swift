// Package (/5/0/0) pushed block by block: the CoAP engine streams Block1 writes of it
// (`StreamingWritable`, docs/coap-engine.md "Streamed Block1 uploads") instead of reassembling
// tens of MiB in memory.

extension FirmwareUpdateObject: StreamingWritable {
    /// Only Package (0) streams.
    public var streamedResources: [UInt16] { [Resource.package] }

    /// One Block1 block of a Write of Package: `receivePackageBlock`.
    public func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?)
        throws(LwM2MError) {
        try receiveBlock(path, offset: offset, bytes: bytes, isLast: isLast, format: format, announcedSize: nil)
    }

    /// The same with block 0's Size1: a package that cannot fit is refused before any byte is
    /// stored (Idle, Update Result 2).
    public func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?,
                             announcedSize: Int64?) throws(LwM2MError) {
        guard path.instanceID == 0, path.resourceID == Resource.package else { throw .notFound }
        try receivePackageBlock(offset: offset, bytes: bytes, isLast: isLast, announcedSize: announcedSize)
    }

    /// The server's block-wise Write of Package ended without its last block (expired, out of
    /// sequence, too large): a push in progress goes back to Idle with Update Result 4
    /// (connection lost), the partial image discarded. Anything else is left alone.
    public func abandonBlocks(_ path: LwM2MPath) {
        guard path.resourceID == Resource.package, current.state == .downloading, !isPulling else { return }
        let before = current
        resetToIdle(.connectionLost, cancelling: false)
        commit(from: before)
    }
}

extension FirmwareUpdateObject: ConfirmablyNotified {
    /// Every notification of /5 goes confirmable: State and Update Result changes are few, and
    /// the server must not miss the one that says the update finished (or failed).
    public func notifiesConfirmably(_ path: LwM2MPath) -> Bool { true }
}
