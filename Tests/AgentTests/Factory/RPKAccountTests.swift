import AgentCommon
@testable import AgentDaemon
import Credentials
import DTLS
import LwM2M
import Testing
import TestSupport
import Transport

/// A signing-key store with one software key, standing in for the TPM's.
private final class OneKeyStore: SigningKeyStore {
    let id: CredentialID
    let key: Signer
    init(_ id: CredentialID, _ key: Signer) { self.id = id; self.key = key }
    func generateSigningKey(_ id: CredentialID) throws(CredentialStoreError) -> Signer { throw .refused("not here") }
    func signer(for id: CredentialID) throws(CredentialStoreError) -> Signer {
        guard id == self.id else { throw .notFound(id) }
        return key
    }
    func removeSigningKey(_ id: CredentialID) throws(CredentialStoreError) {}
}

/// Issue 16: Security Mode 1 accounts become raw-public-key DTLS configurations (GnuTLS).
@Suite("RPK accounts (security mode 1) → DTLS configurations")
struct RPKAccountTests {
    static let serverKey = PublicKeyInfo.der(publicKeyPoint: [0x04] + [UInt8](repeating: 7, count: 64))

    static func account(secretKey: String, identity: [UInt8]?) throws -> SecurityAccount {
        var snapshot = try serverFiveSecuritySnapshot(securityMode: "rpk", secretKey: secretKey)
        if let identity { snapshot.instances[1]?[3] = .single(.opaque(identity)) }
        snapshot.instances[1]?[4] = .single(.opaque(serverKey))
        return SecurityAccount(instance: 1, snapshot: snapshot)
    }

    @Test("a TPM key (tpm-key:NAME) with /0/x/3 its SPKI: .rawPublicKey with the store's signer and /0/x/4 pinned")
    func tpmKey() throws {
        let signer = try SoftwareSigner(generatingWith: { secureRandomBytes($0) })
        let keys = OneKeyStore(CredentialID("factory/server-5/key")!, signer)
        let account = try Self.account(secretKey: "tpm-key:factory/server-5/key",
                                       identity: PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint))
        let configuration = try DTLSConfiguration.forAccount(account, host: "dm.example", credentials: EphemeralCredentialStore(),
                                                             signingKeys: keys, timers: DTLSTimers())
        guard case .rawPublicKey(let key, let pinned) = configuration.authentication else {
            Issue.record("not a raw-public-key configuration")
            return
        }
        #expect(key === signer)
        #expect(pinned == Self.serverKey)
    }

    @Test("a software key from the credential store; /0/x/3 left out is taken from the key")
    func softwareKey() throws {
        let credentials = EphemeralCredentialStore()
        let pkcs8 = try TestKeys.pkcs8P256()
        try credentials.store(SecretBytes(pkcs8), as: CredentialID("dm/key")!)
        let account = try Self.account(secretKey: "dm/key", identity: nil)
        let configuration = try DTLSConfiguration.forAccount(account, host: "dm.example", credentials: credentials,
                                                             signingKeys: nil, timers: DTLSTimers())
        guard case .rawPublicKey = configuration.authentication else {
            Issue.record("not a raw-public-key configuration")
            return
        }
    }

    @Test("/0/x/3 that is not the key's public key is refused before any datagram")
    func mismatchedIdentity() throws {
        let signer = try SoftwareSigner(generatingWith: { secureRandomBytes($0) })
        let keys = OneKeyStore(CredentialID("factory/server-5/key")!, signer)
        let account = try Self.account(secretKey: "tpm-key:factory/server-5/key", identity: Self.serverKey)
        do {
            _ = try DTLSConfiguration.forAccount(account, host: "dm.example", credentials: EphemeralCredentialStore(),
                                                 signingKeys: keys, timers: DTLSTimers())
            Issue.record("accepted a /0/x/3 of another key")
        } catch {
            #expect("\(error)" == "Public Key (/0/1/3) is not the public key of the Secret Key (/0/1/5)")
        }
    }
}

/// A PKCS#8 P-256 private key made with the openssl command line.
enum TestKeys {
    static func pkcs8P256() throws -> [UInt8] {
        let scratch = try TemporaryDirectory(prefix: "rpk-key")
        let result = try ChildProcess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                           "-outform", "DER", "-out", scratch.file("key.der")])
        guard result.status == 0 else { throw TestFailure("openssl genpkey: \(result.text)") }
        return try readFile(scratch.file("key.der"))
    }
}
