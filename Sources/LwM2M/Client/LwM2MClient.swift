import CoAP
import Credentials

/// The LwM2M client: bootstrap, registration and device management towards every configured
/// server, as one sans-IO state machine. Fed with datagrams, connection outcomes and the
/// current time; it answers with `ClientAction`s (open/send/close/save, and storing or removing
/// secrets: the client never calls a credential store, LwM2MClient+Secrets.swift) and
/// `ClientEvent`s, and says when to wake it (`nextDeadline`).
///
/// The policy, in one place (`LwM2MClient+Policy.swift`, checked against the policy table of
/// docs/lwm2m-client.md):
/// - usable server accounts → register (in Registration Priority Order); a registration that
///   fails per the Server object's retry rules (/1/x/16–20) → client-initiated bootstrap when a
///   bootstrap account exists;
/// - no server account → client-initiated bootstrap;
/// - a bootstrap that fails (unreachable, timeout, handshake failure, inconsistent data) →
///   factory-bootstrap fallback: register with the factory snapshot's servers while bootstrap
///   retries continue with exponential back-off and jitter;
/// - `bootstrapOnEveryStart` → bootstrap first at every start;
/// - `factoryReset` → the factory snapshot again, and the policy from the start.
///
/// The configuration objects (Security, Server, Access Control) are `ProvisionedObject`s in the
/// registry; a bootstrap session snapshots them and restores the snapshot if it fails, so the
/// old configuration stays in force until a consistent one replaces it.
public struct LwM2MClient {
    public let configuration: ClientConfiguration
    /// Every object the servers see; the client adds Security (0), Server (1) and Access
    /// Control (2).
    public let registry: ObjectRegistry
    /// The Security object (0): accounts and credential references.
    public let security: ProvisionedObject
    /// The Server object (1).
    public let servers: ProvisionedObject
    /// The Access Control object (2).
    public let accessControl: ProvisionedObject
    /// The configuration provisioned at the factory: what a fallback registers with and what a
    /// factory reset restores.
    public private(set) var factory: ConfigurationSnapshot

    var endpoint: CoAPEndpoint<ConnectionID>
    let triggers = ServerTriggers()
    var random: SplitMix64
    var generation: UInt32 = 0
    var actions: [ClientAction] = []
    var events: [ClientEvent] = []
    var now: Instant

    var bootstrap = BootstrapProgress()
    var registrations: [UInt16: ServerRegistration] = [:]
    /// Servers in the order registration goes through them.
    var registrationOrder: [UInt16] = []
    var management: [UInt16: ManagementSession] = [:]
    var fallbackEngaged = false
    var stopping: Instant?
    var started = false

    /// A client over `registry` (the platform's objects), holding `factory` as the factory
    /// snapshot and starting from `state` (the persisted configuration) or, without one, from
    /// the factory snapshot. Secrets written by bootstrap servers are stored by the outer layer
    /// (`ClientAction.storeSecret`).
    public init(configuration: ClientConfiguration, registry: ObjectRegistry, factory: ConfigurationSnapshot,
                state: ConfigurationSnapshot?, seed: UInt64, now: Instant) {
        self.configuration = configuration
        self.registry = registry
        self.factory = factory
        self.now = now
        random = SplitMix64(seed: seed ^ 0x4C77_4D32)
        // Writes of the resources a `StreamingWritable` object takes block by block stream.
        var endpointConfiguration = configuration.endpoint
        for rule in registry.block1StreamRules where !endpointConfiguration.block1Streaming.rules.contains(rule) {
            endpointConfiguration.block1Streaming.rules.append(rule)
        }
        endpoint = CoAPEndpoint(configuration: endpointConfiguration, seed: seed)
        let triggers = triggers
        security = ProvisionedObject(definition: OMAObjects.definition(0)!, secretResources: [5])
        servers = ProvisionedObject(definition: ServerObjectRules.definition(for: configuration.version),
                                    valueCheck: ServerObjectRules.validate) { instance, resource, _ throws(LwM2MError) in
            switch resource {
            case 4: triggers.pending.append(.disable(instance: instance))
            case 8: triggers.pending.append(.registrationUpdate(instance: instance))
            case 9: triggers.pending.append(.bootstrapRequest(instance: instance))
            default: throw .methodNotAllowed
            }
        }
        accessControl = ProvisionedObject(definition: OMAObjects.definition(2)!)
        registry.register(security)
        registry.register(servers)
        registry.register(accessControl)
        apply(state ?? factory)
        _ = registry.takeChanges()
    }

    // MARK: - Inputs

    /// Starts the policy: register, or bootstrap first (see the type's documentation).
    public mutating func start(at now: Instant) {
        self.now = now
        guard !started else { return }
        started = true
        runStartPolicy()
        flush()
    }

    /// A datagram arrived on `connection`.
    public mutating func receive(_ datagram: [UInt8], from connection: ConnectionID, at now: Instant) {
        self.now = now
        endpoint.receive(datagram, from: connection, at: now)
        flush()
    }

