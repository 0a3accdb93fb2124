import CMbedTLS
import Time
import Credentials

/// One DTLS 1.2 client session with one server, driven sans-IO over mbedTLS 2.28.
///
/// The session never touches a socket or a clock: the driver feeds received datagrams with
/// ``receive(datagram:now:)``, calls ``advance(to:)`` when ``nextDeadline`` passes, and sends
/// every datagram ``nextDatagram()`` returns to the server. mbedTLS's I/O and timer callbacks
/// are bound to these queues and to the `Instant`s passed in, so handshake retransmissions
/// follow the driver's clock (a virtual one in tests).
///
/// The handshake starts in `init` (the ClientHello is queued at once). Application data sent
/// before ``DTLSEvent/connected(resumed:cipherSuite:)`` is queued (up to
/// ``DTLSConfiguration/maxQueuedDatagrams``) and sent when the handshake completes.
///
/// A class because mbedTLS keeps pointers to its contexts: they are allocated once and stay put.
/// Not thread-safe; use from the event-loop thread.
public final class DTLSClientSession {
    /// Where the session is in its life.
    public enum State: Equatable, Sendable { case handshaking, connected, closed, failed }

    /// The current state; `.closed` and `.failed` are final.
    public var state: State { core.state }
    /// After the handshake: the session to pass to a later session's `resuming:` argument.
    public private(set) var savedSession: DTLSSavedSession?
    /// The negotiated cipher suite's mbedTLS name, once connected.
    public var cipherSuite: String? { core.cipherSuite }
    /// Whether the handshake resumed an earlier session.
    public private(set) var resumed = false
    /// When the session was created (the first ClientHello), on the driver's clock.
    public let startedAt: Instant
    /// When the handshake finished, on the driver's clock.
    public var connectedAt: Instant? { core.connectedAt }

    // Internal (not private) so the extensions in the DTLSClientSession+*.swift files reach them.
    let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    let config: UnsafeMutablePointer<mbedtls_ssl_config>
    let ownCertificates: UnsafeMutablePointer<mbedtls_x509_crt>
    let suites: UnsafeMutablePointer<Int32>
    let readBuffer: UnsafeMutableBufferPointer<UInt8>
    let random: RandomBox
    var verifier: CertificateVerifier?
    var signerKey: SignerKey?
    let usesPSK: Bool
    let expectedName: String?
    let offeredSession: DTLSSavedSession?

    /// The driver's clock as last fed (``DTLSSessionCore/now``).
    var now: Instant { core.now }
    var timerStart = Instant.zero
    var timerIntermediate: Duration = .zero
    var timerFinal: Duration = .zero

    /// State, queues and the send/close/fail rules shared with the GnuTLS backend.
    var core: DTLSSessionCore

    /// Configures mbedTLS and starts the handshake.
    ///
    /// - Parameters:
    ///   - configuration: credentials, server trust and timers.
    ///   - resuming: a session saved from an earlier connection to the same server; the server
    ///     may resume it (abbreviated handshake) or start afresh if it lost it.
    ///   - random: the source of all randomness (client random, ECDHE keys, ticket IDs).
    ///   - now: the driver's current time.
    /// - Throws: `.invalidConfiguration` for unusable certificates, keys or suites;
    ///   `.unsupportedLibrary` when mbedTLS cannot be loaded or ``MbedTLSGuard/check()`` fails
    ///   (the first session of the process loads and checks the library).
    public init(
        configuration: DTLSConfiguration, resuming: DTLSSavedSession? = nil,
        random: @escaping RandomSource, now: Instant
    ) throws(DTLSError) {
        try MbedTLSGuard.check()
        ssl = .allocate(capacity: 1)
        config = .allocate(capacity: 1)
        ownCertificates = .allocate(capacity: 1)
        mbedTLS.mbedtls_ssl_init(ssl)
        mbedTLS.mbedtls_ssl_config_init(config)
        mbedTLS.mbedtls_x509_crt_init(ownCertificates)
        self.random = RandomBox(random)
        startedAt = now
        offeredSession = resuming
        core = DTLSSessionCore(maxQueued: configuration.maxQueuedDatagrams, now: now)
        expectedName = configuration.expectedServerName
        readBuffer = .allocate(capacity: Int(MBEDTLS_SSL_IN_CONTENT_LEN))
        let usesPSK: Bool
        if case .psk = configuration.authentication { usesPSK = true } else { usesPSK = false }
        self.usesPSK = usesPSK
        let chosen = (configuration.cipherSuites ?? (usesPSK ? DTLSCipherSuite.defaultPSK : DTLSCipherSuite.defaultCertificate))
            .filter { usesPSK ? DTLSCipherSuite.isPSK($0) : DTLSCipherSuite.isECDHEECDSA($0) }
        suites = .allocate(capacity: chosen.count + 1)
        for (index, suite) in chosen.enumerated() { suites[index] = Int32(suite) }
        suites[chosen.count] = 0
        guard !chosen.isEmpty else {
            throw .invalidConfiguration("none of the cipher suites \(configuration.cipherSuites ?? []) is usable for \(usesPSK ? "PSK" : "certificate") mode")
        }
        try configure(configuration)
        if let resuming {
            let status = mbedTLS.mbedtls_ssl_set_session(ssl, resuming.session)
            guard status == 0 else { throw DTLSError.library(status) }
        }
        drive()
    }

