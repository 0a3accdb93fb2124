import AgentCLI
import CoAP
import Credentials
import DTLS
import Testing
import Transport
import TestSupport

/// Handshake plus a CoAP GET through libcoap's DTLS servers (OpenSSL and GnuTLS builds), using
/// the agent's coaps:// client (CoAP engine over the DTLS session over UDP).
@Suite("CoAP over DTLS against libcoap servers", .serialized)
struct LibcoapTests {
    static let pskKey = "libcoap-test-psk"

    static func psk(key: String = LibcoapTests.pskKey) -> DTLSConfiguration {
        var configuration = DTLSConfiguration(authentication: .psk(identity: Array("agent-1".utf8), key: SecretBytes(Array(key.utf8))))
        configuration.handshakeTimeoutMin = .milliseconds(200)
        configuration.handshakeTimeoutMax = .milliseconds(800)
        return configuration
    }

    static func get(_ port: UInt16, _ dtls: DTLSConfiguration, resuming: DTLSSavedSession? = nil) throws(OneShotError) -> SecureExchange {
        try SecureOneShotClient.perform(
            CoAPRequest(.get), uri: "coaps://127.0.0.1:\(port)/", configuration: EndpointConfiguration(), dtls: dtls,
            timeout: .seconds(10), resuming: resuming)
    }

    @Test("PSK: handshake and GET /", arguments: ["openssl", "gnutls"])
    func pskGet(flavour: String) throws {
        let pki = try TestPKI()
        let server = try LibcoapServer(flavour: flavour, arguments: ["-k", Self.pskKey, "-h", "hint"], directory: pki.directory)
        let exchange = try Self.get(server.dtlsPort, Self.psk())
        #expect(exchange.response.code == .content)
        #expect(String(decoding: exchange.response.payload, as: UTF8.self).contains("libcoap"))
        #expect(exchange.cipherSuite == "TLS-PSK-WITH-AES-128-CCM-8")
        #expect(exchange.handshakeDuration < .seconds(1))
        #expect(exchange.savedSession != nil)
        print("coap-server-\(flavour) PSK: handshake \(exchange.handshakeDuration), handshake+GET \(exchange.totalDuration)")
    }

    /// libcoap's GnuTLS server keeps no session cache: the offer is declined and a full
    /// handshake follows, which must work just as well.
    @Test("PSK: a new session offers the saved one; resumed where the server keeps sessions, then GET /",
          arguments: [("openssl", true), ("gnutls", false)])
    func pskResumption(flavour: String, serverResumes: Bool) throws {
        let pki = try TestPKI()
        let server = try LibcoapServer(flavour: flavour, arguments: ["-k", Self.pskKey, "-h", "hint"], directory: pki.directory)
        let first = try Self.get(server.dtlsPort, Self.psk())
        #expect(first.resumed == false)
        let saved = try #require(first.savedSession)
        let second = try Self.get(server.dtlsPort, Self.psk(), resuming: saved)
        #expect(second.response.code == .content)
        #expect(second.resumed == serverResumes, "coap-server-\(flavour)")
        print("coap-server-\(flavour) PSK resumed: handshake \(second.handshakeDuration) (full: \(first.handshakeDuration))")
    }

    @Test("PSK: a wrong key fails fast with a wrong-PSK error", arguments: ["openssl", "gnutls"])
    func wrongPSK(flavour: String) throws {
        let pki = try TestPKI()
        let server = try LibcoapServer(flavour: flavour, arguments: ["-k", Self.pskKey, "-h", "hint"], directory: pki.directory)
        let clock = ContinuousClock()
        let started = clock.now
        #expect {
            _ = try Self.get(server.dtlsPort, Self.psk(key: "not-the-key"))
        } throws: { error in
            guard case .dtls(.pskRejected) = error as? OneShotError else {
                Issue.record("unexpected \(error)")
                return false
            }
            return "\(error)".contains("wrong PSK")
        }
        #expect(clock.now - started < .seconds(3))
    }

    @Test("X.509: client certificate through the Signer, CA trust anchor, GET /", arguments: ["openssl", "gnutls"])
    func certificateGet(flavour: String) throws {
        let pki = try TestPKI()
        let server = try LibcoapServer(
            flavour: flavour,
            arguments: ["-c", pki.path("server.pem"), "-j", pki.path("server.key"), "-C", pki.path("ca.pem"), "-R", pki.path("ca.pem")],
            directory: pki.directory)
        let signer = CountingSigner(try pki.signer("client"))
        var dtls = DTLSConfiguration(
            authentication: .certificate(chain: [try pki.certificateDER("client")], key: signer),
            serverTrust: ServerTrust(usage: .trustAnchorAssertion, certificate: try pki.certificateDER("ca")))
        dtls.serverNameIndication = "localhost"
        dtls.handshakeTimeoutMin = .milliseconds(200)
        dtls.handshakeTimeoutMax = .milliseconds(800)
        let exchange = try Self.get(server.dtlsPort, dtls)
        #expect(exchange.response.code == .content)
        #expect(String(decoding: exchange.response.payload, as: UTF8.self).contains("libcoap"))
        #expect(DTLSCipherSuite.defaultCertificate.compactMap(DTLSCipherSuite.name(of:)).contains(exchange.cipherSuite))
        #expect(signer.calls == 1)
        print("coap-server-\(flavour) ECDHE-ECDSA (\(exchange.cipherSuite)): handshake \(exchange.handshakeDuration), handshake+GET \(exchange.totalDuration)")
    }

    @Test("X.509: the server's unknown CA is reported as such")
    func certificateUnknownCA() throws {
        let pki = try TestPKI()
        let server = try LibcoapServer(
            flavour: "openssl", arguments: ["-c", pki.path("stranger.pem"), "-j", pki.path("stranger.key"), "-n"],
            directory: pki.directory)
        var dtls = DTLSConfiguration(
            authentication: .certificate(chain: [try pki.certificateDER("client")], key: try pki.signer("client")),
            serverTrust: ServerTrust(usage: .trustAnchorAssertion, certificate: try pki.certificateDER("ca")))
        dtls.serverNameIndication = "localhost"
        #expect(throws: OneShotError.self) { _ = try Self.get(server.dtlsPort, dtls) }
        do { _ = try Self.get(server.dtlsPort, dtls) } catch {
            #expect("\(error)".contains("unknown CA"))
        }
    }
}
