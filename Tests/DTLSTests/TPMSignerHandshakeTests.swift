import Credentials
import DTLS
import Glibc
import TPM
import Testing
import Transport
import TestSupport

/// A private swtpm for one test (TCP server port P, control port P + 1), killed at the end.
final class TestSwtpm {
    let process: ChildProcess
    let port: UInt16
    private let scratch: TemporaryDirectory
    var directory: String { scratch.path }

    init() throws {
        setenv("TSS2_LOG", "all+none", 1)
        scratch = try TemporaryDirectory(prefix: "swtpm")
        let directory = scratch.path
        for _ in 0..<5 {
            let port = try freeUDPPort(pair: true)
            let process = try ChildProcess([
                "swtpm", "socket", "--tpm2", "--tpmstate", "dir=\(directory)",
                "--server", "type=tcp,port=\(port),bindaddr=127.0.0.1",
                "--ctrl", "type=tcp,port=\(port + 1),bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear",
            ], logPath: "\(directory)/swtpm.log")
            // Ready once a context can create the SRK.
            for _ in 0..<100 {
                usleep(20_000)
                if let context = try? TPMContext(configuration: TPMConfiguration(
                    tcti: .swtpm(host: "127.0.0.1", port: port), stateDirectory: "\(directory)/state")),
                   (try? context.prepareStorageKey()) != nil {
                    context.close()
                    self.process = process
                    self.port = port
                    return
                }
            }
            process.stop()
        }
        throw TestFailure("swtpm did not start")
    }

    deinit {
        process.stop()
    }

    func context() throws -> TPMContext {
        try TPMContext(configuration: TPMConfiguration(tcti: .swtpm(host: "127.0.0.1", port: port),
                                                       stateDirectory: "\(directory)/state"))
    }
}

@Suite("TPM key: CSR and DTLS handshake against openssl s_server", .serialized)
struct TPMSignerHandshakeTests {
    @Test("a P-256 key generated in swtpm: its CSR passes openssl req -verify, and the certificate the CA issues for it authenticates a DTLS handshake signed in the TPM")
    func csrAndHandshake() throws {
        try MbedTLSGuard.check()
        let tpm = try TestSwtpm()
        let pki = try TestPKI()
        let context = try tpm.context()
        defer { context.close() }
        let keys = TPMSigningKeyStore(context: context)
        let signer = try keys.generateKey(CredentialID("factory/bootstrap/key")!)

        let csr = try CertificateRequest.pem(commonName: TestPKI.endpointName, signer: signer, random: testRandom)
        try writeFile(pki.path("tpm.csr"), Array(csr.utf8))
        let verified = try ChildProcess.run(["openssl", "req", "-verify", "-in", pki.path("tpm.csr"), "-noout", "-subject"])
        #expect(verified.status == 0 && verified.text.contains("verify OK"), "\(verified.text)")
        #expect(verified.text.contains("CN = \(TestPKI.endpointName)"), "\(verified.text)")

        try writeFile(pki.path("tpm.ext"), Array("extendedKeyUsage=clientAuth\n".utf8))
        for command in [
            ["openssl", "x509", "-req", "-in", pki.path("tpm.csr"), "-CA", pki.path("ca.pem"), "-CAkey", pki.path("ca.key"),
             "-set_serial", "4242", "-days", "30", "-extfile", pki.path("tpm.ext"), "-out", pki.path("tpm.pem")],
            ["openssl", "x509", "-in", pki.path("tpm.pem"), "-outform", "DER", "-out", pki.path("tpm.der")],
        ] {
            let result = try ChildProcess.run(command)
            #expect(result.status == 0, "\(result.text)")
        }
        #expect(try PublicKeyInfo.der(ofCertificate: readFile(pki.path("tpm.der")))
                == PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint))

        let server = try OpenSSLServer.certificate("server", pki: pki, verifyClient: true, cipher: "ECDHE-ECDSA-AES128-CCM8")
        var configuration = DTLSConfiguration(
            authentication: .certificate(chain: [try readFile(pki.path("tpm.der"))], key: signer),
            serverTrust: ServerTrust(usage: .trustAnchorAssertion, certificate: try pki.certificateDER("ca")),
            serverName: "localhost")
        configuration.handshakeTimeoutMin = .milliseconds(500)
        configuration.handshakeTimeoutMax = .seconds(2)
        let driver = try SocketDriver(serverPort: server.port)
        let session = try DTLSClientSession(configuration: configuration, random: testRandom, now: MonotonicClock.now())
        let event = try driver.handshake(session, timeout: .seconds(10))
        #expect(event == .connected(resumed: false, cipherSuite: "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8"), "\(String(describing: event))")
        try session.send(Array("signed in the TPM\n".utf8))
        session.close()
        try driver.flush(session)
        #expect(server.process.waitForOutput("signed in the TPM"))
        #expect(server.process.output.contains(TestPKI.endpointName))
    }
}
