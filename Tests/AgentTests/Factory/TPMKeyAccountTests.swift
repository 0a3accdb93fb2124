import AgentCommon
@testable import AgentDaemon
@testable import AgentCLI
import Credentials
import DTLS
import LwM2M
import Testing
import Transport

/// A signing-key store holding software keys, standing in for the TPM's.
private final class FakeSigningKeys: SigningKeyStore {
    var keys: [CredentialID: Signer] = [:]
    var lookups: [CredentialID] = []

    func generateSigningKey(_ id: CredentialID) throws(CredentialStoreError) -> Signer {
        let signer: Signer
        do { signer = try SoftwareSigner(generatingWith: { secureRandomBytes($0) }) } catch { throw .refused("\(error)") }
        keys[id] = signer
        return signer
    }

    func signer(for id: CredentialID) throws(CredentialStoreError) -> Signer {
        lookups.append(id)
        guard let signer = keys[id] else { throw .notFound(id) }
        return signer
    }

    func removeSigningKey(_ id: CredentialID) throws(CredentialStoreError) { keys[id] = nil }
}

@Suite("X.509 accounts with a TPM key (secret-key = tpm-key:NAME)")
struct TPMKeyAccountTests {
    static func account() throws -> SecurityAccount {
        var snapshot = try serverFiveSecuritySnapshot(securityMode: "certificate", secretKey: "tpm-key:factory/server-5/key")
        snapshot.instances[1]?[3] = .single(.opaque([0x30, 0x00]))  // a client certificate (content not parsed here)
        return SecurityAccount(instance: 1, snapshot: snapshot)
    }

    @Test("the handshake key is the store's signer; no secret is loaded")
    func usesTheSigningKeyStore() throws {
        try MbedTLSGuard.check()
        let keys = FakeSigningKeys()
        let signer = try keys.generateSigningKey(CredentialID("factory/server-5/key")!)
        let credentials = EphemeralCredentialStore()
        let configuration = try DTLSConfiguration.forAccount(try Self.account(), host: "dm.example", credentials: credentials,
                                                             signingKeys: keys, timers: DTLSTimers())
        guard case .certificate(_, let key) = configuration.authentication else {
            Issue.record("not a certificate configuration")
            return
        }
        #expect(key === signer)
        #expect(keys.lookups == [CredentialID("factory/server-5/key")!])
    }

    @Test("without a TPM (development store) the account fails with a clear error")
    func needsTheTPM() throws {
        do {
            _ = try DTLSConfiguration.forAccount(try Self.account(), host: "dm.example", credentials: EphemeralCredentialStore(),
                                                 signingKeys: nil, timers: DTLSTimers())
            Issue.record("accepted a TPM key without a TPM")
        } catch {
            #expect("\(error)".contains("credential-store = tpm"), "\(error)")
        }
    }

    @Test("a missing key is reported by name")
    func missingKey() throws {
        do {
            _ = try DTLSConfiguration.forAccount(try Self.account(), host: "dm.example", credentials: EphemeralCredentialStore(),
                                                 signingKeys: FakeSigningKeys(), timers: DTLSTimers())
            Issue.record("accepted a missing key")
        } catch {
            #expect("\(error)".contains("factory/server-5/key"), "\(error)")
        }
    }
}
