import CoAP
import DTLS
import DTLSGnuTLS
import Time
import Transport

/// Settings of a CoAP (Block2) download.
public struct CoAPDownloadOptions {
    /// The engine's settings: retransmissions (ACK_TIMEOUT, MAX_RETRANSMIT) decide when a
    /// silent server counts as a lost connection.
    public var endpoint = EndpointConfiguration()
    /// Credentials and trust for `coaps://` (required for it; ignored for `coap://`).
    public var dtls: DTLSConfiguration?
    /// Block size asked for (6 = 1024 bytes).
    public var blockSZX: UInt8 = 6
    /// What a changed ETag does: start again from byte 0 (a few times), or fail.
    public var eTagPolicy: Block2Download.ETagPolicy = .restart(limit: 3)

    public init() {}
}

/// A firmware download over CoAP Block2 (`coap://`, or `coaps://` through a DTLS client
/// session), streamed to a ``DownloadSink`` one block at a time on the agent's ``EventLoop``.
///
/// One block is in flight at a time: the engine retransmits it and, when it gives up,
/// the download ends with ``FirmwareDownloadError/connectionLost(_:)`` (or ``connect(_:)``
/// before the first block), keeping the blocks stored; ``progress`` then says where to resume
/// (``ResumePoint``: the bytes stored and the ETag), e.g. after the agent restarts.
///
/// Driving: create it on the loop, ``start(at:)``, and call ``advance(to:)`` with the time each
/// `loop.runOnce` returns (as the loop's other owners do); ``onFinish`` is called once.
public final class CoAPDownload {
    public let uri: CoAPURI
    public let peer: SocketAddress
    /// The download's protocol state (offset, ETag, restarts).
    public private(set) var state: Block2Download
    /// Blocks received in this run (not counting the ones stored before a resume).
    public private(set) var blocksReceived = 0
    /// The outcome, once finished.
    public private(set) var result: Result<DownloadProgress, FirmwareDownloadError>?
    /// Called after every stored block.
    public var onProgress: ((DownloadProgress) -> Void)?
    /// Called once, when the download completes or fails.
    public var onFinish: ((Result<DownloadProgress, FirmwareDownloadError>) -> Void)?

    private let sink: DownloadSink
    private let loop: EventLoop
    private let socket: UDPSocket
    private let session: (any DTLSSession)?
    private var endpoint: CoAPEndpoint<SocketAddress>
    private var sources: [EventLoop.SourceID] = []
    private var pending: RequestID?

    /// Where the download stands (bytes stored, size announced, ETag).
    public var progress: DownloadProgress {
        DownloadProgress(received: sink.size, total: state.totalSize, validator: state.eTagKnown ? state.eTag : nil)
    }

    /// Opens a socket connected to `peer` (and a DTLS session for `coaps`) and prepares the
    /// download of `uri` into `sink`: from byte 0 (the sink is emptied), or resumed at
    /// `resume` (the sink is cut back to the last whole block at or below `resume.offset`).
    public init(
        uri: CoAPURI, peer: SocketAddress, sink: DownloadSink, resume: ResumePoint? = nil,
        options: CoAPDownloadOptions = CoAPDownloadOptions(), loop: EventLoop
    ) throws(FirmwareDownloadError) {
        self.uri = uri
        self.peer = peer
        self.sink = sink
        self.loop = loop
        var request = CoAPRequest(.get)
        var message = CoAPMessage(type: .confirmable, code: .get)
        for option in uri.options { message.addOption(option) }
        request.options = message.options
        let szx = min(options.blockSZX, options.endpoint.preferredBlockSZX)
        do throws(DownloadSinkError) {
            if let resume, resume.offset > 0 {
                let offset = Block2Download.resumeOffset(stored: min(resume.offset, sink.size), blockSZX: szx)
                try sink.truncate(to: offset)
                state = Block2Download(request: request, blockSZX: szx, resumingAt: offset, eTag: resume.validator,
                                       eTagPolicy: options.eTagPolicy)
            } else {
                try sink.reset()
                state = Block2Download(request: request, blockSZX: szx, eTagPolicy: options.eTagPolicy)
            }
        } catch {
            throw .sink(error)
        }
        if uri.scheme == .coaps {
            guard var dtls = options.dtls else { throw .tls("coaps:// needs DTLS credentials (PSK, certificate or raw public key)") }
            do { try MbedTLSGuard.check() } catch { throw .tls("\(error)") }
            if dtls.serverName == nil { dtls.serverName = uri.host }
            do {
                // mbedTLS for PSK and X.509, GnuTLS (loaded on first use) for raw public keys.
                session = try DTLSSessionFactory.makeSession(configuration: dtls, random: { secureRandomBytes($0) },
                                                             now: MonotonicClock.now())
            } catch {
                throw .tls("\(error)")
            }
        } else {
            session = nil
        }
        do {
            socket = try UDPSocket(family: peer.family)
            try socket.connect(to: peer)
        } catch {
            throw .connect("\(error)")
        }
        endpoint = CoAPEndpoint(configuration: options.endpoint, seed: secureRandomUInt64())
    }

    deinit { stop() }

