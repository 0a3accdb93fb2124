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

extension LibcoapServer {
    /// libcoap's `coap-server-gnutls` serving DTLS with the raw public key `-M keyFile` on
    /// loopback (CoAP on `port`, DTLS on `port + 1`), started for one test.
    static func rawPublicKey(keyFile: String, directory: String) throws -> LibcoapServer {
        try LibcoapServer(flavour: "gnutls", arguments: ["-v", "7", "-M", keyFile], directory: directory)
    }
}
