extension FirmwareUpdateObject {
    /// What the Firmware Update object keeps across a restart or the reboot of an install. The
    /// daemon writes it atomically whenever the object asks (`FirmwareRequest.persist`), and
    /// always before an install starts; `FirmwareUpdateObject.init(configuration:store:restoring:)`
    /// takes it back. `encoded()` / `init(parsing:)` are its file format
    /// (`FirmwarePersistentStateCoding.swift`).
    public struct PersistentState: Hashable, Sendable {
        /// State (/5/0/3).
        public var state: FirmwareState
        /// Update Result (/5/0/5).
        public var result: FirmwareUpdateResult
        /// The Package URI (/5/0/1) being or last downloaded; nil for a pushed package or none.
        public var packageURI: String?
        /// PkgName (/5/0/6), when the package said.
        public var packageName: String?
        /// PkgVersion (/5/0/7), when the package said.
        public var packageVersion: String?
        /// Bytes of the package received so far (progress; the store's size is what a resume
        /// uses).
        public var bytesDownloaded: Int64
        /// The entity tag of a download from Package URI, once the server sent one.
        public var etag: [UInt8]?
        /// The complete image (Downloaded and Updating).
        public var image: FirmwareImage?
        /// Update was executed and its outcome is not reported yet (exactly when `state` is
        /// Updating): after a restart it must be reported once.
        public var installPending: Bool
        /// Automatic Upgrade at Download (/5/0/14).
        public var automaticUpdate: Bool

        /// Idle, result 0, nothing downloaded: the state of a device that never updated.
        public init() {
            state = .idle
            result = .initial
            packageURI = nil
            packageName = nil
            packageVersion = nil
            bytesDownloaded = 0
            etag = nil
            image = nil
            installPending = false
            automaticUpdate = false
        }

        /// Whether the fields hang together: Downloaded and Updating hold an image, the install
        /// is pending exactly in Updating, counts are not negative; nil when they do, else why.
        public var inconsistency: String? {
            if (state == .downloaded || state == .updating) && image == nil { return "state \(state.rawValue) without an image" }
            if installPending != (state == .updating) { return "install pending must be set exactly in state 3" }
            if bytesDownloaded < 0 { return "negative byte count" }
            if let image, image.size < 0 || image.digest.count != 32 { return "malformed image description" }
            if let etag, etag.isEmpty || etag.count > FirmwarePersistentStateCoding.maximumETagLength {
                return "ETag of \(etag.count) bytes"
            }
            return nil
        }
    }
}
