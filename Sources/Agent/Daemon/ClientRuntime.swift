import CoAP
import Credentials
import Glibc
import LwM2M
import Transport

/// Runs an `LwM2MClient` on this machine: one UDP socket per server connection, one poll(2)
/// loop on one thread, the state file, signals and logs. Everything protocol-related happens
/// in the client; this only moves bytes, time and files.
public final class ClientRuntime {
    /// How the runtime reports what the client does (logs, and tests watching events).
    public typealias EventObserver = (ClientEvent) -> Void

    public private(set) var client: LwM2MClient
    private let log: Logger
    private let store: StateStore
    private let credentials: CredentialStore
    private var connections: [ConnectionID: Connection] = [:]
    private var poller = Poller()
    private let signals: SignalMonitor?
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    private var observers: [EventObserver] = []
    private var warnedAboutSecrets = false
    /// Called on SIGHUP; returns the new factory snapshot and log level, or throws to keep the old.
    public var reload: (() throws -> (ConfigurationSnapshot, LogLevel))?

    private struct Connection {
        let socket: UDPSocket
        let peer: SocketAddress
    }

    private let deviceRequests: DeviceRequests

    public init(client: LwM2MClient, store: StateStore, credentials: CredentialStore, signals: SignalMonitor?,
                log: Logger, deviceRequests: DeviceRequests = DeviceRequests()) {
        self.client = client
        self.deviceRequests = deviceRequests
        self.store = store
        self.credentials = credentials
        self.signals = signals
        self.log = log
        if let signals { poller.register(signals.wakeUp.fileDescriptor) }
    }

    deinit {
        for connection in connections.values { connection.socket.close() }
        buffer.deallocate()
    }

    /// Adds an observer of the client's events (after the log line).
    public func observe(_ observer: @escaping EventObserver) { observers.append(observer) }

    /// Runs until SIGTERM/SIGINT and the De-registrations that follow complete.
    public func run() throws(TransportError) {
        client.start(at: MonotonicClock.now())
        var logger = log
        while true {
            performActions()
            if client.isStopped { break }
            let ready = try poller.wait(until: client.nextDeadline, now: MonotonicClock.now())
            for fd in ready {
                if let signals, fd == signals.wakeUp.fileDescriptor {
                    signals.wakeUp.drain()
                    handleSignals(signals.takeSignals(), logger: &logger)
                } else {
                    receive(on: fd)
                }
            }
            client.advance(to: MonotonicClock.now())
            handleDeviceRequests()
        }
        performActions()
        log.notice("stopped")
    }

    /// Stops as SIGTERM would (for embedding and tests).
    public func stop() {
        client.stop(at: MonotonicClock.now())
    }

    private func handleSignals(_ received: [Int32], logger: inout Logger) {
        for signal in received {
            switch signal {
            case SIGUSR1:
                log.notice("SIGUSR1: factory reset")
                client.factoryReset(at: MonotonicClock.now())
            case SIGHUP:
                guard let reload else { continue }
                do {
                    let (factory, level) = try reload()
                    client.setFactorySnapshot(factory)
                    logger.level = level
                    log.notice("SIGHUP: configuration reloaded (factory accounts, log level)")
                } catch {
                    log.error("SIGHUP: configuration not reloaded: \(error)")
                }
            default:
                log.notice("signal \(signal): de-registering and stopping")
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
            log.notice("reboot requested by a server (/3/0/4): left to the init system (not performed by the agent)")
        }
    }

    private func receive(on fd: Int32) {
        guard let (id, connection) = connections.first(where: { $0.value.socket.fileDescriptor == fd }) else { return }
        while true {
            let received: (count: Int, from: SocketAddress)?
            do {
                received = try connection.socket.receive(into: buffer)
            } catch {
                log.warning("\(id): receive failed: \(error)")
                client.connectionFailed(id, reason: "\(error)", at: MonotonicClock.now())
                return
            }
            guard let (count, sender) = received else { return }
            // Only the server this connection belongs to may talk on it.
            guard sender == connection.peer else {
                log.debug("\(id): dropped a datagram from \(sender)")
                continue
            }
            client.receive(Array(buffer[0..<count]), from: id, at: MonotonicClock.now())
        }
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
                _ = try connection.socket.send(bytes, to: connection.peer)
            } catch {
                log.warning("\(id): send failed: \(error)")
            }
        case .close(let id):
            if let connection = connections.removeValue(forKey: id) {
                poller.unregister(connection.socket.fileDescriptor)
                connection.socket.close()
            }
        case .saveState:
            saveState()
        }
    }

    private func open(_ id: ConnectionID, _ account: SecurityAccount) {
        let now = MonotonicClock.now()
        do {
            let uri = try CoAPURI(account.uri)
            guard uri.scheme == .coap else {
                // DTLS (coaps) arrives with the DTLS transport; until then the account fails
                // like an unreachable server, which feeds the bootstrap/fallback policy.
                client.connectionFailed(id, reason: "coaps needs DTLS, not available in this build", at: now)
                return
            }
            let address = try Resolver.resolve(host: uri.host, port: uri.port)[0]
            let socket = try UDPSocket(family: address.family)
            connections[id] = Connection(socket: socket, peer: address)
            poller.register(socket.fileDescriptor)
            log.debug("\(id): connected to \(address) from \(socket.localAddress)")
            client.connectionOpened(id, at: now)
        } catch {
            client.connectionFailed(id, reason: "\(error)", at: now)
        }
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
        do {
            try store.save(state)
            log.debug("configuration saved to \(store.path)")
        } catch {
            log.error("cannot save the configuration: \(error)")
        }
    }

    private func report(_ event: ClientEvent) {
        switch event {
        case .bootstrapFailed, .registrationFailed, .noAccounts: log.warning("\(event)")
        case .registered, .bootstrapFinished, .fallbackEngaged, .factoryReset, .deregistered: log.notice("\(event)")
        default: log.info("\(event)")
        }
        for observer in observers { observer(event) }
    }
}
