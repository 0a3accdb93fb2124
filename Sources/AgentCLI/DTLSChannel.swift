import AgentCommon
import AgentDaemon
import CoAP
import DTLS
import DTLSGnuTLS
import Transport

/// Drives a `CoAPEndpoint` over one DTLS session over one UDP socket: the coaps:// transport for
/// one server (one DTLS session per server). The session runs on mbedTLS for PSK and X.509 and
/// on GnuTLS for raw public keys (`DTLSSessionFactory`).
///
/// CoAP datagrams the endpoint produces become DTLS records; decrypted records become CoAP
/// datagrams from `server`; an ``EventLoop`` waits for the socket, the endpoint's timers and
/// the session's handshake timers, all on `MonotonicClock`.
public final class DTLSChannel {
    /// Called for every endpoint event, as with `EndpointRunner`.
    public typealias EventHandler = EndpointRunner.EventHandler

    /// The CoAP engine; its peer is always `server`.
    public var endpoint: CoAPEndpoint<SocketAddress>
    /// The DTLS session with `server` (state, cipher suite, saved session for resumption).
    public let session: any DTLSSession
    /// The socket the records travel on.
    public var socket: UDPSocket { connection.socket }
    /// The server's address; datagrams from anywhere else are dropped.
    public let server: SocketAddress
    /// Socket and session, pumped as the daemon pumps its server connections.
    private let connection: ServerConnection
    /// Session events not yet taken with ``nextDTLSEvent()``.
    private var dtlsEvents: [DTLSEvent] = []
    /// The loop the socket is watched on.
    public let loop = EventLoop()
    /// Datagrams from other addresses than `server`, dropped.
    public private(set) var foreignDatagramCount = 0
    /// Where session events are logged (connected, failures with their mapped cause, closed).
    public var logger: Logger?
    /// Socket send failures (kept for logs; UDP loss is normal).
    public private(set) var sendErrors: [TransportError] = []

    /// Opens a socket and starts the handshake with `server`.
    public init(
        server: SocketAddress, dtls: DTLSConfiguration, configuration: EndpointConfiguration = EndpointConfiguration(),
        resuming: DTLSSavedSession? = nil, seed: UInt64 = secureRandomUInt64()
    ) throws(OneShotError) {
        self.server = server
        let socket: UDPSocket
        do { socket = try UDPSocket(family: server.family) } catch { throw .transport(error) }
        do {
            session = try DTLSSessionFactory.makeSession(
                configuration: dtls, resuming: resuming, random: { secureRandomBytes($0) }, now: MonotonicClock.now())
        } catch { throw .dtls(error) }
        connection = ServerConnection(socket: socket, peer: server, dtls: session)
        endpoint = CoAPEndpoint(configuration: configuration, seed: seed)
        loop.watch(socket, onDatagram: { [unowned self] bytes, peer, now throws(TransportError) in
            guard peer == server else {
                foreignDatagramCount &+= 1
                return
            }
            for plaintext in try connection.receive(Array(bytes), at: now) {
                endpoint.receive(plaintext, from: server, at: now)
            }
        })
        loop.addDeadline { [unowned self] in endpoint.nextDeadline }
        loop.addDeadline { [unowned self] in session.nextDeadline }
    }

    /// The next session event (connected, failed, closed).
    public func nextDTLSEvent() -> DTLSEvent? { dtlsEvents.isEmpty ? nil : dtlsEvents.removeFirst() }

    /// Moves CoAP datagrams into the session, records onto the socket and events to `handler`
    /// until nothing is left.
    public func flush(_ handler: EventHandler, at now: Instant) {
        while true {
            endpoint.drainDatagrams { datagram in record { () throws(TransportError) in try connection.send(datagram.bytes) } }
            record { () throws(TransportError) in try connection.advance(to: now) }
            for event in connection.takeEvents() {
                log(event)
                dtlsEvents.append(event)
            }
            guard let event = endpoint.nextEvent() else { return }
            handler(event, &endpoint, now)
        }
    }

    /// One loop iteration: flush, wait for a datagram or the earliest deadline (endpoint,
    /// session or `deadline`), then process it.
    public func runOnce(until deadline: Instant? = nil, _ handler: EventHandler) throws(TransportError) {
        flush(handler, at: MonotonicClock.now())
        let now = try loop.runOnce(until: deadline)
        try connection.advance(to: now)
        endpoint.advance(to: now)
        flush(handler, at: now)
    }

    /// Runs a socket operation, keeping its failure for the logs (UDP loss is normal).
    private func record(_ operation: () throws(TransportError) -> Void) {
        do throws(TransportError) { try operation() } catch {
            if sendErrors.count < 16 { sendErrors.append(error) }
        }
    }

    private func log(_ event: DTLSEvent) {
        guard let logger else { return }
        switch event {
        case .connected(let resumed, let suite):
            let took = session.connectedAt.map { " in \($0 - session.startedAt)" } ?? ""
            logger.log(.info, "DTLS session with \(server) established\(took): \(suite)\(resumed ? ", resumed" : "")")
        case .failed(let error):
            logger.log(.error, "DTLS session with \(server) failed: \(error)")
        case .closed:
            logger.log(.notice, "DTLS session with \(server) closed")
        }
    }

    /// Sends close_notify and flushes it.
    public func close() {
        session.close()
        flush({ _, _, _ in }, at: MonotonicClock.now())
    }
}
