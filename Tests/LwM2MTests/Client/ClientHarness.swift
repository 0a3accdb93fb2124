import CoAP
import Credentials
@testable import LwM2M

// A virtual network for `LwM2MClient`: fake bootstrap and management servers built on the
// CoAP engine's server role, connections that open or fail by URI, optional seeded datagram
// loss, and a virtual clock that jumps to the next deadline.

/// A server on the virtual network.
protocol VirtualServer: AnyObject {
    var endpoint: CoAPEndpoint<ConnectionID> { get set }
    /// Called after every delivery and time step to act on the endpoint's events.
    func process(at now: Instant)
}

extension VirtualServer {
    func deliver(_ bytes: [UInt8], from peer: ConnectionID, at now: Instant) {
        endpoint.receive(bytes, from: peer, at: now)
        process(at: now)
    }
}

/// A bootstrap server that answers Bootstrap-Request 2.04, then sends `plan` one request at a
/// time, recording each response.
final class FakeBootstrapServer: VirtualServer {
    var endpoint = CoAPEndpoint<ConnectionID>(seed: 11)
    var plan: [CoAPRequest]
    var requests: [CoAPMessage] = []
    var responses: [(CoAPRequest, CoAPMessage)] = []
    /// Bootstrap-Request answers to give before the normal 2.04 (e.g. 4.03).
    var refusals: [CoAPCode] = []
    /// Stop after this many plan steps (simulates a server that goes quiet).
    var stopAfter: Int?
    /// Send the whole plan at once after the Bootstrap-Request instead of one request per
    /// answer (a server that does not wait for its answers; NSTART raised to allow it).
    let pipelined: Bool
    private var running: [RequestID: (ConnectionID, Int)] = [:]

    init(plan: [CoAPRequest], pipelined: Bool = false) {
        self.plan = plan
        self.pipelined = pipelined
        if pipelined {
            var configuration = EndpointConfiguration()
            configuration.transmission.nstart = max(1, plan.count)
            endpoint = CoAPEndpoint(configuration: configuration, seed: 11)
        }
    }

    var finishCodes: [CoAPCode] {
        responses.filter { $0.0.options.contains(CoAPOption(.uriPath, string: "bs")) }.map(\.1.code)
    }

    func process(at now: Instant) {
        while let event = endpoint.nextEvent() {
            switch event {
            case .request(let request):
                requests.append(request.message)
                if !refusals.isEmpty {
                    endpoint.respond(to: request.exchange, with: CoAPResponse(refusals.removeFirst()), at: now)
                    continue
                }
                endpoint.respond(to: request.exchange, with: CoAPResponse(.changed), at: now)
                send(step: 0, to: request.peer, at: now)
            case .response(let id, let message):
                guard let (peer, step) = running.removeValue(forKey: id) else { continue }
                responses.append((plan[step], message))
                send(step: step + 1, to: peer, at: now)
            default:
                break
            }
        }
    }

    private func send(step: Int, to peer: ConnectionID, at now: Instant) {
        if pipelined {
            guard step == 0 else { return }
            for index in plan.indices { running[endpoint.send(plan[index], to: peer, at: now)] = (peer, index) }
            return
        }
        guard step < plan.count, step < (stopAfter ?? .max) else { return }
        let id = endpoint.send(plan[step], to: peer, at: now)
        running[id] = (peer, step)
    }
}

/// A management server: Register → 2.01 rd/<n> (or a refusal), Update → 2.04 (or the
/// configured code), De-register → 2.02; it can send requests to a registered client.
final class FakeManagementServer: VirtualServer {
    var endpoint = CoAPEndpoint<ConnectionID>(seed: 12)
    var registrations: [CoAPMessage] = []
    var updates: [CoAPMessage] = []
    var deregistrations: [CoAPMessage] = []
    var registerRefusals: [CoAPCode] = []
    /// Takes Registers without answering them until `answerHeldRegister(at:)` (the 2.01 lost
    /// or slow on the way).
    var holdRegister = false
    private var heldRegister: ExchangeID?
    var updateCode: CoAPCode = .changed
    var clientPeer: ConnectionID?
    var answers: [RequestID: CoAPMessage] = [:]
    private var counter = 0

