import Credentials
import TPM
import Testing
import TestSupport

@Suite("TPM PCR policy")
struct PCRPolicyTests {
    /// PCR 16 is the debug PCR: extendable and resettable from software, so the test can change
    /// it and change it back.
    private let debugPCR = PCRSelection(indices: [16])!

    @Test func boundSecretUnsealsOnlyWithUnchangedPCRs() throws {
        let fixture = try TPMFixture()
        let bound = TPMCredentialStore(context: try fixture.context(pcrPolicy: debugPCR))
        let unbound = TPMCredentialStore(context: try fixture.context())
        let id = CredentialID("security/0/5")!
        let secret = testBytes(count: 200, seed: 21)
        try bound.store(SecretBytes(secret), as: id)
        try unbound.store(SecretBytes([1, 2, 3]), as: CredentialID("free")!)
        #expect(try bound.load(id) == SecretBytes(secret))
        // The binding travels with the blob: a store configured without a policy still checks it.
        #expect(try unbound.load(id) == SecretBytes(secret))

        #expect(try fixture.swtpm.tool("tpm2_pcrextend", "16:sha256=" + String(repeating: "ab", count: 32)).succeeded)
        #expect(throws: TPMError.policyMismatch) { _ = try bound.unseal(id) }
        #expect {
            _ = try bound.load(id)
        } throws: { error in
            guard case CredentialStoreError.unusable(let failing, let reason) = error else { return false }
            return failing == id && reason.contains("PCR")
        }
        #expect(try unbound.load(CredentialID("free")!) == SecretBytes([1, 2, 3]))
        #expect(try fixture.swtpm.transientHandles() == [])

        #expect(try fixture.swtpm.tool("tpm2_pcrreset", "16").succeeded)
        #expect(try bound.load(id) == SecretBytes(secret))
        #expect(try fixture.swtpm.transientHandles() == [])
    }
}
