// The server-driven transitions of the Firmware Update state machine (TS 1.1 Core Appendix
// E.6.1; the resource descriptions of objects/oma/5.xml), and the bookkeeping every transition
// shares: change reports and `.persist` requests.

extension FirmwareUpdateObject {
    /// One block of a Write of Package (push), `bytes` at byte `offset` of the package; the
    /// responder calls it per Block1 block (a whole-payload Write is one call with offset 0 and
    /// `isLast`). Offset 0 starts the package (in Idle) or starts it over (a push in progress);
    /// later offsets must continue where the store is. A package that is empty or one 0 byte,
    /// written whole, resets the state machine to Idle. The last block completes the image:
    /// Downloaded (then Updating at once when Automatic Upgrade at Download is true).
    ///
    /// Errors: 4.05 in Updating or when push is not accepted; 4.00 while another package is
    /// downloading from Package URI or is downloaded (reset first), for a block out of
    /// sequence or a negative offset; 5.00 when the store fails, after the state went to Idle
    /// with the store's Update Result (2). `announcedSize` (block 0's Size1) is checked against
    /// the store's room before the first byte is stored (`checkAnnouncedSize`): 5.00 and Idle
    /// with 2 at block 0 when it cannot fit.
    public func receivePackageBlock(offset: Int64, bytes: [UInt8], isLast: Bool, announcedSize: Int64? = nil)
        throws(LwM2MError) {
        let before = current
        defer { commit(from: before) }
        guard acceptsPush else {
            throw .notAllowed("this agent takes firmware from Package URI only (Delivery Method 0)")
        }
        // 5.xml, Cancel (10): while installing, the device "MUST respond with Method Not Allowed".
        guard current.state != .updating else { throw .notAllowed("the firmware is being installed (State 3)") }
        guard offset >= 0 else { throw .badRequest("negative Package offset") }
        if offset == 0 {
            // 5.xml, State (3): "setting the Package Resource to NULL ('\0') resets the Firmware
            // Update State Machine".
            if isLast, bytes.isEmpty || bytes == [0] {
                resetToIdle(.initial, cancelling: true)
                return
            }
            switch current.state {
            case .idle: break
            case .downloading where !isPulling: break  // the server started its push over
            default: throw .badRequest("a package is already \(current.state.description.lowercased()); reset it first")
            }
            try startDownloading(uri: nil)
            // Size1: a package that cannot fit is refused now, not once the disk is full.
            if let announcedSize {
                try storeStep { () throws(FirmwareStoreError) in try store.checkAnnouncedSize(announcedSize) }
            }
        } else {
            guard current.state == .downloading, !isPulling else {
                throw .badRequest("no block-wise Write of Package in progress")
            }
            guard offset == store.size else {
                throw .badRequest("Package block at byte \(offset), expected byte \(store.size)")
            }
        }
        try storeStep { () throws(FirmwareStoreError) in try store.append(bytes) }
        current.bytesDownloaded = store.size
        if isLast {
            var image: FirmwareImage? = nil
            try storeStep { () throws(FirmwareStoreError) in image = try store.finish() }
            if let image { downloaded(image) }
        }
    }

    /// A Write of Package URI: empty resets (except in Updating), otherwise a URI in Idle starts
    /// a download (`.download`).
    func writePackageURI(_ text: String) throws(LwM2MError) {
        let before = current
        defer { commit(from: before) }
        guard current.state != .updating else { throw .notAllowed("the firmware is being installed (State 3)") }
        if text.isEmpty {  // 5.xml, State (3): an empty Package URI resets the state machine
            resetToIdle(.initial, cancelling: true)
            return
        }
        guard current.state == .idle else {
            throw .badRequest("a package is already \(current.state.description.lowercased()); reset it first")
        }
        do throws(FirmwarePackageURI.Failure) {
            _ = try FirmwarePackageURI(text, supported: protocols)
        } catch {
            current.result = error.updateResult  // 7 or 9, for the server to read
            throw .badRequest(error.description)
        }
        try startDownloading(uri: text)
        request(.download(uri: text, resumeFrom: 0, etag: nil))
    }

    /// Update (2): only in Downloaded.
    func executeUpdate() throws(LwM2MError) {
        let before = current
        defer { commit(from: before) }
        guard current.state == .downloaded, let image = current.image else {
            throw .notAllowed("Update needs State 2 (Downloaded), State is \(current.state.rawValue)")
        }
        startUpdating(image)
    }

