import CGnuTLS
import Credentials
import DTLS
import Time

/// One DTLS 1.2 client session with raw public keys (RFC 7250, LwM2M Security Mode 1) over
/// GnuTLS, driven sans-IO behind the same interface as the mbedTLS ``DTLSClientSession``
/// (``DTLSSession``): fed datagrams and `Instant`s, drained of datagrams, application data,
/// events and its next deadline. GnuTLS's push/pull/pull-timeout callbacks are bound to the
/// session's queues; it never touches a socket.
///
/// - Our key signs through a `Signer` (`gnutls_privkey_import_ext4`): a `SoftwareSigner` or a
///   TPM-resident key, which never leaves the TPM. GnuTLS checks the pair when the session is
///   made (one test signature), so a TPM that cannot sign fails `init` with `.signerFailed`.
/// - The server must present exactly the SubjectPublicKeyInfo of /0/x/4 (byte for byte), checked
///   in GnuTLS's verify callback during the handshake: anything else aborts it with
///   ``DTLSError/serverPublicKeyMismatch(presented:)`` before our key is used.
/// - Timers: GnuTLS times DTLS retransmissions on its own (wall) clock; ``nextDeadline`` is the
///   time it asks for, read after every step, so the driver's loop wakes when GnuTLS needs it.
///   The handshake gives up after the whole schedule from ``DTLSConfiguration/handshakeTimeoutMin``
///   doubling up to ``DTLSConfiguration/handshakeTimeoutMax`` (as mbedTLS does).
///
/// GnuTLS is loaded on first use (``GnuTLSLibrary``); a process without raw-public-key sessions
/// never maps it. A class because GnuTLS keeps pointers to it. Not thread-safe.
public final class RawPublicKeySession: DTLSSession {
    public var state: DTLSClientSession.State { core.state }
    public var cipherSuite: String? { core.cipherSuite }
    public let startedAt: Instant
    public var connectedAt: Instant? { core.connectedAt }
    /// Resumption is not offered for raw-public-key sessions yet: always `false`.
    public var resumed: Bool { false }
    /// Resumption is not offered for raw-public-key sessions yet: always `nil`.
    public var savedSession: DTLSSavedSession? { nil }
    /// Handshake signatures our key made (CertificateVerify: 1 per full handshake).
    public var handshakeSignatures: Int { key.box.signatures }
    /// The GnuTLS version running the session.
    public var libraryVersion: String { library.version }

    let library: GnuTLSLibrary
    var api: UnsafeMutablePointer<cgnutls_api> { library.api }
    private(set) var session: OpaquePointer?
    private var credentials: OpaquePointer?
    let serverPublicKey: [UInt8]
    let key: ExternalKey
    let readBuffer: UnsafeMutableBufferPointer<UInt8>

    /// The driver's clock as last fed (``DTLSSessionCore/now``).
    var now: Instant { core.now }
    private var deadline: Instant?
    /// State, queues and the send/close/fail rules shared with the mbedTLS backend.
    var core: DTLSSessionCore
    /// Set by the verify callback when the server's key is not the pinned one.
    var pinFailure: DTLSError?

    /// Loads GnuTLS (once per process), configures a client session and starts the handshake.
    ///
    /// - Parameters:
    ///   - configuration: `.rawPublicKey` authentication, timers, datagram size, suites
    ///     (/0/x/16: ECDHE-ECDSA suites only; the default is ``RawPublicKeyCipherSuites/defaults``).
    ///   - now: the driver's current time.
    /// - Throws: `.backendUnavailable` when GnuTLS cannot be loaded or another mode is asked
    ///   for; `.invalidConfiguration` for an unusable key, server key or suite list.
    public init(configuration: DTLSConfiguration, now: Instant) throws(DTLSError) {
        guard case .rawPublicKey(let signer, let serverKey) = configuration.authentication else {
            throw .backendUnavailable("the GnuTLS backend runs raw-public-key sessions only (PSK and X.509 run on mbedTLS)")
        }
        library = try GnuTLSLibrary.shared.get()
        guard RawPublicKeySession.looksLikeSPKI(serverKey) else {
            throw .invalidConfiguration("server public key (/0/x/4) is not a DER SubjectPublicKeyInfo")
        }
        serverPublicKey = serverKey
        key = try ExternalKey(signer: signer)
        startedAt = now
        core = DTLSSessionCore(maxQueued: configuration.maxQueuedDatagrams, now: now)
        readBuffer = .allocate(capacity: 16_384 + 2_048)
        let priorities = try RawPublicKeyCipherSuites.priorityString(configuration.cipherSuites)
        try configure(configuration, priorities: priorities)
        drive()
    }

    deinit {
        if let session { cgnutls_deinit(api, session) }
        if let credentials { cgnutls_certificate_free_credentials(api, credentials) }  // and the external key
        readBuffer.deallocate()
    }