    /// The outer layer opened `connection` (DTLS handshake done, or a plain socket ready).
    public mutating func connectionOpened(_ connection: ConnectionID, at now: Instant) {
        self.now = now
        switch connection.role {
        case .bootstrap: bootstrapConnectionOpened(connection)
        case .server(let ssid): registrationConnectionOpened(connection, ssid: ssid)
        }
        flush()
    }

    /// The outer layer could not open `connection` or lost it (DNS, socket or handshake
    /// failure, fatal DTLS alert); `reason` goes into the events.
    public mutating func connectionFailed(_ connection: ConnectionID, reason: String, at now: Instant) {
        self.now = now
        switch connection.role {
        case .bootstrap:
            if bootstrap.connection == connection { bootstrapFailed("cannot connect: \(reason)") }
        case .server(let ssid):
            if registrations[ssid]?.connection == connection { registrationAttemptFailed(ssid, reason: "cannot connect: \(reason)") }
        }
        flush()
    }

    /// Time passed: retransmissions, timers, notifications.
    public mutating func advance(to now: Instant) {
        self.now = now
        endpoint.advance(to: now)
        runTimers()
        flush()
    }

    /// De-registers from every server (the daemon is stopping); `isStopped` tells when done.
    public mutating func stop(at now: Instant) {
        self.now = now
        guard stopping == nil else { return }
        stopping = now + configuration.deregistrationTimeout
        abandonBootstrap()
        for ssid in registrationOrder { deregister(ssid) }
        flush()
    }

    /// Whether `stop` finished: every De-register answered or timed out.
    public var isStopped: Bool {
        guard let stopping else { return false }
        return registrations.values.allSatisfy { !$0.isDeregistering } || now >= stopping
    }

    /// Returns to the factory snapshot (/3/0/5 Factory Reset, or the CLI): de-registers, drops
    /// the bootstrapped configuration, saves, and runs the start policy again.
    public mutating func factoryReset(at now: Instant) {
        self.now = now
        resetToFactory()
        flush()
    }

    // MARK: - Outputs

    /// What the outer layer must do, in order; empties the queue. (Arrays rather than a
    /// `while let next()` loop: Swift 6.3's optimiser keeps such a loop's exclusive access open
    /// across iterations, a false "simultaneous access" trap when the body calls back in.)
    public mutating func takeActions() -> [ClientAction] {
        defer { actions = [] }
        return actions
    }

    /// The events since the last call, in order; empties the queue.
    public mutating func takeEvents() -> [ClientEvent] {
        defer { events = [] }
        return events
    }

