import AgentCommon
import Board
import CoAP
import Credentials
import DTLS
import DTLSGnuTLS
import Glibc
import LwM2M
import Files
import Firmware
import Transport

/// Runs an `LwM2MClient` on this machine: one UDP socket per server connection, one
/// ``EventLoop`` (poll(2)) on one thread, the state file, signals and logs. Everything protocol-related happens
/// in the client; this only moves bytes, time and files.
public final class ClientRuntime {
    /// How the runtime reports what the client does (logs, and tests watching events).
    public typealias EventObserver = (ClientEvent) -> Void

    public private(set) var client: LwM2MClient
    private var log: Logger
    private let store: StateStore
    private let credentials: CredentialStore
    private var connections: [ConnectionID: ServerConnection] = [:]
    /// Each connection's socket on the loop.
    private var loopSources: [ConnectionID: EventLoop.SourceID] = [:]
    /// The last DTLS session per server URI, offered for resumption on the next connection.
    private var savedSessions: [String: DTLSSavedSession] = [:]
    private var uris: [ConnectionID: String] = [:]
    let startedAt = MonotonicClock.now()
    /// Handshake timers of DTLS sessions.
    public var dtlsTimers = DTLSTimers()
    /// TPM signing keys for X.509 accounts whose secret key is `tpm-key:NAME` (nil without a TPM).
    public var signingKeys: SigningKeyStore?
    /// Sockets, signals, resolver results and every timer, on one thread.
    private let loop = EventLoop()
    private let signals: SignalMonitor?
    private var observers: [EventObserver] = []
    private var warnedAboutSecrets = false
    /// A configuration change whose save failed, retried with back-off until it is written.
    private var pendingSave = PendingSave<ConfigurationSnapshot>()
    /// Called on SIGHUP; returns the new factory snapshot and log level, or throws to keep the old.
    public var reload: (() throws -> (ConfigurationSnapshot, LogLevel))?

    private let deviceRequests: DeviceRequests
    /// How the board reboots after a server's Reboot (/3/0/4) and the de-registrations: its
    /// description for the log and the action (returns when the system is going down, throws
    /// when the reboot failed). Nil: Reboot is only logged.
    public var reboot: (method: String, perform: () throws -> Void)?
    /// Set when a requested reboot failed (the daemon then exits with a failure status, so its
    /// service manager restarts it and it registers again).
    public private(set) var rebootFailure: String?
    private var rebootPending = false
    /// The registered objects with timers of their own (a Digital Input's debounce), as
    /// registered when the runtime was made.
    private let timedObjects: [any TimedObject]
    /// The Firmware Update object's outer layer (downloads, installs, its state file), when served.
    private(set) var firmware: FirmwareRunner?
    /// The board's GPIO lines (held for the runtime's lifetime; see ``GPIOObjects/attach(to:log:)``).
    var gpio: GPIOObjects?
    /// The control socket `lwm2m-agent status` asks (``serveControl(at:)``), and what the
    /// status shows beyond the client's state machine.
    var control: ControlServer?
    var history = AccountHistory()
    /// systemd notifications (``notifySystemd(with:endpoint:)``), when `$NOTIFY_SOCKET` is set.
    var systemd: SystemdLink?
    /// What the status says about the daemon's set-up (board, credential store); set by the launcher.
    public var statusContext: StatusContext?
    /// The loop and the logger, for the runtime's extensions in other files.
    var eventLoop: EventLoop { loop }
    var logger: Logger { log }
    /// How often the objects whose values come from the kernel (`SampledObject`) are sampled
    /// while a server observes them (never while none does).
    public var samplingInterval: Duration {
        get { sampling.interval }
        set { sampling.interval = newValue }
    }
    /// When the sampled objects are sampled: only while observed (``sampleIfDue(at:)``).
    private var sampling: SamplingSchedule
    /// Host names resolve on their own threads: a hanging DNS must not stall the loop.
    private let resolver: BackgroundResolver?
    /// Connections waiting for their server's address: the token of the resolution and the account.
    private var resolving: [ConnectionID: (token: Int, account: SecurityAccount)] = [:]
    private var nextResolutionToken = 0
    /// Signals taken in this wake-up, acted on after its datagrams (``run()``).
    private var receivedSignals: [Int32] = []
    /// Work waiting for the start's first messages to be out (``whenStarted(_:)``); nil once it ran.
    private var startedWork: [() -> Void]? = []
    /// ICMP port-unreachable reports, without an answer in between, after which a connection
    /// counts as refused (the first may come from a server that is restarting).
    static let refusalsBeforeFailure = 2

