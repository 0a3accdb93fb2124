import Credentials
import DTLS
@testable import DTLSGnuTLS
import Glibc
import TPM
import Testing
import Transport
import TestSupport
import Time

/// Raw public keys (RFC 7250) over the GnuTLS backend against libcoap's `coap-server-gnutls -M`:
/// handshake + CoAP GET with a software key and with a key inside swtpm, and the failures an
/// operator must be able to tell apart (wrong server key, key refused by the server).
@Suite("Raw public keys (GnuTLS) against coap-server-gnutls", .serialized,
       requires(toolOnPath("coap-server-gnutls"), "needs libcoap3-bin (scripts/setup.sh)"))
struct RawPublicKeyTests {
    /// CON GET /, message ID 0x3039, no token.
    static let getRoot: [UInt8] = [0x40, 0x01, 0x30, 0x39]

    static func configuration(_ signer: Signer, serverKey: [UInt8]) -> DTLSConfiguration {
        var configuration = DTLSConfiguration(authentication: .rawPublicKey(key: signer, serverPublicKey: serverKey),
                                              serverName: "127.0.0.1")
        configuration.handshakeTimeoutMin = .milliseconds(300)
        configuration.handshakeTimeoutMax = .milliseconds(1200)
        return configuration
    }

    /// Handshake, GET /, and the 2.05 response's payload.
    static func get(_ configuration: DTLSConfiguration, port: UInt16) throws -> (DTLSEvent?, [UInt8]?, RawPublicKeySession) {
        let driver = try SocketDriver(serverPort: port)
        let session = try RawPublicKeySession(configuration: configuration, now: MonotonicClock.now())
        let event = try driver.handshake(session)
        guard event?.isConnected == true else { return (event, nil, session) }
        let reply = try driver.exchange(session, getRoot)
        session.close()
        try driver.flush(session)
        return (event, reply, session)
    }

    static func expectContent(_ reply: [UInt8]?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let reply, reply.count > 4 else {
            Issue.record("no CoAP response", sourceLocation: sourceLocation)
            return
        }
        #expect(reply[1] == 0x45, "code \(reply[1] >> 5).\(reply[1] & 0x1F), expected 2.05", sourceLocation: sourceLocation)
        #expect(String(decoding: reply, as: UTF8.self).contains("libcoap"), sourceLocation: sourceLocation)
    }

