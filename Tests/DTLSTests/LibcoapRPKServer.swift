import Glibc
import TestSupport

/// Key files for raw-public-key tests, made with the openssl command line: P-256 key pairs
/// `server`, `other` (a key nobody serves) and `client`; for each, `NAME.rpk.pem` (PUBLIC KEY +
/// PRIVATE KEY PEM, what `coap-server-gnutls -M` takes), `NAME.spki.der` (the DER
/// SubjectPublicKeyInfo, as LwM2M /0/x/3 and /0/x/4 hold it) and `NAME.key.der` (PKCS#8 DER).
final class RPKKeys {
    let scratch: TemporaryDirectory
    var directory: String { scratch.path }

    init() throws {
        scratch = try TemporaryDirectory(prefix: "rpk")
        for name in ["server", "other", "client"] {
            let key = path("\(name).key")
            try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
            try Self.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER", "-out", path("\(name).key.der")])
            try Self.openssl(["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", path("\(name).spki.der")])
            try Self.openssl(["pkey", "-in", key, "-pubout", "-out", path("\(name).pub.pem")])
            try writeFile(path("\(name).rpk.pem"), try readFile(path("\(name).pub.pem")) + readFile(key))
        }
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }
    func spki(_ name: String) throws -> [UInt8] { try readFile(path("\(name).spki.der")) }

    private static func openssl(_ arguments: [String]) throws {
        let result = try ChildProcess.run(["openssl"] + arguments)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments[0]) failed: \(result.text)") }
    }
}

/// libcoap's `coap-server-gnutls` serving DTLS with the raw public key `-M keyFile` on
/// loopback (CoAP on `port`, DTLS on `port + 1`), started for one test.
final class LibcoapRPKServer {
    let process: ChildProcess
    let dtlsPort: UInt16

    init(keyFile: String, directory: String, extraArguments: [String] = []) throws {
        let port = try freeUDPPort(pair: true)
        dtlsPort = port + 1
        process = try ChildProcess(
            ["coap-server-gnutls", "-A", "127.0.0.1", "-p", String(port), "-v", "7", "-M", keyFile] + extraArguments,
            logPath: "\(directory)/coap-server-gnutls-\(port).log")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while !Self.udpPortBound(dtlsPort) {
            guard clock.now < deadline, process.isRunning else {
                let output = process.output
                process.stop()
                throw TestFailure("coap-server-gnutls did not start: \(output)")
            }
            usleep(5_000)
        }
    }

    deinit { process.stop() }

    /// Whether some socket is bound to UDP `port` on IPv4 (from /proc/net/udp).
    static func udpPortBound(_ port: UInt16) -> Bool {
        guard let table = try? readTextFile("/proc/net/udp") else { return false }
        let hex = String(port, radix: 16, uppercase: true)
        let needle = ":" + String(repeating: "0", count: 4 - hex.count) + hex
        return table.split(separator: "\n").contains { line in
            line.split(separator: " ").dropFirst().first.map { $0.hasSuffix(needle) } ?? false
        }
    }
}