    public init(client: LwM2MClient, store: StateStore, credentials: CredentialStore, signals: SignalMonitor?,
                log: Logger, deviceRequests: DeviceRequests = DeviceRequests(),
                resolver: BackgroundResolver? = try? BackgroundResolver()) {
        self.client = client
        self.deviceRequests = deviceRequests
        self.store = store
        self.credentials = credentials
        self.signals = signals
        self.log = log
        self.resolver = resolver
        let registry = client.registry
        timedObjects = registry.objectIDs.compactMap { registry.object($0) as? any TimedObject }
        sampling = SamplingSchedule(registry: registry)
        if let signals {
            loop.watch(readable: signals.wakeUp.fileDescriptor) { [unowned self] _ in
                signals.wakeUp.drain()
                receivedSignals += signals.takeSignals()
            }
        }
        if let resolver {
            loop.watch(readable: resolver.fileDescriptor) { [unowned self] _ in
                for completion in resolver.takeResults() { resolved(completion) }
            }
        }
        loop.addDeadline { [unowned self] in nextDeadline }
    }

    deinit {
        for connection in connections.values { connection.close() }
        control?.close()
    }

    /// Adds an observer of the client's events (after the log line).
    public func observe(_ observer: @escaping EventObserver) { observers.append(observer) }

    /// Runs until SIGTERM/SIGINT and the De-registrations that follow complete.
    public func run() throws(TransportError) {
        client.start(at: MonotonicClock.now())
        while true {
            performActions()
            runStartedWork()
            if inPlace({ $0.isStopped }) { break }
            notifyReady()
            try loop.runOnce()
            // After the datagrams that came with them: a SIGTERM arriving with the answer to a
            // Register de-registers what that answer registered.
            if !receivedSignals.isEmpty {
                let received = receivedSignals
                receivedSignals = []
                handleSignals(received)
            }
            let now = MonotonicClock.now()
            pingWatchdogIfDue(at: now)
            for (id, connection) in connections where connection.nextDeadline.map({ $0 <= now }) ?? false {
                do {
                    try connection.advance(to: now)
                } catch {
                    log.warning("\(id): send failed: \(error)")
                }
                handleSessionEvents(id, connection)
                checkRefused(id, connection)  // a DTLS retransmission may have met the refusal
            }
            sampleIfDue(at: now)
            for object in timedObjects { object.advance(to: now) }
            client.advance(to: now)
            retrySave(at: now)
            if let firmware {
                firmware.advance(to: now)
                firmware.afterCallbacks()
            }
            handleDeviceRequests()
            control?.advance(to: now)
        }
        control?.close()
        notifyStopping()
        performActions()
        if let snapshot = pendingSave.pending {
            let store = store
            reportSave(pendingSave.save(snapshot, at: MonotonicClock.now()) { (snapshot) throws(FileError) in
                try store.save(snapshot)
            })
            if pendingSave.pending != nil {
                log.error("stopping with a configuration change that could not be saved (\(pendingSave.failures) attempts): it is lost")
            }
        }
        if rebootPending { rebootBoard() }
        log.notice("stopped")
    }

    /// Runs `work` once the start's first messages are out: after the loop's first pass has
    /// sent what the start asks for (the first Register or Bootstrap-Request, when the server's
    /// address needs no resolving), before the loop first waits; at once when that pass is
    /// over. For start-up work that cannot fail the start and that nothing before the first
    /// Register needs (the control socket, the PID file, log lines).
    public func whenStarted(_ work: @escaping () -> Void) {
        guard startedWork != nil else { return work() }
        startedWork!.append(work)
    }

    private func runStartedWork() {
        guard let work = startedWork else { return }
        startedWork = nil
        for item in work { item() }
    }

    /// Stops as SIGTERM would (for embedding and tests).
    public func stop() {
        notifyStopping()
        client.stop(at: MonotonicClock.now())
    }