    func process(at now: Instant) {
        while let event = endpoint.nextEvent() {
            switch event {
            case .request(let request):
                let message = request.message
                switch (message.code, message.uriPath.count) {
                case (.post, 1):
                    registrations.append(message)
                    if !registerRefusals.isEmpty {
                        endpoint.respond(to: request.exchange, with: CoAPResponse(registerRefusals.removeFirst()), at: now)
                        continue
                    }
                    clientPeer = request.peer
                    if holdRegister {
                        heldRegister = request.exchange
                        continue
                    }
                    respondCreated(to: request.exchange, at: now)
                case (.post, 2):
                    updates.append(message)
                    endpoint.respond(to: request.exchange, with: CoAPResponse(updateCode), at: now)
                case (.delete, 2):
                    deregistrations.append(message)
                    endpoint.respond(to: request.exchange, with: CoAPResponse(.deleted), at: now)
                default:
                    endpoint.respond(to: request.exchange, with: CoAPResponse(.notFound), at: now)
                }
            case .response(let id, let message):
                answers[id] = message
            default:
                break
            }
        }
    }

    /// Sends `request` to the registered client.
    func send(_ request: CoAPRequest, at now: Instant) -> RequestID {
        endpoint.send(request, to: clientPeer!, at: now)
    }

    /// Answers the Register held by `holdRegister` with 2.01 (and answers later ones again).
    func answerHeldRegister(at now: Instant) {
        holdRegister = false
        if let exchange = heldRegister { respondCreated(to: exchange, at: now) }
        heldRegister = nil
    }

    private func respondCreated(to exchange: ExchangeID, at now: Instant) {
        counter += 1
        endpoint.respond(to: exchange, with: CoAPResponse(.created, options: [
            CoAPOption(.locationPath, string: "rd"), CoAPOption(.locationPath, string: "r\(counter)"),
        ]), at: now)
    }
}

/// The client and its servers, with a virtual clock.
struct ClientHarness {
    var client: LwM2MClient
    var now: Instant
    var servers: [String: any VirtualServer] = [:]
    /// URIs whose connections fail to open.
    var unreachable: Set<String> = []
    var connections: [ConnectionID: String] = [:]
    var events: [ClientEvent] = []
    var saved: [ConfigurationSnapshot] = []
    var closed: [ConnectionID] = []
    /// Every message the client sent, decoded, with the time.
    var sentByClient: [(Instant, CoAPMessage)] = []
    /// Fraction of datagrams dropped in each direction, with its own seeded generator.
    var lossRate = 0.0
    var loss = SplitMix64(seed: 99)
    /// The credential store the harness, as the outer layer, performs the client's storage
    /// actions on (the client never sees it).
    let credentials: any CredentialStore
    /// Every `.storeSecret` the client asked for, in order (names only).
    var storeRequests: [CredentialID] = []
    /// Every `.collectSecrets(keeping:)`, in order.
    var collections: [Set<CredentialID>] = []
    /// Every `.removeSecrets`, in order.
    var removals: [[CredentialID]] = []
    /// When set, `.storeSecret` actions wait in `heldStores` until `performHeldStores()`.
    var holdStores = false
    var heldStores: [(CredentialID, SecretBytes)] = []

    init(configuration: ClientConfiguration = .test, factory: ConfigurationSnapshot,
         state: ConfigurationSnapshot? = nil, credentials: any CredentialStore = EphemeralCredentialStore()) {
        now = Instant(nanoseconds: 1_000_000_000)
        let registry = ObjectRegistry()
        registry.register(DeviceSnapshot.make(info: .fixture, currentTime: 1_700_000_000, reboot: {}))
        self.credentials = credentials
        client = LwM2MClient(configuration: configuration, registry: registry, factory: factory, state: state,
                             seed: 1, now: now)
    }

    mutating func start() {
        client.start(at: now)
        pump()
    }

