import AgentCommon
import CoAP
import DTLS
import Files
import Firmware
import Glibc
import LwM2M
import Time
import Transport

/// Carries out what the Firmware Update object (5) asks (`FirmwareRequest`), on the runtime's
/// event loop, in order: `.persist` (the state file, atomically), `.download` (CoAP or HTTP
/// into the image store, progress reported back), `.cancelDownload`, `.install` (the configured
/// installer on a thread of its own; a reboot through the runtime's reboot path when the
/// installer asks for one) and `.resolveInstall` (after a restart in Updating: the installer's
/// `confirm`, asked again while it cannot tell).
///
/// ``ClientRuntime`` calls ``step(at:)`` after every round of its loop (after anything that
/// may have called into the object) and ``advance(to:)`` with the loop's time.
public final class FirmwareRunner {
    /// The object served as /5/0.
    public let object: FirmwareUpdateObject
    let settings: FirmwareSettings
    let paths: FirmwarePaths
    let installer: (any FirmwareInstaller)?
    let signedStore: SignedPackageStore?
    var log: Logger
    /// ACK_TIMEOUT of CoAP downloads (the agent's `ack-timeout`).
    var ackTimeout: Duration = .seconds(2)
    /// Called when an installer says a reboot activates the image (the runtime's Reboot path).
    var requestReboot: (() -> Void)?
    /// The DTLS settings of a `coaps://` download and the Security instance they come from
    /// (set by the runtime: the client's Security object and the credential store).
    var downloadCredentials: ((CoAPURI) -> Result<(UInt16, DTLSConfiguration), FirmwareDownloadError>)?

    /// The runtime's loop (downloads, install jobs and the resolver live on it).
    var loop: EventLoop?
    /// The pull in progress (at most one: CoAP or HTTP) and the sink it writes through.
    var download: (any FirmwareDownload)?
    var sink: ImageStoreSink?
    /// Progress logged so far (every 10 %, or every MiB without a known size).
    var lastLoggedPercent = -1
    var lastLoggedBytes: Int64 = 0
    /// When progress was last logged (a slow download logs at least every `progressLogInterval`).
    var lastLoggedAt: Instant?
    /// The size the server announced for the pull under way (for the status), when it did.
    var downloadTotal: Int64?
    /// The install or confirm running on its thread, and its descriptor on the loop.
    var job: (job: InstallJob, source: EventLoop.SourceID, confirming: Bool)?
    /// A `confirm` that could not tell yet, asked again at this time.
    var confirmRetry: (at: Instant, image: FirmwareImage?)?

    /// Host names of Package URIs, resolved off the loop (made on the first one).
    var resolver: BackgroundResolver?
    var resolutionToken = 0
    /// A download waiting for its host's address.
    var resolving: (token: Int, uri: CoAPURI, sink: ImageStoreSink, resume: ResumePoint?)?
    /// The file store under the object's store (set by `FirmwareSetup`).
    var filesStore: FileFirmwareImageStore!
    /// Work deferred until the download callbacks returned (see `afterCallbacks`).
    var deferred: [() -> Void] = []
    /// The pull's automatic resumption after a lost connection (`FirmwareRunner+Retry.swift`).
    var pullRetry = PullRetry()
    /// Keeps the Package URI's credentials out of the state file (set by `FirmwareSetup`).
    var uriSeal: PackageURISeal?
    /// Whether the last `.persist` failed: an install does not start on a state not on disk
    /// (after a crash the agent would not know an installer had run).
    var persistFailed = false

    init(object: FirmwareUpdateObject, settings: FirmwareSettings, paths: FirmwarePaths,
         installer: (any FirmwareInstaller)?, signedStore: SignedPackageStore?, log: Logger) {
        self.object = object
        self.settings = settings
        self.paths = paths
        self.installer = installer
        self.signedStore = signedStore
        self.log = log
    }

    /// Takes the loop the downloads and install jobs run on (the runtime's).
    func attach(to loop: EventLoop) { self.loop = loop }

    /// The earliest time the runner needs to run (a `confirm` to ask again, a pull to resume).
    var nextDeadline: Instant? { [confirmRetry?.at, pullRetry.at].compactMap { $0 }.min() }

    /// Runs the downloads' timers and a due `confirm` retry, then the object's requests.
    func advance(to now: Instant) {
        download?.advance(to: now)
        resumeIfDue(at: now)
        if let retry = confirmRetry, retry.at <= now {
            confirmRetry = nil
            resolveInstall(retry.image)
        }
        step()
    }

    /// Carries out the object's queued requests, in order.
    func step() {
        while true {
            let requests = object.takeRequests()
            if requests.isEmpty { break }
            for request in requests { perform(request) }
        }
        takePackageIdentity()
    }

    func perform(_ request: FirmwareRequest) {
        switch request {
        case .persist(let state):
            persist(state)
        case .download(let uri, let resumeFrom, let etag):
            startDownload(uri, resumeFrom: resumeFrom, etag: etag)
        case .cancelDownload:
            log.notice("firmware: download cancelled by the server")
            stopDownload(cancelling: true)
        case .install(let image) where persistFailed:
            log.error("firmware: Update executed, but the update state could not be saved: not installing \(image.path) (update failed)")
            object.installFinished(.updateFailed)
        case .install(let image):
            install(image)
        case .resolveInstall(let image):
            resolveInstallAfterRestart(image)
        }
    }

    // MARK: - Persisting

    func persist(_ state: FirmwareUpdateObject.PersistentState) {
        var state = state
        if uriSeal != nil { state.packageURI = uriSeal!.persistable(state.packageURI) }
        do {
            try AtomicFile.write(Array(state.encoded().utf8), to: paths.state)
            persistFailed = false
            log.debug("firmware: state \(state.state.rawValue), result \(state.result.rawValue) saved")
        } catch {
            persistFailed = true
            log.error("firmware: cannot save the update state to \(paths.state): \(error)")
        }
    }

    /// PkgName / PkgVersion from a verified package's manifest, once the image is complete.
    func takePackageIdentity() {
        guard let manifest = signedStore?.lastManifest, object.state == .downloaded || object.state == .updating,
              object.persistentState.packageVersion == nil else { return }
        object.setPackageIdentity(name: manifest.board, version: manifest.version)
        while true {
            let requests = object.takeRequests()
            if requests.isEmpty { break }
            for request in requests { perform(request) }
        }
    }
}

/// The files of the firmware wiring under `<state-dir>/firmware/`.
struct FirmwarePaths {
    /// The object's persisted state (`FirmwarePersistentStateCoding`).
    let state: String
    /// The version and installer record of an install waiting for its reboot.
    let record: String
    /// Installers a killed agent left running (found by the marker in their environment).
    let leftovers: LeftoverInstallers

    init(stateDirectory: String) {
        state = "\(stateDirectory)/firmware/state"
        record = "\(stateDirectory)/firmware/install.record"
        leftovers = LeftoverInstallers(stateDirectory: stateDirectory)
    }
}
