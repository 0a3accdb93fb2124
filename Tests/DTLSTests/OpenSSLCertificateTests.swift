import CoAP
import Credentials
import DTLS
import Testing
import Transport
import TestSupport

@Suite("DTLS X.509 against openssl s_server", .serialized)
struct OpenSSLCertificateTests {
    /// A certificate-mode configuration with the test client certificate and key.
    static func configuration(
        _ pki: TestPKI, usage: CertificateUsage = .trustAnchorAssertion, pinned: String = "ca",
        serverName: String = "localhost", signer: Signer? = nil
    ) throws -> DTLSConfiguration {
        var configuration = DTLSConfiguration(
            authentication: .certificate(chain: [try pki.certificateDER("client")], key: try signer ?? pki.signer("client")),
            serverTrust: ServerTrust(usage: usage, certificate: try pki.certificateDER(pinned)),
            serverName: serverName)
        configuration.handshakeTimeoutMin = .milliseconds(200)
        configuration.handshakeTimeoutMax = .milliseconds(800)
        return configuration
    }

    static func handshake(
        _ server: OpenSSLServer, _ configuration: DTLSConfiguration, driver: SocketDriver? = nil
    ) throws -> (DTLSEvent?, Duration) {
        let driver = try driver ?? SocketDriver(serverPort: server.port)
        let clock = ContinuousClock()
        let started = clock.now
        let session = try DTLSClientSession(configuration: configuration, random: testRandom, now: MonotonicClock.now())
        let event = try driver.handshake(session, timeout: .seconds(5))
        let elapsed = clock.now - started
        if event?.isConnected == true {
            try session.send(Array("certificate hello\n".utf8))
            session.close()
            try driver.flush(session)
        }
        return (event, elapsed)
    }

    @Test("ECDHE-ECDSA with AES-128-CCM_8 and AES-128-GCM-SHA256, client certificate signed through the Signer",
          arguments: ["ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-AES128-GCM-SHA256"])
    func mutualAuthentication(cipher: String) throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki, verifyClient: true, cipher: cipher)
        let signer = CountingSigner(try pki.signer("client"))
        let (event, _) = try Self.handshake(server, Self.configuration(pki, signer: signer))
        let expectedSuite = cipher.hasSuffix("CCM8") ? "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8" : "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"
        #expect(event == .connected(resumed: false, cipherSuite: expectedSuite))
        #expect(signer.calls == 1, "CertificateVerify signed by the Signer")
        #expect(server.process.waitForOutput("certificate hello"), "server got our data")
        #expect(server.process.output.contains(TestPKI.endpointName), "server saw the client certificate CN")
    }

    @Test("every certificate usage accepts the right /0/x/4", arguments: [
        (CertificateUsage.caConstraint, "ca"), (.serviceCertificateConstraint, "server"),
        (.trustAnchorAssertion, "ca"), (.domainIssuedCertificate, "server"),
    ])
    func usagesAccept(usage: CertificateUsage, pinned: String) throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki)
        var configuration = try Self.configuration(pki, usage: usage, pinned: pinned)
        if usage == .serviceCertificateConstraint { configuration.additionalTrustAnchors = [try pki.certificateDER("ca")] }
        let (event, _) = try Self.handshake(server, configuration)
        #expect(event?.isConnected == true, "\(usage): \(String(describing: event))")
    }

    @Test("certificate usages reject a /0/x/4 that does not match", arguments: [
        (CertificateUsage.caConstraint, "other-ca"), (.serviceCertificateConstraint, "stranger"),
        (.domainIssuedCertificate, "stranger"),
    ])
    func usagesReject(usage: CertificateUsage, pinned: String) throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki)
        var configuration = try Self.configuration(pki, usage: usage, pinned: pinned)
        configuration.additionalTrustAnchors = [try pki.certificateDER("ca")]
        let (event, elapsed) = try Self.handshake(server, configuration)
        #expect(event == .failed(.certificatePinMismatch(usage: usage)), "\(String(describing: event))")
        #expect(elapsed < .seconds(1))
    }

    @Test("unknown CA fails fast")
    func unknownCA() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("stranger", pki: pki)
        let (event, elapsed) = try Self.handshake(server, Self.configuration(pki))
        #expect(event == .failed(.unknownCA))
        #expect("\(event?.failure.map { "\($0)" } ?? "")".contains("unknown CA"))
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    @Test("wrong host name fails fast")
    func wrongHostName() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki)
        let (event, elapsed) = try Self.handshake(server, Self.configuration(pki, serverName: "lwm2m.wrong.example"))
        #expect(event == .failed(.hostMismatch(expected: "lwm2m.wrong.example")))
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    @Test("an SNI override (/0/x/14) is the name checked")
    func sniOverride() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki)
        var configuration = try Self.configuration(pki, serverName: "127.0.0.1")
        configuration.serverNameIndication = "localhost"
        let (event, _) = try Self.handshake(server, configuration)
        #expect(event?.isConnected == true, "\(String(describing: event))")
        configuration.serverNameIndication = "other.example"
        let (rejected, _) = try Self.handshake(server, configuration)
        #expect(rejected == .failed(.hostMismatch(expected: "other.example")))
    }

    @Test("expired server certificate fails fast")
    func expiredCertificate() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("expired", pki: pki)
        let (event, elapsed) = try Self.handshake(server, Self.configuration(pki))
        #expect(event == .failed(.certificateExpired))
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    @Test("small datagrams: the certificate flights are fragmented to fit")
    func smallDatagrams() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki, verifyClient: true)
        var configuration = try Self.configuration(pki)
        configuration.maximumDatagramSize = 200
        let driver = try SocketDriver(serverPort: server.port)
        let (event, _) = try Self.handshake(server, configuration, driver: driver)
        #expect(event?.isConnected == true, "\(String(describing: event))")
        #expect(driver.largestDatagram <= 200 && driver.largestDatagram > 100, "largest \(driver.largestDatagram)")
    }

    @Test("a server that does not trust our client certificate: named as such")
    func clientCertificateRejected() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki, verifyClient: true, clientCA: "other-ca")
        let (event, elapsed) = try Self.handshake(server, Self.configuration(pki))
        guard case .failed(.clientCertificateRejected(let alert)) = event else {
            Issue.record("expected a client-certificate rejection, got \(String(describing: event))")
            return
        }
        #expect(alert == "unknown_ca" || alert == "bad_certificate", "\(alert)")
        #expect(elapsed < .seconds(1))
    }

    @Test("a failing signer (TPM gone) fails the handshake with the signer's reason")
    func signerFailure() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.certificate("server", pki: pki, verifyClient: true)
        let signer = CountingSigner(try pki.signer("client"))
        signer.fail = true
        let (event, _) = try Self.handshake(server, Self.configuration(pki, signer: signer))
        guard case .failed(.signerFailed(let reason)) = event else {
            Issue.record("expected a signer failure, got \(String(describing: event))")
            return
        }
        #expect(reason.contains("unplugged"))
    }

    @Test("a client certificate that does not belong to the signer is refused up front")
    func mismatchedKey() throws {
        let pki = try TestPKI()
        #expect(throws: DTLSError.invalidConfiguration("client certificate does not belong to the signing key")) {
            try DTLSClientSession(configuration: Self.configuration(pki, signer: pki.signer("server")), random: testRandom, now: .zero)
        }
    }
}