    private func handleSignals(_ received: [Int32]) {
        for signal in received {
            switch signal {
            case SIGUSR1:
                log.notice("SIGUSR1: factory reset")
                client.factoryReset(at: MonotonicClock.now())
            case SIGHUP:
                guard let reload else { continue }
                notifyReloading()
                do {
                    let (factory, level) = try reload()
                    client.setFactorySnapshot(factory)
                    log.level = level
                    log.notice("SIGHUP: configuration reloaded (factory accounts, log level)")
                } catch {
                    log.error("SIGHUP: configuration not reloaded: \(error)")
                }
                notifyReloaded()
            default:
                log.notice("signal \(signal): de-registering and stopping")
                notifyStopping()
                client.stop(at: MonotonicClock.now())
            }
        }
    }

    /// Acts on Device-object executes once their response is on its way.
    private func handleDeviceRequests() {
        if deviceRequests.factoryReset {
            deviceRequests.factoryReset = false
            performActions()
            log.notice("factory reset requested by a server (/3/0/5)")
            client.factoryReset(at: MonotonicClock.now())
        }
        if deviceRequests.reboot {
            deviceRequests.reboot = false
            guard let reboot else {
                log.warning("reboot requested by a server (/3/0/4): no reboot method configured, not rebooting")
                return
            }
            performActions()  // the 2.04 goes out before the De-registers
            log.notice("reboot requested by a server (/3/0/4): de-registering, then rebooting by \(reboot.method)")
            rebootPending = true
            notifyStopping()
            client.stop(at: MonotonicClock.now())
        }
    }

    /// After the de-registrations: reboots the board. A failure is logged and remembered
    /// (`rebootFailure`); the agent stays stopped.
    private func rebootBoard() {
        guard let reboot else { return }
        log.notice("rebooting the board: \(reboot.method)")
        do {
            try reboot.perform()
            log.notice("reboot under way (\(reboot.method) succeeded)")
        } catch {
            rebootFailure = "\(error)"
            log.error("reboot failed: \(error); the agent stops (its service manager restarts it, and it registers again)")
        }
    }


    /// Serves the Firmware Update object's requests on this runtime's loop; an installer that
    /// needs a reboot goes through the Reboot path (de-register, then reboot).
    func attach(_ runner: FirmwareRunner) {
        firmware = runner
        runner.attach(to: loop)
        runner.requestReboot = { [unowned self] in deviceRequests.reboot = true }
        runner.downloadCredentials = { [unowned self] uri in downloadCredentials(for: uri) }
        runner.step()
    }

    /// The credentials of a `coaps://` firmware download (`FirmwareDownloadCredentials`).
    func downloadCredentials(for uri: CoAPURI) -> Result<(UInt16, DTLSConfiguration), FirmwareDownloadError> {
        FirmwareDownloadCredentials.configuration(for: uri, security: client.security.snapshot(), credentials: credentials,
                                                  signingKeys: signingKeys, timers: dtlsTimers)
    }

    /// Watches a descriptor of the board's hardware (a GPIO line's edge events) in the runtime's
    /// one poll loop: `handler` runs on the loop's thread when it is readable and must drain it.
    @discardableResult
    public func watch(readable fd: Int32, _ handler: @escaping EventLoop.ReadableHandler) -> EventLoop.SourceID {
        loop.watch(readable: fd, handler)
    }

    /// Samples the registered `SampledObject`s that a server observes, when due (every
    /// `samplingInterval`; one that just became observed at once), with the wall-clock time, so
    /// their changed values reach the reporting engine in this turn. Nothing observed: no
    /// sampling and no sampling deadline (the idle daemon sleeps until its next real timer).
    private func sampleIfDue(at now: Instant) {
        sampling.advance(to: now, wallClock: { SystemClock.now() },
                         isObserved: { object in self.inPlace { $0.isObserving(object: object) } })
    }

    /// `body` applied to the client where it is stored. A plain read of `client` for a
    /// non-mutating call (`client.isStopped`) copies the whole struct — every field retained,
    /// then released — when the compiler cannot prove the call leaves the property alone; an
    /// inout access does not copy. For the questions asked on every turn of the loop.
    @inline(__always)
    private func inPlace<Result>(_ body: (inout LwM2MClient) -> Result) -> Result {
        body(&client)
    }

