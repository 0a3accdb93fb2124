import Credentials
import TPM
import Testing
import TestSupport

@Suite("TPM transient objects")
struct ResourceTests {
    @Test func repeatedUnsealsLeaveNoTransientObjects() throws {
        let fixture = try TPMFixture()
        let context = try fixture.context()
        let store = TPMCredentialStore(context: context)
        let id = CredentialID("security/0/5")!
        try store.store(SecretBytes(testBytes(count: 300, seed: 11)), as: id)
        for _ in 0..<10 {
            #expect(try store.load(id).count == 300)
        }
        // Failing paths flush too: a foreign-looking blob and a missing one.
        try writeFile(store.blobPath(of: CredentialID("broken")!), [0x4C, 0x57, 0x54, 0x42, 1, 1, 0, 0, 0x81, 0, 0, 1, 1]
            + [0, 4, 0, 8, 0, 11])
        for _ in 0..<4 { #expect(throws: CredentialStoreError.self) { try store.load(CredentialID("broken")!) } }
        #expect(context.residentObjectCount == 0)
        #expect(try fixture.swtpm.transientHandles() == [])
        // Over TCP without a resource manager a leak of three objects would already break Load.
        #expect(try store.load(id).count == 300)
    }

    @Test func fullObjectMemoryIsReportedAndCloseFreesIt() throws {
        let fixture = try TPMFixture()
        let context = try fixture.context()
        let keys = TPMSigningKeyStore(context: context, keepsKeysLoaded: true)
        let digest = [UInt8](repeating: 3, count: 32)
        var signers: [TPMSigner] = []
        var failure: TPMError?
        // Created first: TPM2_Create needs a free object slot too.
        let all = try (0..<6).map { try keys.generateKey(CredentialID("key\($0)")!) }
        for signer in all {
            do {
                _ = try signer.signInTPM(digest: digest)
                signers.append(signer)
            } catch {
                failure = error
                break
            }
        }
        #expect(failure == .objectMemory(operation: "load blob"), "swtpm held \(signers.count) keys")
        #expect(try fixture.swtpm.transientHandles().count == signers.count)
        for signer in signers { signer.close() }
        #expect(try fixture.swtpm.transientHandles() == [])
        // Closing the context flushes keys still held by signers.
        _ = try signers[0].signInTPM(digest: digest)
        #expect(try fixture.swtpm.transientHandles().count == 1)
        context.close()
        #expect(try fixture.swtpm.transientHandles() == [])
        #expect(throws: TPMError.closed) { try signers[0].signInTPM(digest: digest) }
    }
}
