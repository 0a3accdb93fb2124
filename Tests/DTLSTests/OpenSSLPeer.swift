import Credentials
import DTLS
import TestSupport

/// `openssl s_server -dtls1_2` on loopback, started for one test.
final class OpenSSLServer {
    let process: ChildProcess
    let port: UInt16

    /// Starts a PSK server expecting `identity` with `keyHex`.
    static func psk(identity: String, keyHex: String, cipher: String = "PSK-AES128-CCM8", directory: String) throws -> OpenSSLServer {
        try OpenSSLServer(["-nocert", "-psk", keyHex, "-psk_identity", identity, "-cipher", cipher], directory: directory)
    }

    /// Starts a certificate server with `name.pem`/`name.key` from `pki`; `verifyClient` asks
    /// for (and requires) a client certificate issued by the test CA.
    static func certificate(
        _ name: String, pki: TestPKI, verifyClient: Bool = false, clientCA: String = "ca", cipher: String? = nil
    ) throws -> OpenSSLServer {
        var arguments = ["-cert", pki.path("\(name).pem"), "-key", pki.path("\(name).key")]
        if verifyClient { arguments += ["-CAfile", pki.path("\(clientCA).pem"), "-Verify", "1", "-verify_return_error"] }
        if let cipher { arguments += ["-cipher", cipher] }
        return try OpenSSLServer(arguments, directory: pki.directory)
    }

    private init(_ arguments: [String], directory: String) throws {
        port = try freeUDPPort()
        process = try ChildProcess(
            ["openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)", "-naccept", "4"] + arguments,
            logPath: "\(directory)/s_server-\(port).log")
        guard process.waitForOutput("ACCEPT") else {
            let output = process.output
            process.stop()
            throw TestFailure("s_server did not start: \(output)")
        }
    }

    deinit { process.stop() }
}

/// PSK material shared by the PSK tests (the key only ever goes to the peer as hex on its
/// command line: a test key, not a secret).
enum TestPSK {
    static let identity = "lwm2m-agent-test"
    static let keyHex = "000102030405060708090a0b0c0d0e0f"
    static let key: [UInt8] = Array(0..<16)

    static func configuration(key: [UInt8] = TestPSK.key, min: Duration = .milliseconds(200), max: Duration = .milliseconds(800)) -> DTLSConfiguration {
        var configuration = DTLSConfiguration(
            authentication: .psk(identity: Array(identity.utf8), key: SecretBytes(key)), serverName: "127.0.0.1")
        configuration.handshakeTimeoutMin = min
        configuration.handshakeTimeoutMax = max
        return configuration
    }
}
