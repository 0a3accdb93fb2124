/// What the Firmware Update object asks the outer layer (the daemon) to do, in order
/// (`FirmwareUpdateObject.takeRequests()`). The object itself does no I/O except through its
/// `FirmwareImageStore`; the daemon carries these out and reports back through
/// `downloadProgress`, `downloadFinished` and `installFinished`.
public enum FirmwareRequest: Hashable, Sendable {
    /// Download the package at `uri` into the image store (the same store the object was
    /// given), starting at byte `resumeFrom` (0: from the start; the store already holds the
    /// bytes before it). `etag` is the entity tag the bytes so far came with (CoAP ETag bytes,
    /// or an HTTP entity tag's text as UTF-8), to check that a resumed download continues the
    /// same package; nil when starting from 0.
    case download(uri: String, resumeFrom: Int64, etag: [UInt8]?)
    /// Stop the download in progress and discard what it was writing (the object has already
    /// reset the store). Carry it out before feeding any further download bytes to the store.
    case cancelDownload
    /// Install `image` (Update was executed; the `.persist` before it has the state Updating
    /// with the install pending). Report the outcome with `installFinished`, after the reboot
    /// if the install needs one.
    case install(FirmwareImage)
    /// The agent restarted in Updating (the install was running or rebooting the device): find
    /// out whether it took (the running version, the installer's status, e.g. RAUC's slot
    /// status) and report it with `installFinished`, exactly once.
    case resolveInstall(FirmwareImage?)
    /// Write this state atomically (the daemon's state file) before carrying out any request
    /// after it; `init(restoring:)` takes it back after a restart.
    case persist(FirmwareUpdateObject.PersistentState)
}