    @Test("a software P-256 key (PKCS#8 file): RPK handshake with the pinned server key, GET / answered 2.05")
    func softwareKey() throws {
        let keys = try RPKKeys()
        let server = try LibcoapServer.rawPublicKey(keyFile: keys.path("server.rpk.pem"), directory: keys.directory)
        let signer = try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom)
        #expect(PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint) == (try keys.spki("client")))
        let start = MonotonicClock.now()
        let (event, reply, session) = try Self.get(Self.configuration(signer, serverKey: try keys.spki("server")), port: server.dtlsPort)
        #expect(event == .connected(resumed: false, cipherSuite: "TLS_ECDHE_ECDSA_AES_128_CCM_8"), "\(String(describing: event))")
        Self.expectContent(reply)
        #expect(session.state == .closed)
        let handshake = (session.connectedAt ?? start) - session.startedAt
        print("coap-server-gnutls RPK, software key: handshake \(handshake), GnuTLS \(session.libraryVersion)")
    }

    @Test("a P-256 key generated inside swtpm signs the RPK handshake (gnutls_privkey_import_ext4 → Esys_Sign); GET / answered",
          requires(toolOnPath("swtpm"), "needs swtpm (scripts/setup.sh)"))
    func tpmKey() throws {
        let keys = try RPKKeys()
        let server = try LibcoapServer.rawPublicKey(keyFile: keys.path("server.rpk.pem"), directory: keys.directory)
        let tpm = try TestSwtpm()
        let context = try tpm.context()
        defer { context.close() }
        let signer = try TPMSigningKeyStore(context: context).generateKey(CredentialID("factory/bootstrap/key")!)
        let counting = CountingTPMSigner(signer)
        let (event, reply, session) = try Self.get(Self.configuration(counting, serverKey: try keys.spki("server")), port: server.dtlsPort)
        #expect(event?.isConnected == true, "\(String(describing: event))")
        Self.expectContent(reply)
        #expect(session.handshakeSignatures == 1, "the TPM signed the CertificateVerify")
        #expect(counting.calls == 2, "GnuTLS's key-pair check at set-up, then the CertificateVerify")
    }

    @Test("the server presents another key than /0/x/4: the handshake fails with serverPublicKeyMismatch naming the key's SHA-256")
    func wrongServerKey() throws {
        let keys = try RPKKeys()
        let server = try LibcoapServer.rawPublicKey(keyFile: keys.path("server.rpk.pem"), directory: keys.directory)
        let signer = CountingSigner(try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom))
        let (event, reply, session) = try Self.get(Self.configuration(signer, serverKey: try keys.spki("other")), port: server.dtlsPort)
        let presented = hex(PublicKeyInfo.sha256(try keys.spki("server")))
        #expect(event?.failure == .serverPublicKeyMismatch(presented: "the key with SHA-256 \(presented)"), "\(String(describing: event))")
        #expect(reply == nil)
        #expect(session.state == .failed)
        #expect(session.handshakeSignatures == 0, "our key signed nothing for a server we do not trust")
        #expect(signer.calls == 1, "only GnuTLS's key-pair check at set-up")
        #expect("\(event!.failure!)".contains("does not match /0/x/4"))
    }

    @Test("the server refuses our key (gnutls-serv --verify-client-cert: access_denied): clientKeyRejected, after our key signed",
          requires(toolOnPath("gnutls-serv"), "needs gnutls-bin (scripts/setup.sh)"))
    func clientKeyRefused() throws {
        let keys = try RPKKeys()
        let port = try freeUDPPort()
        // An independent GnuTLS server that trusts no client key: it verifies ours and refuses it.
        let server = try ChildProcess(["gnutls-serv", "--udp", "-p", String(port), "--rawpkfile", keys.path("server.pub.pem"),
                                       "--rawpkkeyfile", keys.path("server.key"), "--verify-client-cert",
                                       "--priority", "NORMAL:-VERS-ALL:+VERS-DTLS1.2:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK"],
                                      logPath: keys.path("gnutls-serv.log"))
        defer { server.stop() }
        #expect(server.waitForOutput("IPv4 0.0.0.0 port \(port)...done"), "\(server.output)")
        let signer = try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom)
        let driver = try SocketDriver(serverPort: port)
        let session = try RawPublicKeySession(configuration: Self.configuration(signer, serverKey: try keys.spki("server")),
                                              now: MonotonicClock.now())
        let event = try driver.handshake(session)
        #expect(event?.failure == .clientKeyRejected(alert: "Access was denied (49)"), "\(String(describing: event))")
        #expect(session.handshakeSignatures == 1)
        #expect("\(event!.failure!)" == "DTLS handshake failed: server rejected our raw public key (alert Access was denied (49))")
    }

    @Test("a silent server: ClientHello retransmitted on the session's deadlines, then handshakeTimeout after the schedule (0.3 + 0.6 + 1.2 s)")
    func silentServer() throws {
        let keys = try RPKKeys()
        let signer = try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom)
        let silent = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))  // bound, never answers
        let driver = try SocketDriver(serverPort: silent.localAddress.port)
        let start = MonotonicClock.now()
        let session = try RawPublicKeySession(configuration: Self.configuration(signer, serverKey: try keys.spki("server")), now: start)
        #expect(session.nextDeadline != nil)
        let event = try driver.handshake(session, timeout: .seconds(10))
        let took = MonotonicClock.now() - start
        #expect(event?.failure == .handshakeTimeout, "\(String(describing: event))")
        #expect(driver.clientHelloCount >= 3, "ClientHello sent \(driver.clientHelloCount) times")
        #expect(took >= .milliseconds(2000) && took < .seconds(4), "gave up after \(took)")
        #expect(session.nextDeadline == nil)
    }

    @Test("a signer that cannot sign (TPM gone) fails when the session is made, before any datagram")
    func signerFailure() throws {
        let keys = try RPKKeys()
        let signer = CountingSigner(try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom))
        signer.fail = true
        #expect(throws: DTLSError.signerFailed("\(CredentialStoreError.unavailable("test TPM unplugged"))")) {
            try RawPublicKeySession(configuration: Self.configuration(signer, serverKey: try keys.spki("server")), now: .zero)
        }
    }

    @Test("the mbedTLS session refuses raw public keys with a clear error; the factory picks GnuTLS for them")
    func backendChoice() throws {
        let keys = try RPKKeys()
        let signer = try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom)
        let configuration = Self.configuration(signer, serverKey: try keys.spki("server"))
        #expect(throws: DTLSError.backendUnavailable("raw public keys (RFC 7250) need the GnuTLS backend: mbedTLS does not implement them")) {
            try DTLSClientSession(configuration: configuration, random: testRandom, now: .zero)
        }
        let session = try DTLSSessionFactory.makeSession(configuration: configuration, random: testRandom, now: MonotonicClock.now())
        #expect(session is RawPublicKeySession)
        #expect(session.nextDatagram() != nil, "the ClientHello is queued at once")
    }

    @Test("configuration errors are caught before any datagram: bad /0/x/4, PSK-only suites, a PSK configuration on GnuTLS")
    func configurationErrors() throws {
        let keys = try RPKKeys()
        let signer = try SoftwareSigner(privateKey: SecretBytes(readFile(keys.path("client.key.der"))), random: testRandom)
        #expect(throws: DTLSError.invalidConfiguration("server public key (/0/x/4) is not a DER SubjectPublicKeyInfo")) {
            try RawPublicKeySession(configuration: Self.configuration(signer, serverKey: [0x30, 0x05, 1, 2]), now: .zero)
        }
        var pskSuites = Self.configuration(signer, serverKey: try keys.spki("server"))
        pskSuites.cipherSuites = [0xC0A8]
        #expect(throws: DTLSError.self) { try RawPublicKeySession(configuration: pskSuites, now: .zero) }
        let psk = DTLSConfiguration(authentication: .psk(identity: [1], key: SecretBytes([2])))
        #expect(throws: DTLSError.self) { try RawPublicKeySession(configuration: psk, now: .zero) }
    }

    @Test("the handshake gives up after the whole retransmission schedule (min doubling up to max), as mbedTLS does")
    func retransmissionSchedule() throws {
        #expect(RawPublicKeySession.totalMilliseconds(min: .seconds(2), max: .seconds(60)) == 122_000)
        #expect(RawPublicKeySession.totalMilliseconds(min: .milliseconds(300), max: .milliseconds(1200)) == 2_100)
        #expect(RawPublicKeySession.totalMilliseconds(min: .seconds(5), max: .seconds(5)) == 5_000)
        #expect(try RawPublicKeyCipherSuites.priorityString(nil).contains("+AES-128-CCM-8:+AES-128-GCM"))
    }
}

/// A TPM signer that counts its signatures.
final class CountingTPMSigner: Signer {
    let inner: Signer
    var calls = 0
    init(_ inner: Signer) { self.inner = inner }
    var publicKeyPoint: [UInt8] { inner.publicKeyPoint }
    func sign(digest: [UInt8]) throws(CredentialStoreError) -> [UInt8] {
        calls += 1
        return try inner.sign(digest: digest)
    }
}
