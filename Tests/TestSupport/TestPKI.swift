import Credentials
import DTLS

/// Certificates and keys made by the tests with the openssl command line: P-256 keys, a CA,
/// server certificates (CN and subjectAltName `localhost`), a client certificate whose CN is the
/// endpoint name, a second unrelated CA, and an expired server certificate. Keys for our side
/// are PKCS#8 DER; certificates for our side are DER; the peers get PEM files.
public final class TestPKI {
    public static let endpointName = "urn:dev:lwm2m-agent-test"
    private let scratch: TemporaryDirectory
    public var directory: String { scratch.path }

    public init() throws(TestFailure) {
        scratch = try TemporaryDirectory(prefix: "pki")
        try makeCA("ca", subject: "/CN=DTLS Test CA")
        try makeCA("other-ca", subject: "/CN=Unrelated CA")
        try makeLeaf("server", subject: "/CN=localhost", issuer: "ca", extensions: "subjectAltName=DNS:localhost")
        try makeLeaf("client", subject: "/CN=\(Self.endpointName)", issuer: "ca", extensions: "extendedKeyUsage=clientAuth")
        try makeLeaf("stranger", subject: "/CN=localhost", issuer: "other-ca", extensions: "subjectAltName=DNS:localhost")
        try makeLeaf("expired", subject: "/CN=localhost", issuer: "ca", extensions: "subjectAltName=DNS:localhost", days: -1)
    }

    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// The DER certificate `name.der`.
    public func certificateDER(_ name: String) throws(TestFailure) -> [UInt8] { try readFile(path("\(name).der")) }

    /// A software signer for the PKCS#8 DER key `name.key.der`.
    public func signer(_ name: String) throws -> SoftwareSigner {
        try SoftwareSigner(privateKey: SecretBytes(readFile(path("\(name).key.der"))), random: testRandom)
    }

    private func openssl(_ arguments: [String]) throws(TestFailure) {
        let result = try ChildProcess.run(["openssl"] + arguments)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments.first ?? "") failed: \(result.text)") }
    }

    private func newKey(_ name: String) throws(TestFailure) {
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("\(name).key")])
        try openssl(["pkcs8", "-topk8", "-nocrypt", "-in", path("\(name).key"), "-outform", "DER", "-out", path("\(name).key.der")])
    }

    private func toDER(_ name: String) throws(TestFailure) {
        try openssl(["x509", "-in", path("\(name).pem"), "-outform", "DER", "-out", path("\(name).der")])
    }

    private func makeCA(_ name: String, subject: String) throws(TestFailure) {
        try newKey(name)
        try openssl(["req", "-x509", "-new", "-key", path("\(name).key"), "-out", path("\(name).pem"), "-days", "3650",
                     "-subj", subject])
        try toDER(name)
    }

    private func makeLeaf(_ name: String, subject: String, issuer: String, extensions: String, days: Int = 365) throws(TestFailure) {
        try newKey(name)
        try openssl(["req", "-new", "-key", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
        try writeFile(path("\(name).ext"), Array("\(extensions)\n".utf8))
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(issuer).pem"), "-CAkey", path("\(issuer).key"),
                     "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", String(days),
                     "-extfile", path("\(name).ext"), "-out", path("\(name).pem")])
        try toDER(name)
    }
}

/// A signer that counts its calls and can be told to fail, standing in for a TPM.
public final class CountingSigner: Signer {
    public let inner: SoftwareSigner
    public var calls = 0
    public var fail = false
    public init(_ inner: SoftwareSigner) { self.inner = inner }
    public var publicKeyPoint: [UInt8] { inner.publicKeyPoint }
    public func sign(digest: [UInt8]) throws(CredentialStoreError) -> [UInt8] {
        calls += 1
        if fail { throw .unavailable("test TPM unplugged") }
        return try inner.sign(digest: digest)
    }
}
