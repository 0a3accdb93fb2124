import CMbedTLS
import CoAP
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

    public private(set) var state: State = .handshaking
    /// After the handshake: the session to pass to a later session's `resuming:` argument.
    public private(set) var savedSession: DTLSSavedSession?
    /// The negotiated cipher suite's mbedTLS name, once connected.
    public private(set) var cipherSuite: String?
    /// Whether the handshake resumed an earlier session.
    public private(set) var resumed = false
    /// When the session was created and when its handshake finished (driver's clock).
    public let startedAt: Instant
    public private(set) var connectedAt: Instant?

    private let ssl: UnsafeMutablePointer<mbedtls_ssl_context>
    private let config: UnsafeMutablePointer<mbedtls_ssl_config>
    private let ownCertificates: UnsafeMutablePointer<mbedtls_x509_crt>
    private let suites: UnsafeMutablePointer<Int32>
    private let readBuffer: UnsafeMutableBufferPointer<UInt8>
    private let random: RandomBox
    private var verifier: CertificateVerifier?
    private var signerKey: SignerKey?
    private let usesPSK: Bool
    private let expectedName: String?
    private let maxQueued: Int
    private let offeredSession: DTLSSavedSession?

    private var now: Instant
    private var timerStart = Instant.zero
    private var timerIntermediate: Duration = .zero
    private var timerFinal: Duration = .zero

    private var incoming: [[UInt8]] = []
    private var outgoing: [[UInt8]] = []
    private var received: [[UInt8]] = []
    private var events: [DTLSEvent] = []
    private var queuedPlaintext: [[UInt8]] = []

    /// Configures mbedTLS and starts the handshake.
    ///
    /// - Parameters:
    ///   - configuration: credentials, server trust and timers.
    ///   - resuming: a session saved from an earlier connection to the same server; the server
    ///     may resume it (abbreviated handshake) or start afresh if it lost it.
    ///   - random: the source of all randomness (client random, ECDHE keys, ticket IDs).
    ///   - now: the driver's current time.
    /// - Throws: `.invalidConfiguration` for unusable certificates, keys or suites;
    ///   `.unsupportedLibrary` when ``MbedTLSGuard/check()`` fails for certificate mode.
    public init(
        configuration: DTLSConfiguration, resuming: DTLSSavedSession? = nil,
        random: @escaping RandomSource, now: Instant
    ) throws(DTLSError) {
        ssl = .allocate(capacity: 1)
        config = .allocate(capacity: 1)
        ownCertificates = .allocate(capacity: 1)
        mbedtls_ssl_init(ssl)
        mbedtls_ssl_config_init(config)
        mbedtls_x509_crt_init(ownCertificates)
        self.random = RandomBox(random)
        self.now = now
        startedAt = now
        offeredSession = resuming
        maxQueued = configuration.maxQueuedDatagrams
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
            let status = mbedtls_ssl_set_session(ssl, resuming.session)
            guard status == 0 else { throw DTLSError.library(status) }
        }
        drive()
    }

    deinit {
        mbedtls_ssl_free(ssl)
        mbedtls_ssl_config_free(config)  // zeroises the PSK copy
        mbedtls_x509_crt_free(ownCertificates)
        ssl.deallocate()
        config.deallocate()
        ownCertificates.deallocate()
        suites.deallocate()
        readBuffer.deallocate()
    }

    private var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private func configure(_ configuration: DTLSConfiguration) throws(DTLSError) {
        var status = mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)
        guard status == 0 else { throw DTLSError.library(status) }
        mbedtls_ssl_conf_rng(config, RandomBox.callback, random.opaque)
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)  // DTLS 1.2
        mbedtls_ssl_conf_ciphersuites(config, suites)
        mbedtls_ssl_conf_handshake_timeout(config, Self.milliseconds(configuration.handshakeTimeoutMin),
                                           Self.milliseconds(configuration.handshakeTimeoutMax))
        mbedtls_ssl_conf_session_tickets(config, MBEDTLS_SSL_SESSION_TICKETS_ENABLED)

        switch configuration.authentication {
        case .psk(let identity, let key):
            guard !identity.isEmpty, !key.isEmpty else { throw .invalidConfiguration("PSK identity and key must not be empty") }
            status = key.withUnsafeBytes { bytes in
                mbedtls_ssl_conf_psk(config, bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, identity, identity.count)
            }
            guard status == 0 else { throw .invalidConfiguration("PSK rejected by mbedTLS (\(DTLSError.library(status)))") }
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_NONE)
        case .certificate(let chain, let signer):
            try MbedTLSGuard.check()
            guard !chain.isEmpty else { throw .invalidConfiguration("client certificate chain is empty") }
            for der in chain {
                status = mbedtls_x509_crt_parse_der(ownCertificates, der, der.count)
                guard status == 0 else { throw .invalidConfiguration("client certificate is not DER X.509 (\(DTLSError.library(status)))") }
            }
            let key = try SignerKey(signer: signer)
            signerKey = key
            guard Self.publicKeyMatches(ownCertificates, signer.publicKeyPoint) else {
                throw .invalidConfiguration("client certificate does not belong to the signing key")
            }
            status = mbedtls_ssl_conf_own_cert(config, ownCertificates, key.context)
            guard status == 0 else { throw DTLSError.library(status) }
            guard let trust = configuration.serverTrust else {
                throw .invalidConfiguration("certificate mode needs a server trust rule (/0/x/4 and /0/x/15)")
            }
            let verifier = try CertificateVerifier(trust: trust, additionalAnchors: configuration.additionalTrustAnchors)
            self.verifier = verifier
            mbedtls_ssl_conf_ca_chain(config, verifier.anchors, nil)
            mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
            mbedtls_ssl_conf_verify(config, CertificateVerifier.callback, verifier.opaque)
        }

        status = mbedtls_ssl_setup(ssl, config)
        guard status == 0 else { throw DTLSError.library(status) }
        if let size = configuration.maximumDatagramSize { mbedtls_ssl_set_mtu(ssl, UInt16(clamping: size)) }
        // SNI and the certificate name check share mbedTLS's host name: an IP literal is never
        // set (no SNI, and no name check for IP hosts: see DTLSConfiguration.serverName).
        if let name = configuration.sniHostName {
            status = mbedtls_ssl_set_hostname(ssl, name)
            guard status == 0 else { throw .invalidConfiguration("server name \"\(name)\" is not usable") }
        }
        mbedtls_ssl_set_bio(ssl, opaque, Self.sendCallback, Self.receiveCallback, nil)
        mbedtls_ssl_set_timer_cb(ssl, opaque, Self.setTimerCallback, Self.getTimerCallback)
    }

    // MARK: Driver interface

    /// Feeds one datagram received from the server. Records that fail authentication and
    /// datagrams that are not DTLS are dropped (RFC 6347 §4.1.2.7), never fatal.
    public func receive(datagram: [UInt8], now: Instant) {
        self.now = max(self.now, now)
        guard !datagram.isEmpty, state == .handshaking || state == .connected else { return }
        incoming.append(datagram)
        drive()
        incoming.removeAll()  // anything mbedTLS did not consume is stale
    }

    /// Lets timers fire: handshake retransmissions, or the handshake timeout.
    public func advance(to now: Instant) {
        self.now = max(self.now, now)
        if let deadline = nextDeadline, deadline <= self.now { drive() }
    }

    /// When ``advance(to:)`` must next be called; `nil` when no timer runs.
    public var nextDeadline: Instant? {
        guard state == .handshaking || state == .connected, timerFinal > .zero else { return nil }
        return timerStart + timerFinal
    }

    /// Encrypts `plaintext` as one record (one datagram) to the server, or queues it while the
    /// handshake runs.
    /// - Throws: `.notConnected` after the session ended or when the queue is full,
    ///   `.messageTooLong` when it does not fit a record.
    public func send(_ plaintext: [UInt8]) throws(DTLSError) {
        switch state {
        case .handshaking:
            guard queuedPlaintext.count < maxQueued else { throw .notConnected }
            queuedPlaintext.append(plaintext)
        case .connected:
            try write(plaintext)
        case .closed, .failed:
            throw .notConnected
        }
    }

    /// Ends the session with close_notify (when connected); reports `.closed`.
    public func close() {
        guard state == .handshaking || state == .connected else { return }
        if state == .connected { _ = mbedtls_ssl_close_notify(ssl) }
        state = .closed
        queuedPlaintext.removeAll()
        events.append(.closed)
    }

    /// The next datagram to send to the server.
    public func nextDatagram() -> [UInt8]? { outgoing.isEmpty ? nil : outgoing.removeFirst() }
    /// The next decrypted application datagram from the server.
    public func nextApplicationData() -> [UInt8]? { received.isEmpty ? nil : received.removeFirst() }
    /// The next event.
    public func nextEvent() -> DTLSEvent? { events.isEmpty ? nil : events.removeFirst() }

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
            let status = mbedtls_ssl_handshake_step(ssl)
            if before == serverHello && ssl.pointee.state == serverCCS { resumed = true }
            if status != 0 { return status }
        }
        return 0
    }

    private func didConnect() {
        state = .connected
        connectedAt = now
        resumed = resumed && offeredSession != nil
        cipherSuite = mbedtls_ssl_get_ciphersuite(ssl).map { String(cString: $0) } ?? "unknown"
        savedSession = DTLSSavedSession(from: ssl)
        events.append(.connected(resumed: resumed, cipherSuite: cipherSuite!))
        let pending = queuedPlaintext
        queuedPlaintext.removeAll()
        for plaintext in pending {
            do throws(DTLSError) { try write(plaintext) } catch { events.append(.failed(error)) }
        }
    }

    private func write(_ plaintext: [UInt8]) throws(DTLSError) {
        let status = mbedtls_ssl_write(ssl, plaintext, plaintext.count)
        if status >= 0 { return }
        if status == MBEDTLS_ERR_SSL_BAD_INPUT_DATA { throw .messageTooLong(plaintext.count) }
        let error = DTLSError.library(status)
        fail(error)
        throw error
    }

    private func readApplicationData() {
        while state == .connected {
            let count = mbedtls_ssl_read(ssl, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                received.append(Array(readBuffer[0..<Int(count)]))
            } else if count == MBEDTLS_ERR_SSL_WANT_READ || count == MBEDTLS_ERR_SSL_WANT_WRITE || count == 0 {
                return
            } else if count == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY {
                _ = mbedtls_ssl_close_notify(ssl)
                state = .closed
                events.append(.closed)
            } else if count == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE {
                fail(alertError())
            } else {
                fail(.library(count))
            }
        }
    }

    private func fail(_ error: DTLSError) {
        guard state == .handshaking || state == .connected else { return }
        state = .failed
        queuedPlaintext.removeAll()
        timerFinal = .zero
        events.append(.failed(error))
    }

    // MARK: Error mapping

    private func handshakeError(_ status: Int32) -> DTLSError {
        if let message = signerKey?.box.lastError { return .signerFailed(message) }
        switch status {
        case MBEDTLS_ERR_SSL_TIMEOUT:
            // Servers drop a Finished made with a wrong key silently (RFC 6347 §4.1.2.7): a
            // timeout after ours was sent is the usual sign of a wrong PSK.
            if usesPSK && ssl.pointee.state >= Int32(MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC.rawValue) {
                return .pskRejected(reason: "the server never answered our Finished message")
            }
            return .handshakeTimeout
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
            guard let verifier else { return .library(status) }
            return verifier.error(verifyResult: mbedtls_ssl_get_verify_result(ssl), expectedName: expectedName)
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
            return alertError()
        default:
            return .library(status)
        }
    }

    private func alertError() -> DTLSError {
        let code = ssl.pointee.in_msg.map { $0[1] } ?? 0
        if usesPSK, [TLSAlert.decryptError, TLSAlert.badRecordMAC, TLSAlert.unknownPSKIdentity].contains(code) {
            return .pskRejected(reason: "server sent \(TLSAlert.name(code))")
        }
        if !usesPSK, clientCertificateSent, TLSAlert.clientCertificateProblems.contains(code) {
            return .clientCertificateRejected(alert: TLSAlert.name(code))
        }
        return .alertReceived(code: code, name: TLSAlert.name(code))
    }

    /// Whether the handshake got past sending our Certificate message.
    private var clientCertificateSent: Bool {
        ssl.pointee.state > Int32(MBEDTLS_SSL_CLIENT_CERTIFICATE.rawValue)
    }

    // MARK: mbedTLS callbacks

    private static func session(_ context: UnsafeMutableRawPointer?) -> DTLSClientSession {
        Unmanaged<DTLSClientSession>.fromOpaque(context!).takeUnretainedValue()
    }

    private static let sendCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int) -> Int32 = {
        context, bytes, count in
        guard let bytes else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
        session(context).outgoing.append(Array(UnsafeBufferPointer(start: bytes, count: count)))
        return Int32(count)
    }

    private static let receiveCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
        context, buffer, capacity in
        let session = session(context)
        guard let buffer, !session.incoming.isEmpty else { return MBEDTLS_ERR_SSL_WANT_READ }
        let datagram = session.incoming.removeFirst()
        let count = min(datagram.count, capacity)  // mbedTLS offers a whole record buffer
        datagram.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
        return Int32(count)
    }

    private static let setTimerCallback: @convention(c) (UnsafeMutableRawPointer?, UInt32, UInt32) -> Void = {
        context, intermediate, final in
        let session = session(context)
        session.timerStart = session.now
        session.timerIntermediate = .milliseconds(intermediate)
        session.timerFinal = .milliseconds(final)
    }

    /// -1 cancelled, 0 running, 1 intermediate delay passed, 2 final delay passed.
    private static let getTimerCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { context in
        let session = session(context)
        guard session.timerFinal > .zero else { return -1 }
        let elapsed = session.now - session.timerStart
        if elapsed >= session.timerFinal { return 2 }
        if elapsed >= session.timerIntermediate { return 1 }
        return 0
    }

    // MARK: Helpers

    private static func milliseconds(_ duration: Duration) -> UInt32 {
        UInt32(clamping: max(1, duration.nanosecondsClamped / 1_000_000))
    }

    private static func publicKeyMatches(_ certificate: UnsafeMutablePointer<mbedtls_x509_crt>, _ point: [UInt8]) -> Bool {
        guard mbedtls_pk_get_type(&certificate.pointee.pk) == MBEDTLS_PK_ECKEY,
              let context = certificate.pointee.pk.pk_ctx?.assumingMemoryBound(to: mbedtls_ecp_keypair.self)
        else { return false }
        var buffer = [UInt8](repeating: 0, count: 65)
        var length = 0
        let status = mbedtls_ecp_point_write_binary(&context.pointee.grp, &context.pointee.Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                    &length, &buffer, buffer.count)
        return status == 0 && length == 65 && buffer == point
    }
}