    /// The earliest of the client's and the DTLS sessions' deadlines.
    private var nextDeadline: Instant? {
        var deadline = inPlace { $0.nextDeadline }
        if let retry = pendingSave.retryAt { deadline = deadline.map { min($0, retry) } ?? retry }
        if let sample = sampling.nextRound { deadline = deadline.map { min($0, sample) } ?? sample }
        if let retry = firmware?.nextDeadline { deadline = deadline.map { min($0, retry) } ?? retry }
        for object in timedObjects {
            if let candidate = object.nextDeadline { deadline = deadline.map { min($0, candidate) } ?? candidate }
        }
        for connection in connections.values {
            if let candidate = connection.nextDeadline { deadline = deadline.map { min($0, candidate) } ?? candidate }
        }
        return deadline
    }

    /// Watches a connection's socket: datagrams go through its session to the client; when
    /// the socket is drained, its ICMP reports are checked.
    private func watch(_ id: ConnectionID, _ connection: ServerConnection) {
        unwatch(id)
        loopSources[id] = loop.watch(
            connection.socket,
            onDatagram: { [unowned self] bytes, sender, _ in receive(bytes, from: sender, on: id, connection) },
            onDrained: { [unowned self] in checkRefused(id, connection) },
            onError: { [unowned self] error in
                log.warning("\(id): receive failed: \(error)")
                client.connectionFailed(id, reason: "\(error)", at: MonotonicClock.now())
            })
    }

    private func unwatch(_ id: ConnectionID) {
        if let source = loopSources.removeValue(forKey: id) { loop.remove(source) }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer, from sender: SocketAddress, on id: ConnectionID,
                         _ connection: ServerConnection) {
        // Only the server this connection belongs to may talk on it.
        guard sender == connection.peer else {
            log.debug("\(id): dropped a datagram from \(sender)")
            return
        }
        connection.heardFromPeer()
        let now = MonotonicClock.now()
        let datagrams: [[UInt8]]
        do {
            datagrams = try connection.receive(Array(bytes), at: now)
        } catch {
            log.warning("\(id): send failed: \(error)")
            datagrams = []
        }
        handleSessionEvents(id, connection)
        for datagram in datagrams { client.receive(datagram, from: id, at: now) }
    }

    /// Tells the client what the DTLS session did: open after the handshake, failed with a
    /// clear reason (wrong PSK, unknown CA, expired certificate, host mismatch …).
    private func handleSessionEvents(_ id: ConnectionID, _ connection: ServerConnection) {
        for event in connection.takeEvents() {
            let now = MonotonicClock.now()
            switch event {
            case .connected(let resumed, let suite):
                let took = connection.dtls.flatMap { session in session.connectedAt.map { $0 - session.startedAt } }
                log.info("\(id): DTLS \(resumed ? "session resumed" : "handshake done")\(took.map { " in \($0)" } ?? ""): \(suite)")
                if let saved = connection.dtls?.savedSession, let uri = uris[id] { savedSessions[uri] = saved }
                if !connection.reportedOpen {
                    connection.reportedOpen = true
                    client.connectionOpened(id, at: now)
                }
            case .failed(let error):
                log.warning("\(id): DTLS failed: \(error)")
                if let uri = uris[id] { savedSessions[uri] = nil }
                dropConnection(id)
                client.connectionFailed(id, reason: "DTLS: \(error)", at: now)
            case .closed:
                log.debug("\(id): DTLS session closed")
            }
        }
    }

    private func dropConnection(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        unwatch(id)
        connection.socket.close()
        uris[id] = nil
    }

    private func performActions() {
        while true {
            for event in client.takeEvents() { report(event) }
            let actions = client.takeActions()
            if actions.isEmpty { return }
            for action in actions { perform(action) }
        }
    }