    /// Moves actions and datagrams around until nothing moves.
    mutating func pump() {
        for _ in 0..<10_000 {
            var moved = false
            events += client.takeEvents()
            for action in client.takeActions() {
                moved = true
                switch action {
                case .open(let connection, let account):
                    connections[connection] = account.uri
                    if unreachable.contains(account.uri) || servers[account.uri] == nil {
                        client.connectionFailed(connection, reason: "unreachable", at: now)
                    } else {
                        client.connectionOpened(connection, at: now)
                    }
                case .send(let connection, let bytes):
                    if let message = try? CoAPMessage(decoding: bytes) { sentByClient.append((now, message)) }
                    guard let uri = connections[connection], let server = servers[uri],
                          !closed.contains(connection), !dropped() else { continue }
                    server.deliver(bytes, from: connection, at: now)
                case .close(let connection):
                    closed.append(connection)
                case .saveState:
                    saved.append(client.persistentState)
                case .storeSecret(let id, let secret):
                    storeRequests.append(id)
                    if holdStores {
                        heldStores.append((id, secret))
                    } else {
                        store(secret, as: id)
                    }
                case .removeSecrets(let ids):
                    removals.append(ids)
                    for id in ids { try? credentials.remove(id) }
                case .collectSecrets(let keeping):
                    collections.append(keeping)
                    let stored = (try? credentials.identifiers()) ?? []
                    for id in ClientAction.garbage(among: stored, keeping: keeping) { try? credentials.remove(id) }
                }
            }
            for (_, server) in servers {
                server.endpoint.drainDatagrams { datagram in
                    if closed.contains(datagram.peer) || dropped() { return }
                    moved = true
                    client.receive(datagram.bytes, from: datagram.peer, at: now)
                }
            }
            events += client.takeEvents()
            if !moved { return }
        }
    }

    /// Performs a `.storeSecret` as the daemon does: store, wipe, feed the outcome back.
    private mutating func store(_ secret: SecretBytes, as id: CredentialID) {
        client.secretStored(id, ClientAction.store(secret, as: id, in: credentials), at: now)
    }

    /// Performs the stores `holdStores` kept back, in order, and moves everything on.
    mutating func performHeldStores() {
        let held = heldStores
        heldStores = []
        for (id, secret) in held { store(secret, as: id) }
        pump()
    }

    private mutating func dropped() -> Bool {
        lossRate > 0 && Double(loss.next() % 1_000_000) / 1_000_000 < lossRate
    }

    /// Runs the world until `deadline`, jumping from one timer to the next.
    mutating func run(for duration: Duration) {
        let deadline = now + duration
        pump()
        while true {
            var next = client.nextDeadline
            for server in servers.values {
                if let d = server.endpoint.nextDeadline { next = next.map { min($0, d) } ?? d }
            }
            guard let wake = next, wake <= deadline else { break }
            now = max(now, wake)
            for server in servers.values {
                server.endpoint.advance(to: now)
                server.process(at: now)
            }
            client.advance(to: now)
            pump()
        }
        now = deadline
        client.advance(to: now)
        pump()
    }

    /// Runs until `condition` holds or `limit` passes; returns whether it held.
    mutating func run(until limit: Duration, _ condition: (ClientHarness) -> Bool) -> Bool {
        let deadline = now + limit
        while now < deadline {
            if condition(self) { return true }
            run(for: .milliseconds(250))
        }
        return condition(self)
    }

    func eventNames() -> [String] { events.map(\.description) }
}

extension ClientConfiguration {
    static var test: ClientConfiguration {
        var configuration = ClientConfiguration(endpointName: "gw-test-1")
        configuration.bootstrapRetryInitial = .seconds(5)
        configuration.bootstrapRetryMaximum = .seconds(60)
        configuration.bootstrapSessionTimeout = .seconds(30)
        configuration.supportedSecurityModes = [.noSecurity, .preSharedKey, .certificate]
        return configuration
    }
}

// MARK: - Building configurations and bootstrap plans