    /// Asks for the first block (block 0, or the resume point's).
    public func start(at now: Instant) {
        sources.append(loop.watch(socket, onDatagram: { [unowned self] bytes, sender, now in
            guard sender == peer, result == nil else { return }
            if let session {
                session.receive(datagram: Array(bytes), now: now)
                while let plaintext = session.nextApplicationData() { endpoint.receive(plaintext, from: peer, at: now) }
            } else {
                endpoint.receive(bytes, from: peer, at: now)
            }
            pump(at: now)
        }, onError: { [unowned self] error in finish(.failure(.connectionLost("\(error)"))) }))
        sources.append(loop.addDeadline { [unowned self] in result == nil ? endpoint.nextDeadline : nil })
        if let session { sources.append(loop.addDeadline { [unowned self] in result == nil ? session.nextDeadline : nil }) }
        requestNext(at: now)
        pump(at: now)
    }

    /// Runs the timers due at `now` (retransmissions, DTLS handshake timers, give-ups).
    public func advance(to now: Instant) {
        guard result == nil else { return }
        session?.advance(to: now)
        endpoint.advance(to: now)
        pump(at: now)
    }

    /// Stops the download (no more requests; the stored bytes stay for a resume).
    public func cancel() {
        if result == nil { finish(.failure(.cancelled)) }
    }

    // MARK: - Engine plumbing

    private func requestNext(at now: Instant) {
        pending = endpoint.sendBlockRequest(state.request, block2: state.nextBlock, to: peer, at: now)
    }

    /// Moves datagrams out (through DTLS) and handles the engine's and the session's events.
    private func pump(at now: Instant) {
        while result == nil {
            endpoint.drainDatagrams { datagram in
                if let session { try? session.send(datagram.bytes) } else { _ = try? socket.send(datagram.bytes, to: peer) }
            }
            if let session {
                while let record = session.nextDatagram() { _ = try? socket.send(record, to: peer) }
                while let event = session.nextEvent() {
                    switch event {
                    case .connected: break
                    case .failed(let error): return finish(.failure(Self.map(error)))
                    case .closed: return finish(.failure(.connectionLost("DTLS session closed by the server")))
                    }
                }
            }
            guard let event = endpoint.nextEvent() else { return }
            switch event {
            case .response(let id, let message) where id == pending:
                pending = nil
                handle(message, at: now)
            case .requestFailed(let id, let failure) where id == pending:
                pending = nil
                let why = "\(failure) after \(progress.received) bytes"
                if session?.state == .handshaking { return finish(.failure(.tls("DTLS handshake timed out"))) }
                switch failure {
                case .timeout, .reset:
                    finish(.failure(blocksReceived == 0 && state.offset == 0 ? .connect(why) : .connectionLost(why)))
                default:
                    finish(.failure(.protocolViolation(why)))
                }
            case .request(let incoming):
                endpoint.respond(to: incoming.exchange, with: .error(.notFound, "firmware download"), at: now)
            default:
                break
            }
        }
    }

    private func handle(_ message: CoAPMessage, at now: Instant) {
        let outcome: Block2Download.Outcome
        do {
            outcome = try state.receive(message)
        } catch {
            switch error {
            case .status(let code): return finish(.failure(.status("\(code)")))
            case .representationChanged: return finish(.failure(.representationChanged))
            default: return finish(.failure(.protocolViolation("\(error)")))
            }
        }
        do throws(DownloadSinkError) {
            if outcome.restart { try sink.reset() }
            // The size announced (Size2) is checked before the first block of a run is stored.
            if blocksReceived == 0 || outcome.restart, let total = state.totalSize { try sink.expectTotal(total) }
            try Self.append(outcome.payload, to: sink)
            if outcome.complete { try sink.finish() }
        } catch {
            return finish(.failure(.sink(error)))
        }
        blocksReceived += 1
        onProgress?(progress)
        if outcome.complete {
            finish(.success(progress))
        } else {
            requestNext(at: now)
        }
    }

    private static func append(_ bytes: ArraySlice<UInt8>, to sink: DownloadSink) throws(DownloadSinkError) {
        var failure: DownloadSinkError?
        bytes.withUnsafeBytes { buffer in
            do throws(DownloadSinkError) { try sink.append(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func finish(_ outcome: Result<DownloadProgress, FirmwareDownloadError>) {
        guard result == nil else { return }
        result = outcome
        if let pending { endpoint.cancel(pending, at: MonotonicClock.now()) }
        pending = nil
        stop()
        onFinish?(outcome)
    }

    private func stop() {
        for source in sources { loop.remove(source) }
        sources = []
        if let session, session.state == .connected {
            session.close()
            while let record = session.nextDatagram() { _ = try? socket.send(record, to: peer) }
        }
        socket.close()
    }

    static func map(_ error: DTLSError) -> FirmwareDownloadError {
        switch error {
        case .unknownCA, .certificateExpired, .certificateNotYetValid, .hostMismatch, .certificatePinMismatch,
             .certificateRejected, .pskRejected:
            .tlsVerification("\(error)")
        case .handshakeTimeout:
            .connect("\(error)")
        case .closedByPeer:
            .connectionLost("\(error)")
        default:
            .tls("\(error)")
        }
    }
}