    private func perform(_ action: ClientAction) {
        switch action {
        case .open(let id, let account):
            open(id, account)
        case .send(let id, let bytes):
            guard let connection = connections[id] else { return }
            do {
                try connection.send(bytes)
            } catch {
                log.warning("\(id): send failed: \(error)")
            }
            handleSessionEvents(id, connection)
            checkRefused(id, connection)
        case .close(let id):
            resolving[id] = nil
            if let connection = connections.removeValue(forKey: id) {
                unwatch(id)
                connection.close()
                uris[id] = nil
            }
        case .saveState:
            saveState()
        case .storeSecret(let id, let secret):
            storeSecret(secret, as: id)
        case .removeSecrets(let ids):
            removeSecrets(ids)
        case .collectSecrets(let keeping):
            do {
                removeSecrets(ClientAction.garbage(among: try credentials.identifiers(), keeping: keeping))
            } catch {
                log.warning("credential garbage collection: cannot list the stored secrets: \(error)")
            }
        }
    }

    // MARK: - Credentials (the client's storage actions)

    /// Stores a secret a bootstrap server wrote (a TPM seal and a file write with the TPM
    /// store: 5–25 ms with swtpm, here rather than inside the client) and tells the client how
    /// it went.
    private func storeSecret(_ secret: SecretBytes, as id: CredentialID) {
        let started = MonotonicClock.now()
        let outcome = ClientAction.store(secret, as: id, in: credentials)
        let now = MonotonicClock.now()
        let took = now - started
        let ms = Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15
        switch outcome {
        case .success: log.info("secret \(id) stored in \(Self.format(ms)) ms")
        case .failure(let error): log.error("cannot store secret \(id): \(error)")
        }
        client.secretStored(id, outcome, at: now)
    }

    /// Removes secrets nothing refers to; a failure leaves them for the next collection.
    private func removeSecrets(_ ids: [CredentialID]) {
        for id in ids {
            do {
                try credentials.remove(id)
                log.debug("secret \(id) removed")
            } catch {
                log.warning("cannot remove secret \(id): \(error)")
            }
        }
    }

    /// Opens a connection: numeric addresses at once, host names through the resolver thread
    /// (the connection opens when the address comes back, see `resolved`).
    private func open(_ id: ConnectionID, _ account: SecurityAccount) {
        let now = MonotonicClock.now()
        let uri: CoAPURI
        do {
            uri = try CoAPURI(account.uri)
            if let address = SocketAddress(ipAddress: uri.host, port: uri.port) {
                return connect(id, account, uri: uri, address: address)
            }
            guard let resolver else {
                return connect(id, account, uri: uri, address: try Resolver.resolve(host: uri.host, port: uri.port)[0])
            }
            nextResolutionToken &+= 1
            try resolver.submit(nextResolutionToken, host: uri.host, port: uri.port)
            resolving[id] = (nextResolutionToken, account)
            log.debug("\(id): resolving \(uri.host)")
        } catch {
            dropConnection(id)
            client.connectionFailed(id, reason: "\(error)", at: now)
        }
    }

    /// A name resolution finished: connect, or tell the client it failed (unless the
    /// connection was closed meanwhile).
    private func resolved(_ completion: BackgroundResolver.Completion) {
        guard let (id, pending) = resolving.first(where: { $0.value.token == completion.token }) else { return }
        resolving[id] = nil
        do {
            let addresses = try completion.result.get()
            connect(id, pending.account, uri: try CoAPURI(pending.account.uri), address: addresses[0])
        } catch {
            log.debug("\(id): \(error)")
            client.connectionFailed(id, reason: "\(error)", at: MonotonicClock.now())
        }
    }

    private func connect(_ id: ConnectionID, _ account: SecurityAccount, uri: CoAPURI, address: SocketAddress) {
        let now = MonotonicClock.now()
        do {
            var session: (any DTLSSession)?
            if uri.scheme == .coaps {
                let configuration = try DTLSConfiguration.forAccount(account, host: uri.host, credentials: credentials,
                                                                     signingKeys: signingKeys, timers: dtlsTimers)
                // mbedTLS for PSK and X.509, GnuTLS (loaded on this first use) for raw public keys.
                session = try DTLSSessionFactory.makeSession(configuration: configuration, resuming: savedSessions[account.uri],
                                                             random: { secureRandomBytes($0) }, now: now)
            }
            let connection = try ServerConnection(peer: address, dtls: session)
            connections[id] = connection
            uris[id] = account.uri
            watch(id, connection)
            log.debug("\(id): \(session == nil ? "CoAP" : "DTLS handshake") to \(address) from \(connection.socket.localAddress)")
            if session != nil, account.mode == .certificate || account.mode == .rawPublicKey, let key = account.secretKey,
               key.hasPrefix(FactoryFile.tpmKeyPrefix) {
                let what = account.mode == .rawPublicKey ? "raw public key" : "client certificate key"
                log.debug("\(id): \(what) \(key.dropFirst(FactoryFile.tpmKeyPrefix.count)) signs in the TPM")
            }
            if session == nil {
                connection.reportedOpen = true
                client.connectionOpened(id, at: now)
            } else {
                try connection.advance(to: now)
                handleSessionEvents(id, connection)
            }
        } catch {
            dropConnection(id)
            client.connectionFailed(id, reason: "\(error)", at: now)
        }
    }