    /// When to call `advance(to:)` at the latest.
    public var nextDeadline: Instant? {
        var deadline = endpoint.nextDeadline
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            deadline = deadline.map { min($0, instant) } ?? instant
        }
        consider(bootstrap.deadline)
        for registration in registrations.values { consider(registration.deadline) }
        for session in management.values { consider(session.nextDeadline) }
        consider(stopping)
        return deadline
    }

    /// The configuration to persist (what `.saveState` asks for).
    public var persistentState: ConfigurationSnapshot {
        ConfigurationSnapshot(objects: [0: security.snapshot(), 1: servers.snapshot(), 2: accessControl.snapshot()])
    }

    /// The Short Server IDs currently registered.
    public var registeredServers: [UInt16] {
        registrationOrder.filter { registrations[$0]?.isRegistered == true }
    }

    /// The registration location of server `ssid` (e.g. ["rd", "5a3f"]), when registered.
    public func location(of ssid: UInt16) -> [String]? {
        registrations[ssid]?.location
    }

    /// Whether the client is in a bootstrap session or waiting to bootstrap.
    public var isBootstrapping: Bool { bootstrap.isActive }

    /// Whether the factory-bootstrap fallback is in force.
    public var isFallbackEngaged: Bool { fallbackEngaged }

    /// Replaces the factory snapshot (the daemon reloaded its configuration).
    public mutating func setFactorySnapshot(_ snapshot: ConfigurationSnapshot) {
        factory = snapshot
    }

    // MARK: - Internals shared by the extensions

    mutating func emit(_ event: ClientEvent) {
        events.append(event)
    }

    mutating func nextConnection(_ role: ConnectionID.Role) -> ConnectionID {
        generation &+= 1
        return ConnectionID(role: role, generation: generation)
    }

    /// Loads `snapshot` into the configuration objects.
    mutating func apply(_ snapshot: ConfigurationSnapshot) {
        security.restore(snapshot.objects[0] ?? ObjectSnapshot())
        servers.restore(snapshot.objects[1] ?? ObjectSnapshot())
        accessControl.restore(snapshot.objects[2] ?? ObjectSnapshot())
    }

    /// The accounts the configuration objects hold now.
    var accounts: AccountSet { AccountSet(security: security, server: servers) }

    /// Moves the endpoint's output into actions and handles its events, then timers, until
    /// nothing is left to do.
    mutating func flush() {
        for _ in 0..<8 {
            var pending: [EndpointEvent<ConnectionID>] = []
            while let event = endpoint.nextEvent() { pending.append(event) }
            var progressed = !pending.isEmpty
            for event in pending { handle(event) }
            if !triggers.pending.isEmpty {
                progressed = true
                handleTriggers()
            }
            reportChanges()
            if !progressed { break }
        }
        drainDatagrams()
    }

    /// Moves the endpoint's datagrams into actions (before a `.close`, so a last ACK goes out).
    mutating func drainDatagrams() {
        endpoint.drainDatagrams { datagram in actions.append(.send(datagram.peer, datagram.bytes)) }
    }

    /// Closes `connection` after what is queued for it went out.
    mutating func close(_ connection: ConnectionID) {
        drainDatagrams()
        actions.append(.close(connection))
    }

    private mutating func handle(_ event: EndpointEvent<ConnectionID>) {
        switch event {
        case .request(let request):
            handleRequest(request)
        case .response(let id, let message):
            handleResponse(id, message)
        case .requestFailed(let id, let failure):
            handleRequestFailure(id, failure)
        case .observationEnded(let id, _):
            for ssid in management.keys { management[ssid]!.observationEnded(id) }
        case .uploadAbandoned(let upload):
            if case .server(let ssid) = upload.peer.role, registrations[ssid]?.connection == upload.peer {
                management[ssid]?.uploadAbandoned(upload, registry: registry)
            }
        case .pong, .malformedDatagram:
            break
        }
    }

    private mutating func handleRequest(_ request: IncomingRequest<ConnectionID>) {
        switch request.peer.role {
        case .bootstrap where request.streamedBlock != nil:
            // Streamed writes are for management servers (a firmware package), not bootstrap.
            endpoint.respond(to: request.exchange, with: .error(.requestEntityTooLarge, "no block-wise write in bootstrap"),
                             at: now)
        case .bootstrap where bootstrap.connection == request.peer:
            handleBootstrapCommand(request)
        case .server(let ssid) where registrations[ssid]?.connection == request.peer
                                  && (management[ssid] != nil || registrations[ssid]!.isRegistering):
            if management[ssid] == nil {
                // A request on the connection of a Register in flight: the server has taken the
                // Register (its 2.01 was lost, or is slower than this request) and manages the
                // client already. Serve it rather than refuse it (a server's first operation at
                // registration would fail on a lossy link); the session is the one the 2.01 keeps.
                management[ssid] = ManagementSession(server: ServerContext(shortServerID: ssid), registry: registry)
            }
            stayAwake(ssid)
            let configurationGuard = ConfigurationGuard(security: security, servers: servers, accessControl: accessControl,
                                                        supportedModes: configuration.supportedSecurityModes)
            management[ssid]!.handle(request, registry: registry, endpoint: &endpoint, at: now,
                                     configurationGuard: configurationGuard)
            if ConfigurationGuard.mayChange(request.message) { accountsChanged() }
        default:
            endpoint.respond(to: request.exchange, with: .error(.unauthorized, "no session with this server"), at: now)
        }
    }

    private mutating func handleResponse(_ id: RequestID, _ message: CoAPMessage) {
        if bootstrap.request == id { bootstrapRequestAnswered(message); return }
        for ssid in registrations.keys.sorted() where registrations[ssid]?.request == id {
            registrationAnswered(ssid, message)
            return
        }
    }

    private mutating func handleRequestFailure(_ id: RequestID, _ failure: RequestFailure) {
        if bootstrap.request == id { bootstrapFailed("Bootstrap-Request: \(failure)"); return }
        for ssid in registrations.keys.sorted() where registrations[ssid]?.request == id {
            registrationRequestFailed(ssid, failure)
            return
        }
    }

    /// Takes the registry's changes: notifications for every server, an Update when the object
    /// instances or the Server-object parameters changed, a save when the configuration changed
    /// outside a bootstrap session.
    private mutating func reportChanges() {
        let changes = registry.takeChanges()
        guard !changes.isEmpty else { return }
        for ssid in management.keys.sorted() {
            management[ssid]!.report(changes: changes, registry: registry, endpoint: &endpoint, at: now)
        }
        if !bootstrap.inSession, changes.contains(where: { ($0.objectID ?? 0) <= 2 }) {
            actions.append(.saveState)
        }
        registrationParametersMayHaveChanged(changes)
        wakeForStoredNotifications()
    }

    private mutating func runTimers() {
        bootstrapTimersFired()
        registrationTimersFired()
        for ssid in management.keys.sorted() {
            management[ssid]!.report(changes: [], registry: registry, endpoint: &endpoint, at: now)
        }
        wakeForStoredNotifications()
    }

    func ssid(ofServerInstance instance: UInt16) -> UInt16? {
        ServerSettings(instance: instance, object: servers)?.shortServerID
    }
}