    deinit {
        mbedTLS.mbedtls_ssl_free(ssl)
        mbedTLS.mbedtls_ssl_config_free(config)  // zeroises the PSK copy
        mbedTLS.mbedtls_x509_crt_free(ownCertificates)
        ssl.deallocate()
        config.deallocate()
        ownCertificates.deallocate()
        suites.deallocate()
        readBuffer.deallocate()
    }

    /// `self` as the context pointer of the mbedTLS callbacks (valid while `self` lives).
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    // MARK: Driver interface

    /// Feeds one datagram received from the server. Records that fail authentication and
    /// datagrams that are not DTLS are dropped (RFC 6347 §4.1.2.7), never fatal.
    public func receive(datagram: [UInt8], now: Instant) {
        guard core.accept(datagram, now: now) else { return }
        drive()
        core.incoming.removeAll()  // anything mbedTLS did not consume is stale
    }

    /// Lets timers fire: handshake retransmissions, or the handshake timeout.
    public func advance(to now: Instant) {
        core.advanceClock(to: now)
        if let deadline = nextDeadline, deadline <= self.now { drive() }
    }

    /// When ``advance(to:)`` must next be called; `nil` when no timer runs.
    public var nextDeadline: Instant? {
        guard core.isLive, timerFinal > .zero else { return nil }
        return timerStart + timerFinal
    }

    /// Encrypts `plaintext` as one record (one datagram) to the server, or queues it while the
    /// handshake runs.
    /// - Throws: `.notConnected` after the session ended or when the queue is full,
    ///   `.messageTooLong` when it does not fit a record.
    public func send(_ plaintext: [UInt8]) throws(DTLSError) {
        if try core.admit(plaintext) { try write(plaintext) }
    }

    /// Ends the session with close_notify (when connected); reports `.closed`.
    public func close() {
        if state == .connected { _ = mbedTLS.mbedtls_ssl_close_notify(ssl) }
        _ = core.close()
    }

    /// The next datagram to send to the server.
    public func nextDatagram() -> [UInt8]? { core.nextDatagram() }
    /// The next decrypted application datagram from the server.
    public func nextApplicationData() -> [UInt8]? { core.nextApplicationData() }
    /// The next event.
    public func nextEvent() -> DTLSEvent? { core.nextEvent() }

    // MARK: Engine

    private func drive() {
        if state == .handshaking {
            let status = handshake()
            if status == MBEDTLS_ERR_SSL_WANT_READ || status == MBEDTLS_ERR_SSL_WANT_WRITE { return }
            guard status == 0 else { return fail(handshakeError(status)) }
            didConnect()
        }
        if state == .connected { readApplicationData() }
    }

    /// Steps the handshake until it needs input; notes an abbreviated (resumed) handshake,
    /// which goes straight from ServerHello to the server's ChangeCipherSpec.
    private func handshake() -> Int32 {
        let serverHello = Int32(MBEDTLS_SSL_SERVER_HELLO.rawValue)
        let serverCCS = Int32(MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC.rawValue)
        while ssl.pointee.state != Int32(MBEDTLS_SSL_HANDSHAKE_OVER.rawValue) {
            let before = ssl.pointee.state
            let status = mbedTLS.mbedtls_ssl_handshake_step(ssl)
            if before == serverHello && ssl.pointee.state == serverCCS { resumed = true }
            if status != 0 { return status }
        }
        return 0
    }

    private func didConnect() {
        resumed = resumed && offeredSession != nil
        savedSession = DTLSSavedSession(from: ssl)
        let suite = mbedTLS.mbedtls_ssl_get_ciphersuite(ssl).map { String(cString: $0) } ?? "unknown"
        let pending = core.connect(at: now, resumed: resumed, cipherSuite: suite)
        for plaintext in pending {
            do throws(DTLSError) { try write(plaintext) } catch { core.reportFailure(error) }
        }
    }

    private func write(_ plaintext: [UInt8]) throws(DTLSError) {
        let status = mbedTLS.mbedtls_ssl_write(ssl, plaintext, plaintext.count)
        if status >= 0 { return }
        if status == MBEDTLS_ERR_SSL_BAD_INPUT_DATA { throw .messageTooLong(plaintext.count) }
        let error = DTLSError.library(status)
        fail(error)
        throw error
    }

    private func readApplicationData() {
        while state == .connected {
            let count = mbedTLS.mbedtls_ssl_read(ssl, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                core.received.append(Array(readBuffer[0..<Int(count)]))
            } else if count == MBEDTLS_ERR_SSL_WANT_READ || count == MBEDTLS_ERR_SSL_WANT_WRITE || count == 0 {
                return
            } else if count == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY {
                _ = mbedTLS.mbedtls_ssl_close_notify(ssl)
                core.peerClosed()
            } else if count == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE {
                fail(alertError())
            } else {
                fail(.library(count))
            }
        }
    }

    private func fail(_ error: DTLSError) {
        if core.fail(error) { timerFinal = .zero }
    }
}
