import Credentials
import Files
import TPM
import Testing
import TestSupport

@Suite("TPM blobs refused")
struct BlobRefusalTests {
    private let id = CredentialID("security/0/5")!

    @Test func blobFromAnotherTPMIsForeign() throws {
        let first = try TPMFixture()
        let second = try TPMFixture()
        let sealing = TPMCredentialStore(context: try first.context())
        try sealing.store(SecretBytes(testBytes(count: 32, seed: 5)), as: id)
        // The same blob file in the state directory of a second TPM.
        let receiving = TPMCredentialStore(context: try second.context())
        try writeFile(receiving.blobPath(of: id), try FileReader.read(sealing.blobPath(of: id)))
        do {
            _ = try receiving.unseal(id)
            Issue.record("a foreign blob unsealed")
        } catch {
            guard case .foreignBlob(let text) = error else { Issue.record("got \(error)"); return }
            #expect(text.contains("0x1df") || text.contains("integrity"), "\(text)")
        }
        #expect(throws: CredentialStoreError.self) { try receiving.load(id) }
        do {
            _ = try receiving.load(id)
        } catch {
            guard case .unusable(let failing, _) = error else { Issue.record("got \(error)"); return }
            #expect(failing == id)
        }
        #expect(try second.swtpm.transientHandles() == [])
    }

    @Test func keyBlobFromAnotherTPMIsForeign() throws {
        let first = try TPMFixture()
        let second = try TPMFixture()
        let keyID = CredentialID("device")!
        let creating = TPMSigningKeyStore(context: try first.context())
        _ = try creating.generateKey(keyID)
        let receiving = TPMSigningKeyStore(context: try second.context())
        try writeFile(receiving.blobPath(of: keyID), try FileReader.read(creating.blobPath(of: keyID)))
        let signer = try #require(try receiving.existingKey(keyID))
        #expect {
            _ = try signer.signInTPM(digest: [UInt8](repeating: 1, count: 32))
        } throws: { error in
            if case TPMError.foreignBlob = error { return true }
            return false
        }
    }

    @Test(arguments: ["flip-private", "flip-public", "truncate", "garbage", "empty", "wrong-kind"])
    func alteredBlobGivesAClearError(alteration: String) throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        try store.store(SecretBytes(testBytes(count: 32, seed: 6)), as: id)
        let path = store.blobPath(of: id)
        var bytes = try FileReader.read(path)
        switch alteration {
        case "flip-private": bytes[bytes.count - 10] ^= 0x01
        case "flip-public": bytes[30] ^= 0x01
        case "truncate": bytes.removeLast(20)
        case "garbage": bytes = testBytes(count: 200, seed: 7)
        case "empty": bytes = []
        default: bytes[5] = 2
        }
        try writeFile(path, bytes)
        do {
            _ = try store.unseal(id)
            Issue.record("an altered blob unsealed")
        } catch {
            switch error {
            case .foreignBlob, .malformedBlob: break
            default: Issue.record("\(alteration): unexpected \(error)")
            }
            #expect(error.description.contains("blob"), "\(error)")
        }
        #expect(throws: CredentialStoreError.self) { try store.load(id) }
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test func blobSealedUnderAnotherSRKHandle() throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        try store.store(SecretBytes([1, 2, 3]), as: id)
        let other = TPMCredentialStore(context: try TPMContext(configuration: fixture.configuration(storageKeyHandle: 0x8100_0002)))
        #expect {
            _ = try other.unseal(id)
        } throws: { error in
            guard case TPMError.foreignBlob(let text) = error else { return false }
            return text.contains("0x81000001")
        }
    }
}