    /// `self` as the context pointer of the GnuTLS callbacks (valid while `self` lives).
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private func configure(_ configuration: DTLSConfiguration, priorities: String) throws(DTLSError) {
        var credentials: OpaquePointer?
        try check(cgnutls_certificate_allocate_credentials(api, &credentials), "allocating credentials")
        self.credentials = credentials
        try key.install(in: credentials!, api: api)
        cgnutls_certificate_set_verify_function(api, credentials, RawPublicKeySession.verifyCallback)

        var session: OpaquePointer?
        try check(cgnutls_init(api, &session, UInt32(CGNUTLS_CLIENT_FLAGS)), "creating the session")
        self.session = session
        var errorPosition: UnsafePointer<CChar>?
        let status = cgnutls_priority_set_direct(api, session, priorities, &errorPosition)
        guard status >= 0 else {
            throw .invalidConfiguration("GnuTLS refused the priority string \(priorities) at \(errorPosition.map { String(cString: $0) } ?? "?")")
        }
        try check(cgnutls_credentials_set_certificate(api, session, credentials), "setting the credentials")
        if let name = configuration.sniHostName {
            try check(cgnutls_server_name_set(api, session, name, name.utf8.count), "setting the server name")
        }
        cgnutls_session_set_ptr(api, session, opaque)
        cgnutls_transport_set_ptr(api, session, opaque)
        cgnutls_transport_set_functions(api, session, Self.pushCallback, Self.pullCallback, Self.pullTimeoutCallback)
        cgnutls_dtls_set_timeouts(api, session, Self.milliseconds(configuration.handshakeTimeoutMin),
                                  Self.totalMilliseconds(min: configuration.handshakeTimeoutMin, max: configuration.handshakeTimeoutMax))
        if let size = configuration.maximumDatagramSize { cgnutls_dtls_set_mtu(api, session, UInt32(clamping: size)) }
    }

    private func check(_ status: Int32, _ what: String) throws(DTLSError) {
        guard status >= 0 else { throw gnutlsError(status, what) }
    }

    // MARK: Driver interface

    public func receive(datagram: [UInt8], now: Instant) {
        guard core.accept(datagram, now: now) else { return }
        drive()
        core.incoming.removeAll()  // anything GnuTLS did not consume is stale
    }

    public func advance(to now: Instant) {
        core.advanceClock(to: now)
        if let deadline, deadline <= self.now { drive() }
    }

    public var nextDeadline: Instant? {
        guard state == .handshaking else { return nil }
        return deadline
    }

    public func send(_ plaintext: [UInt8]) throws(DTLSError) {
        if try core.admit(plaintext) { try write(plaintext) }
    }

    public func close() {
        if state == .connected, let session { _ = cgnutls_bye(api, session) }
        if core.close() { deadline = nil }
    }

    public func nextDatagram() -> [UInt8]? { core.nextDatagram() }
    public func nextApplicationData() -> [UInt8]? { core.nextApplicationData() }
    public func nextEvent() -> DTLSEvent? { core.nextEvent() }

    // MARK: Engine

    private func drive() {
        guard let session else { return }
        if state == .handshaking {
            let status = cgnutls_handshake(api, session)
            if status < 0 {
                if cgnutls_error_is_fatal(api, status) == 0 {
                    let wait = cgnutls_dtls_get_timeout(api, session)
                    deadline = now + .milliseconds(Int64(wait))
                    return
                }
                return fail(handshakeError(status))
            }
            didConnect()
        }
        if state == .connected { readApplicationData() }
    }

    private func didConnect() {
        deadline = nil
        let suite = cgnutls_cipher_suite_name(api, session).map { "TLS_" + String(cString: $0) } ?? "unknown"
        let pending = core.connect(at: now, resumed: false, cipherSuite: suite)
        for plaintext in pending {
            do throws(DTLSError) { try write(plaintext) } catch { core.reportFailure(error) }
        }
    }

    private func write(_ plaintext: [UInt8]) throws(DTLSError) {
        let status = plaintext.withUnsafeBytes { cgnutls_record_send(api, session, $0.baseAddress, $0.count) }
        if status >= 0 { return }
        if status == CGNUTLS_E_LARGE_PACKET { throw .messageTooLong(plaintext.count) }
        let error = gnutlsError(Int32(status), "sending")
        fail(error)
        throw error
    }

    private func readApplicationData() {
        while state == .connected {
            let count = cgnutls_record_recv(api, session, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                core.received.append(Array(readBuffer[0..<Int(count)]))
            } else if count == 0 {  // the server's close_notify
                _ = cgnutls_bye(api, session)
                core.peerClosed()
            } else if count == CGNUTLS_E_FATAL_ALERT_RECEIVED {
                fail(alertError())
            } else if cgnutls_error_is_fatal(api, Int32(count)) == 0 {
                return  // EAGAIN, a warning alert, a record that failed authentication (dropped)
            } else {
                fail(gnutlsError(Int32(count), "receiving"))
            }
        }
    }

    func fail(_ error: DTLSError) {
        if core.fail(error) { deadline = nil }
    }

    // MARK: Helpers

    static func milliseconds(_ duration: Duration) -> UInt32 {
        UInt32(clamping: max(1, duration.nanosecondsClamped / 1_000_000))
    }

    /// The whole retransmission schedule: min, 2·min, … up to max (the last wait included).
    static func totalMilliseconds(min: Duration, max: Duration) -> UInt32 {
        let maximum = UInt64(milliseconds(max))
        var wait = UInt64(milliseconds(min))
        var total: UInt64 = 0
        while true {
            total += Swift.min(wait, maximum)
            if wait >= maximum { break }
            wait *= 2
        }
        return UInt32(clamping: total)
    }

    /// A DER SEQUENCE whose length covers the whole value (a cheap shape check of /0/x/4).
    static func looksLikeSPKI(_ der: [UInt8]) -> Bool {
        guard der.count > 2, der[0] == 0x30 else { return false }
        if der[1] < 0x80 { return Int(der[1]) + 2 == der.count }
        let lengthBytes = Int(der[1] & 0x7F)
        guard lengthBytes >= 1, lengthBytes <= 2, der.count > 2 + lengthBytes else { return false }
        var length = 0
        for index in 0..<lengthBytes { length = length << 8 | Int(der[2 + index]) }
        return length + 2 + lengthBytes == der.count
    }
}