    /// Fails a connection whose server answered its datagrams with ICMP port unreachable
    /// (twice: the first may be a server restarting): nothing listens there, so the client
    /// moves on (retry, fallback) in seconds rather than after the whole CoAP exchange
    /// lifetime. Silence still takes the RFC 7252 retransmission time.
    private func checkRefused(_ id: ConnectionID, _ connection: ServerConnection) {
        guard connections[id] === connection, connection.unansweredRefusals >= Self.refusalsBeforeFailure else { return }
        log.info("\(id): \(connection.peer) refused the connection (ICMP port unreachable, \(connection.unansweredRefusals) times)")
        dropConnection(id)
        client.connectionFailed(id, reason: "\(connection.peer) refused the connection (nothing listens on that port)",
                                at: MonotonicClock.now())
    }

    private func saveState() {
        let state = client.persistentState
        if !credentials.isPersistent {
            let factoryReferences = client.factory.credentialReferences
            let lost = state.credentialReferences.subtracting(factoryReferences)
            guard lost.isEmpty else {
                if !warnedAboutSecrets {
                    log.warning("not saving the configuration: it holds secrets the development credential store cannot keep across restarts")
                    warnedAboutSecrets = true
                }
                return
            }
        }
        let store = store
        reportSave(pendingSave.save(state, at: MonotonicClock.now()) { (snapshot) throws(FileError) in
            try store.save(snapshot)
        })
    }

    /// Writes the configuration change that could not be saved, when its retry is due.
    private func retrySave(at now: Instant) {
        let store = store
        guard let outcome = pendingSave.retryIfDue(at: now, with: { (snapshot) throws(FileError) in
            try store.save(snapshot)
        }) else { return }
        reportSave(outcome)
    }

    private func reportSave(_ outcome: PendingSave<ConfigurationSnapshot>.Outcome) {
        switch outcome {
        case .saved(let failures) where failures > 0:
            log.notice("configuration saved to \(store.path) after \(failures) failed attempts")
        case .saved:
            log.debug("configuration saved to \(store.path)")
        case .failed(let error, let retryAt, let first):
            let wait = retryAt - MonotonicClock.now()
            let seconds = max(0, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            if first {
                log.error("cannot save the configuration: \(error); the change is kept and the save retried until it succeeds (next in \(seconds) s)")
            } else {
                log.warning("cannot save the configuration (attempt \(pendingSave.failures)): \(error); next try in \(seconds) s")
            }
        }
    }

    private func report(_ event: ClientEvent) {
        switch event {
        case .bootstrapFailed, .registrationFailed, .noAccounts: log.warning("\(event)")
        case .registered:
            // Time since the runtime started and resident memory: the figures operators compare.
            let elapsed = MonotonicClock.now() - startedAt
            let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
            log.notice("\(event) (\(Self.format(ms)) ms after start, CPU \(Self.format(cpu)) ms, RSS \(Self.residentKiB() ?? 0) KiB)")
        case .bootstrapFinished, .fallbackEngaged, .factoryReset, .deregistered, .usingFactoryAccounts: log.notice("\(event)")
        case .accountDeleted: log.warning("\(event)")
        default: log.info("\(event)")
        }
        notifyStatus(after: event)
        for observer in observers { observer(event) }
    }

    private static func format(_ milliseconds: Double) -> String {
        let tenths = Int((milliseconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// VmRSS of this process from /proc/self/status, in KiB.
    static func residentKiB() -> Int? {
        guard let bytes = try? FileReader.read("/proc/self/status") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
