// What the outer layer reports back to the Firmware Update object (a download from Package
// URI, an install), what it sets from the package (name, version), and how a persisted state
// is taken up at start. Reports that no longer apply (the server reset or cancelled meanwhile,
// or the outcome was already reported) are ignored and return false.

extension FirmwareUpdateObject {
    /// A download from Package URI has `bytes` of the package so far (in the store), and the
    /// server's entity tag when it sent one (kept to resume after a restart; at most 255 bytes,
    /// longer ones are not kept). Returns false when no pull is in progress.
    @discardableResult
    public func downloadProgress(bytes: Int64, etag: [UInt8]? = nil) -> Bool {
        guard isPulling else { return false }
        let before = current
        current.bytesDownloaded = max(0, bytes)
        if let etag, !etag.isEmpty, etag.count <= FirmwarePersistentStateCoding.maximumETagLength {
            current.etag = etag
        }
        commit(from: before)
        return true
    }

    /// The download from Package URI ended: with the finished image (Downloaded; Updating at
    /// once with Automatic Upgrade at Download), or with the Update Result to report (Idle;
    /// the store is reset). A result that cannot end a download (0, 1, 8, 10, 11) is reported
    /// as 8. Returns false when no pull is in progress.
    @discardableResult
    public func downloadFinished(_ outcome: Result<FirmwareImage, FirmwareUpdateResult>) -> Bool {
        guard isPulling else { return false }
        let before = current
        switch outcome {
        case .success(let image):
            downloaded(image)
        case .failure(let result):
            resetToIdle(result.isDownloadFailure ? result : .updateFailed, cancelling: false)
        }
        commit(from: before)
        return true
    }

    /// The install requested by `.install` (or resolved after a restart, `.resolveInstall`)
    /// ended with `outcome`, exactly once per Update:
    /// - 1 (success): Idle with 1; the image is discarded, PkgName / PkgVersion stay.
    /// - 5 (integrity check failure), 6 (unsupported package type): Idle; the image is
    ///   discarded (5.xml, State (3): "Integrity Check Failure results in the client moving to
    ///   the Idle state").
    /// - 2, 3, 8, 11 (deferred): back to Downloaded with that result; the server may Update
    ///   again. Any other value is reported as 8.
    /// Returns false when no install is pending (not in Updating).
    @discardableResult
    public func installFinished(_ outcome: FirmwareUpdateResult) -> Bool {
        guard current.state == .updating else { return false }
        let before = current
        switch outcome {
        case .success:
            resetToIdle(.success, cancelling: false, keepIdentity: true)
        case .integrityCheckFailure, .unsupportedPackageType:
            resetToIdle(outcome, cancelling: false)
        case .notEnoughStorage, .outOfMemory, .updateFailed, .deferred:
            backToDownloaded(outcome)
        default:
            backToDownloaded(.updateFailed)
        }
        commit(from: before)
        return true
    }

    /// An install the installer had deferred (`installFinished(.deferred)`: Downloaded, result
    /// 11) starts on its own (the deferral ended): Updating with result 0 and the install
    /// pending, persisted (5.xml, State (3): "Once a user accepted the firmware update, the
    /// state changes to Updating"). No `.install` is requested: the installer is running.
    /// Report its outcome with `installFinished`. Returns false unless Downloaded with 11.
    @discardableResult
    public func installStarted() -> Bool {
        guard current.state == .downloaded, current.result == .deferred, current.image != nil else { return false }
        let before = current
        current.state = .updating
        current.result = .initial
        current.installPending = true
        commit(from: before)
        return true
    }

    /// PkgName (6) and PkgVersion (7) of the package being downloaded, downloaded or installed,
    /// as its manifest says (each cut to 255 bytes on a character boundary). Returns false in
    /// Idle (there is no package).
    @discardableResult
    public func setPackageIdentity(name: String?, version: String?) -> Bool {
        guard current.state != .idle else { return false }
        let before = current
        current.packageName = name.map(Self.clipped)
        current.packageVersion = version.map(Self.clipped)
        commit(from: before)
        return true
    }

    // MARK: - Internal

    /// Downloaded again with `result` after a failed or deferred install (the image is kept).
    private func backToDownloaded(_ result: FirmwareUpdateResult) {
        current.state = .downloaded
        current.result = result
        current.installPending = false
    }

    /// Takes up the restored state (from `init`): see there.
    func restore() {
        if current.inconsistency != nil {
            current = PersistentState()
            lastPersisted = current
            try? store.reset()
            pending.append(.persist(current))  // replaces the inconsistent state on disk
            return
        }
        switch current.state {
        case .idle, .downloaded:
            break
        case .downloading:
            guard let uri = current.packageURI else {
                // A push's block-wise transfer ended with the restart; the server starts over.
                resetToIdle(.connectionLost, cancelling: false)
                break
            }
            do throws(FirmwarePackageURI.Failure) {
                _ = try FirmwarePackageURI(uri, supported: protocols)
            } catch {
                resetToIdle(error.updateResult, cancelling: false)  // the configuration changed
                break
            }
            var resumeFrom = store.size
            if resumeFrom > 0, current.etag == nil {
                // Without an entity tag the bytes so far cannot be checked to belong to the same
                // package: start over.
                if (try? store.reset()) == nil {
                    resetToIdle(.notEnoughStorage, cancelling: false)
                    break
                }
                resumeFrom = 0
            }
            if resumeFrom == 0 { current.etag = nil }
            current.bytesDownloaded = resumeFrom
            request(.download(uri: uri, resumeFrom: resumeFrom, etag: current.etag))
        case .updating:
            request(.resolveInstall(current.image))
        }
        flushPersist()
    }

    /// `text` cut to at most 255 UTF-8 bytes, on a character boundary.
    static func clipped(_ text: String) -> String {
        guard text.utf8.count > 255 else { return text }
        var result = ""
        var count = 0
        for character in text {
            let length = character.utf8.count
            guard count + length <= 255 else { break }
            result.append(character)
            count += length
        }
        return result
    }
}
