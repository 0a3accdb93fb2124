import AgentCommon
import CoAP
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

    private var loop: EventLoop?
    private var coap: CoAPDownload?
    private var http: HTTPDownload?
    private var sink: ImageStoreSink?
    private var downloadSources: [EventLoop.SourceID] = []
    private var lastLoggedPercent = -1
    private var lastLoggedBytes: Int64 = 0
    /// The install or confirm running on its thread, and its descriptor on the loop.
    private var job: (job: InstallJob, source: EventLoop.SourceID, confirming: Bool)?
    /// A `confirm` that could not tell yet, asked again at this time.
    private var confirmRetry: (at: Instant, image: FirmwareImage?)?
    /// How long to wait before asking an installer again that could not tell.
    static let confirmRetryInterval: Duration = .seconds(30)

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

    /// The earliest time the runner needs to run (a `confirm` to ask again).
    var nextDeadline: Instant? { confirmRetry?.at }

    /// Runs the downloads' timers and a due `confirm` retry, then the object's requests.
    func advance(to now: Instant) {
        coap?.advance(to: now)
        http?.advance(to: now)
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

    private func perform(_ request: FirmwareRequest) {
        switch request {
        case .persist(let state):
            persist(state)
        case .download(let uri, let resumeFrom, let etag):
            startDownload(uri, resumeFrom: resumeFrom, etag: etag)
        case .cancelDownload:
            log.notice("firmware: download cancelled by the server")
            stopDownload(cancelling: true)
        case .install(let image):
            install(image)
        case .resolveInstall(let image):
            resolveInstall(image)
        }
    }

    // MARK: - Persisting

    private func persist(_ state: FirmwareUpdateObject.PersistentState) {
        do {
            try AtomicFile.write(Array(state.encoded().utf8), to: paths.state)
            log.debug("firmware: state \(state.state.rawValue), result \(state.result.rawValue) saved")
        } catch {
            log.error("firmware: cannot save the update state to \(paths.state): \(error)")
        }
    }

    /// PkgName / PkgVersion from a verified package's manifest, once the image is complete.
    private func takePackageIdentity() {
        guard let manifest = signedStore?.lastManifest, object.state == .downloaded || object.state == .updating,
              object.persistentState.packageVersion == nil else { return }
        object.setPackageIdentity(name: manifest.board, version: manifest.version)
        while true {
            let requests = object.takeRequests()
            if requests.isEmpty { break }
            for request in requests { perform(request) }
        }
    }

    // MARK: - Downloads

    private func startDownload(_ text: String, resumeFrom: Int64, etag: [UInt8]?) {
        guard let loop else { return finishDownload(.failure(.connect("no event loop"))) }
        stopDownload(cancelling: false)
        let sink = ImageStoreSink(store: objectStore)
        self.sink = sink
        // The signed store verifies forward only: it resumes only where it stands.
        let resume = resumeFrom > 0 && (signedStore == nil || resumeFrom == sink.size)
            ? ResumePoint(offset: resumeFrom, validator: etag) : nil
        lastLoggedPercent = -1
        lastLoggedBytes = 0
        log.notice("firmware: downloading \(text)\(resume.map { " from byte \($0.offset)" } ?? "")")
        let lowered = text.lowercased()
        do throws(FirmwareDownloadError) {
            if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
                var options = HTTPDownloadOptions()
                options.caFile = settings.httpCA
                let download = try HTTPDownload(url: text, sink: sink, resume: resume, options: options, loop: loop)
                download.onProgress = { [unowned self] in progress($0) }
                download.onFinish = { [unowned self] in finishDownload($0) }
                http = download
                download.start(at: MonotonicClock.now())
            } else {
                let uri: CoAPURI
                do { uri = try CoAPURI(text) } catch { throw .invalidURI("\(error)") }
                guard uri.scheme == .coap else { throw .unsupportedScheme("coaps (no DTLS credentials for downloads)") }
                guard let peer = SocketAddress(ipAddress: uri.host, port: uri.port) else {
                    // A host name resolves on a thread of its own (a hanging DNS must not stall
                    // the loop); the download starts when the address comes back.
                    return try resolve(uri, sink: sink, resume: resume)
                }
                try startCoAP(uri, peer: peer, sink: sink, resume: resume)
            }
        } catch {
            finishDownload(.failure(error))
        }
    }

    private func startCoAP(_ uri: CoAPURI, peer: SocketAddress, sink: ImageStoreSink, resume: ResumePoint?)
        throws(FirmwareDownloadError) {
        guard let loop else { throw .connect("no event loop") }
        var options = CoAPDownloadOptions()
        options.endpoint.transmission.ackTimeout = ackTimeout
        let download = try CoAPDownload(uri: uri, peer: peer, sink: sink, resume: resume, options: options, loop: loop)
        download.onProgress = { [unowned self] in progress($0) }
        download.onFinish = { [unowned self] in finishDownload($0) }
        coap = download
        download.start(at: MonotonicClock.now())
    }

    private func resolve(_ uri: CoAPURI, sink: ImageStoreSink, resume: ResumePoint?) throws(FirmwareDownloadError) {
        guard let loop else { throw .connect("no event loop") }
        if resolver == nil {
            do {
                let made = try BackgroundResolver(maximumInFlight: 4)
                loop.watch(readable: made.fileDescriptor) { [unowned self] _ in
                    for completion in made.takeResults() { resolved(completion) }
                }
                resolver = made
            } catch {
                throw .nameResolution("\(error)")
            }
        }
        resolutionToken &+= 1
        do {
            try resolver!.submit(resolutionToken, host: uri.host, port: uri.port)
        } catch {
            throw .nameResolution("\(error)")
        }
        resolving = (resolutionToken, uri, sink, resume)
    }

    private func resolved(_ completion: BackgroundResolver.Completion) {
        guard let pending = resolving, pending.token == completion.token else { return }  // cancelled meanwhile
        resolving = nil
        do throws(FirmwareDownloadError) {
            let addresses: [SocketAddress]
            do { addresses = try completion.result.get() } catch { throw .nameResolution("\(error)") }
            guard let peer = addresses.first else { throw .nameResolution("\(pending.uri.host): no address") }
            try startCoAP(pending.uri, peer: peer, sink: pending.sink, resume: pending.resume)
        } catch {
            finishDownload(.failure(error))
        }
        step()
    }

    /// Host names of Package URIs, resolved off the loop (made on the first one).
    private var resolver: BackgroundResolver?
    private var resolutionToken = 0
    /// A download waiting for its host's address.
    private var resolving: (token: Int, uri: CoAPURI, sink: ImageStoreSink, resume: ResumePoint?)?

    private var objectStore: any FirmwareImageStore { signedStore ?? filesStore }
    var filesStore: FileFirmwareImageStore!

    private func progress(_ progress: DownloadProgress) {
        object.downloadProgress(bytes: progress.received, etag: progress.validator)
        if let total = progress.total, total > 0 {
            let percent = Int(progress.received * 100 / total)
            if percent / 10 > lastLoggedPercent / 10 {
                lastLoggedPercent = percent
                log.info("firmware: downloaded \(progress.received) of \(total) bytes (\(percent) %)")
            }
        } else if progress.received - lastLoggedBytes >= 1 << 20 {
            lastLoggedBytes = progress.received
            log.info("firmware: downloaded \(progress.received) bytes")
        }
        step()
    }

    private func finishDownload(_ outcome: Result<DownloadProgress, FirmwareDownloadError>) {
        let sink = self.sink
        switch outcome {
        case .success(let progress):
            if let image = sink?.image {
                log.notice("firmware: download complete, \(image.size) bytes")
                object.downloadFinished(.success(image))
            } else {
                log.error("firmware: download ended without an image (\(progress.received) bytes)")
                object.downloadFinished(.failure(.updateFailed))
            }
        case .failure(.cancelled):
            break
        case .failure(let error):
            let result = sink?.rejection?.updateResult
                ?? FirmwareUpdateResult(rawValue: error.updateResultCode) ?? .updateFailed
            log.warning("firmware: download failed: \(sink?.rejection?.description ?? error.description) (Update Result \(result.rawValue))")
            object.downloadFinished(.failure(result))
        }
        loopLater { [weak self] in self?.releaseDownload() }
        step()
    }

    /// Ends a download in progress (its callbacks are off); `cancelling` only changes the log.
    private func stopDownload(cancelling: Bool) {
        coap?.onFinish = nil
        http?.onFinish = nil
        coap?.cancel()
        http?.cancel()
        releaseDownload()
    }

    private func releaseDownload() {
        resolving = nil
        coap = nil
        http = nil
        sink = nil
    }

    /// Runs `work` at the next step (a download may not be released from its own callback).
    private func loopLater(_ work: @escaping () -> Void) { deferred.append(work) }
    private var deferred: [() -> Void] = []

    /// Runs what was deferred to after the callbacks (the loop calls it every round).
    func afterCallbacks() {
        let work = deferred
        deferred = []
        for item in work { item() }
    }

    // MARK: - Installing

    private var version: String { object.persistentState.packageVersion ?? "unknown" }

    private func install(_ image: FirmwareImage) {
        guard let installer else {
            log.error("firmware: Update executed but no installer is configured ([firmware] installer): update failed")
            object.installFinished(.updateFailed)
            return step()
        }
        // A record left from an earlier install must not make a restart take this one as done.
        try? AtomicFile.remove(paths.record)
        let version = version
        let path = image.path
        log.notice("firmware: installing \(path) (\(image.size) bytes, version \(version))")
        run(confirming: false) { installer.install(image: path, version: version) }
    }

    private func resolveInstall(_ image: FirmwareImage?) {
        guard let installer else {
            log.error("firmware: restarted while updating, but no installer is configured: update failed")
            object.installFinished(.updateFailed)
            return step()
        }
        guard let saved = try? FileReader.read(paths.record, maximumSize: 4096) else {
            // No record: the agent stopped while the installer ran; the outcome is unknown.
            log.warning("firmware: restarted while an install was running (no reboot was asked for): update failed")
            object.installFinished(.updateFailed)
            return step()
        }
        let lines = String(decoding: saved, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let version = lines.first.map(String.init) ?? self.version
        let record = lines.count > 1 ? String(lines[1]) : ""
        log.notice("firmware: confirming the install of version \(version) after the restart")
        run(confirming: true) { installer.confirm(version: version, record: record) }
        _ = image
    }

    private func run(confirming: Bool, _ work: @escaping () -> InstallOutcome) {
        guard let loop else { return }
        do {
            let job = try InstallJob(work)
            let source = loop.watch(readable: job.fileDescriptor) { [unowned self] _ in
                guard let running = self.job, let outcome = running.job.take() else { return }
                loop.remove(running.source)
                self.job = nil
                finished(outcome, confirming: running.confirming)
            }
            self.job = (job, source, confirming)
        } catch {
            log.error("firmware: cannot start the installer thread: \(error)")
            object.installFinished(.updateFailed)
            step()
        }
    }

    private func finished(_ outcome: InstallOutcome, confirming: Bool) {
        switch outcome {
        case .installed(rebootRequired: false, _):
            log.notice("firmware: version \(version) installed and running")
            try? AtomicFile.remove(paths.record)
            object.installFinished(.success)
        case .installed(rebootRequired: true, let record) where !confirming:
            do {
                try AtomicFile.write(Array("\(version)\n\(record)".utf8), to: paths.record)
            } catch {
                log.error("firmware: cannot save the install record: \(error); not rebooting")
                object.installFinished(.updateFailed)
                return step()
            }
            log.notice("firmware: installed; a reboot activates it")
            requestReboot?()
        case .installed(rebootRequired: true, _):
            log.warning("firmware: the installer still wants a reboot after one: asking again later")
            confirmRetry = (MonotonicClock.now() + Self.confirmRetryInterval, nil)
        case .undetermined(let detail):
            log.warning("firmware: cannot tell yet whether the install took (\(detail)); asking again in 30 s")
            confirmRetry = (MonotonicClock.now() + Self.confirmRetryInterval, nil)
        case .failed(let failure, let detail):
            log.error("firmware: install failed (Update Result \(failure.rawValue)): \(detail)")
            try? AtomicFile.remove(paths.record)
            object.installFinished(failure.updateResult)
        }
        step()
    }
}

/// The files of the firmware wiring under `<state-dir>/firmware/`.
struct FirmwarePaths {
    /// The object's persisted state (`FirmwarePersistentStateCoding`).
    let state: String
    /// The version and installer record of an install waiting for its reboot.
    let record: String

    init(stateDirectory: String) {
        state = "\(stateDirectory)/firmware/state"
        record = "\(stateDirectory)/firmware/install.record"
    }
}