    /// Cancel (10): in Downloading and Downloaded, to Idle with result 10.
    func executeCancel() throws(LwM2MError) {
        let before = current
        defer { commit(from: before) }
        guard current.state == .downloading || current.state == .downloaded else {
            throw .notAllowed("nothing to cancel in State \(current.state.rawValue)")
        }
        resetToIdle(.cancelled, cancelling: true)
    }

    // MARK: - Shared steps

    /// Downloading with result 0 and a fresh store, for a push (`uri` nil) or a pull. A store
    /// that cannot be reset ends in Idle with its result (5.00).
    func startDownloading(uri: String?) throws(LwM2MError) {
        try storeStep { () throws(FirmwareStoreError) in try store.reset() }
        current.state = .downloading
        current.result = .initial
        current.packageURI = uri
        current.packageName = nil
        current.packageVersion = nil
        clearProgress()
    }

    /// The package is complete: Downloaded, then Updating at once with Automatic Upgrade.
    func downloaded(_ image: FirmwareImage) {
        current.state = .downloaded
        current.result = .initial
        current.image = image
        current.bytesDownloaded = image.size
        if current.automaticUpdate { startUpdating(image) }
    }

    /// Updating with result 0 and the install pending: `.persist` of that, then `.install`.
    func startUpdating(_ image: FirmwareImage) {
        current.state = .updating
        current.result = .initial  // 5.xml, Update Result (5): reset when the update starts
        current.installPending = true
        request(.install(image))
    }

    /// Idle with `result`, the image and anything partial discarded (5.xml, State (3): "The
    /// device should remove the downloaded firmware image when the state is reset to Idle").
    /// `cancelling`: a reset or Cancel by the server (a pull in progress gets `.cancelDownload`,
    /// the Package URI and the package's name and version go); otherwise a failure, which keeps
    /// the URI that failed for the server to read.
    func resetToIdle(_ result: FirmwareUpdateResult, cancelling: Bool, keepIdentity: Bool = false) {
        if cancelling && isPulling { request(.cancelDownload) }
        try? store.reset()  // a store that cannot even reset holds nothing usable; Idle regardless
        current.state = .idle
        current.result = result
        if cancelling { current.packageURI = nil }
        if !keepIdentity {
            current.packageName = nil
            current.packageVersion = nil
        }
        clearProgress()
    }

    /// No bytes, validator, image or pending install: what a new download and Idle share.
    private func clearProgress() {
        current.bytesDownloaded = 0
        current.etag = nil
        current.image = nil
        current.installPending = false
    }

    /// Runs a store operation; a failure ends the download in Idle with the store's result and
    /// is 5.00.
    func storeStep(_ body: () throws(FirmwareStoreError) -> Void) throws(LwM2MError) {
        do throws(FirmwareStoreError) {
            try body()
        } catch {
            resetToIdle(error.updateResult, cancelling: false)
            throw .internalError(error.description)
        }
    }

    /// Queues `request` after a `.persist` of the state if it changed.
    func request(_ request: FirmwareRequest) {
        flushPersist()
        pending.append(request)
    }

    /// Reports what changed since `before` through `changeHandler` (by resource ID) and queues a
    /// `.persist` when the persistent state changed.
    func commit(from before: PersistentState) {
        var changed: [UInt16] = []
        if before.packageURI != current.packageURI { changed.append(Resource.packageURI) }
        if before.state != current.state { changed.append(Resource.state) }
        if before.result != current.result { changed.append(Resource.updateResult) }
        if before.packageName != current.packageName { changed.append(Resource.packageName) }
        if before.packageVersion != current.packageVersion { changed.append(Resource.packageVersion) }
        if before.automaticUpdate != current.automaticUpdate { changed.append(Resource.automaticUpdate) }
        for resource in changed { changeHandler?(LwM2MPath(definition.id, 0, resource)) }
        flushPersist()
    }

    /// Queues `.persist` when the state differs from the last one persisted in more than the
    /// byte count (progress alone is not worth a disk write per block).
    func flushPersist() {
        var now = current
        var then = lastPersisted
        now.bytesDownloaded = 0
        then.bytesDownloaded = 0
        guard now != then else { return }
        lastPersisted = current
        pending.append(.persist(current))
    }
}