enum Accounts {
    static func securityRecords(instance: UInt16, uri: String, bootstrap: Bool, mode: Int64 = 3, ssid: UInt16? = nil,
                                identity: [UInt8]? = nil, secret: [UInt8]? = nil) -> [LwM2MRecord] {
        var records = [
            LwM2MRecord(LwM2MPath(0, instance, 0), .string(uri)),
            LwM2MRecord(LwM2MPath(0, instance, 1), .boolean(bootstrap)),
            LwM2MRecord(LwM2MPath(0, instance, 2), .integer(mode)),
        ]
        if let identity { records.append(LwM2MRecord(LwM2MPath(0, instance, 3), .opaque(identity))) }
        if let secret { records.append(LwM2MRecord(LwM2MPath(0, instance, 5), .opaque(secret))) }
        if let ssid { records.append(LwM2MRecord(LwM2MPath(0, instance, 10), .integer(Int64(ssid)))) }
        return records
    }

    static func serverRecords(instance: UInt16, ssid: UInt16, lifetime: Int64 = 300, binding: String = "U",
                              retryCount: UInt64? = 1, sequenceRetryCount: UInt64? = 1) -> [LwM2MRecord] {
        var records = [
            LwM2MRecord(LwM2MPath(1, instance, 0), .integer(Int64(ssid))),
            LwM2MRecord(LwM2MPath(1, instance, 1), .integer(lifetime)),
            LwM2MRecord(LwM2MPath(1, instance, 6), .boolean(true)),
            LwM2MRecord(LwM2MPath(1, instance, 7), .string(binding)),
        ]
        if let retryCount { records.append(LwM2MRecord(LwM2MPath(1, instance, 17), .unsignedInteger(retryCount))) }
        records.append(LwM2MRecord(LwM2MPath(1, instance, 18), .unsignedInteger(2)))
        if let sequenceRetryCount {
            records.append(LwM2MRecord(LwM2MPath(1, instance, 20), .unsignedInteger(sequenceRetryCount)))
        }
        return records
    }

    /// A snapshot of Security/Server objects built from records.
    static func snapshot(security: [LwM2MRecord], servers: [LwM2MRecord] = []) -> ConfigurationSnapshot {
        func object(_ id: UInt16, _ records: [LwM2MRecord]) -> ObjectSnapshot {
            var snapshot = ObjectSnapshot()
            let definition = OMAObjects.definition(id)!
            let byInstance = Dictionary(grouping: records) { $0.path.instanceID! }
            for (instance, records) in byInstance {
                snapshot.instances[instance] = try! ResourceContent.grouping(records, definition: definition)
            }
            return snapshot
        }
        return ConfigurationSnapshot(objects: [0: object(0, security), 1: object(1, servers), 2: ObjectSnapshot()])
    }

    /// Bootstrap-Write of `records` on `path` in SenML JSON.
    static func write(_ path: LwM2MPath, _ records: [LwM2MRecord], format: UInt16 = ContentFormat.senmlJSON) -> CoAPRequest {
        let payload = try! PayloadCodec.encode(records, base: path, format: format)
        return CoAPRequest(.put, options: path.ids.map { CoAPOption(.uriPath, string: String($0)) }
            + [CoAPOption(.contentFormat, uint: UInt32(format))], payload: payload)
    }

    static func delete(_ path: LwM2MPath) -> CoAPRequest {
        CoAPRequest(.delete, options: path.ids.map { CoAPOption(.uriPath, string: String($0)) })
    }

    static let finish = CoAPRequest(.post, options: [CoAPOption(.uriPath, string: "bs")])

    /// The usual plan: Delete /, write one NoSec server account and its Server instance, Finish.
    static func plan(serverURI: String, ssid: UInt16) -> [CoAPRequest] {
        [
            delete(.root),
            write(LwM2MPath(0, 1), securityRecords(instance: 1, uri: serverURI, bootstrap: false, ssid: ssid)),
            write(LwM2MPath(1, 1), serverRecords(instance: 1, ssid: ssid)),
            finish,
        ]
    }
}
