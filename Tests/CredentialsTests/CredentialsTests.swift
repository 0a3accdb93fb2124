import Credentials
import Testing

@Suite struct SecretBytesTests {
    @Test func descriptionNeverShowsTheBytes() {
        let secret = SecretBytes([0x41, 0x42, 0x43])
        #expect("\(secret)" == "<secret: 3 bytes>")
        #expect(!"\(secret)".contains("ABC"))
    }

    @Test func wipeEmptiesTheSecret() {
        let secret = SecretBytes([1, 2, 3])
        secret.wipe()
        #expect(secret.isEmpty)
        #expect(secret.copyBytes() == [])
    }

    @Test func equalityComparesContent() {
        #expect(SecretBytes([1, 2]) == SecretBytes([1, 2]))
        #expect(SecretBytes([1, 2]) != SecretBytes([1, 3]))
        #expect(SecretBytes([1, 2]) != SecretBytes([1, 2, 3]))
    }
}

@Suite struct CredentialIDTests {
    @Test func acceptsPathLikeNames() {
        #expect(CredentialID("security/1/5")?.rawValue == "security/1/5")
        #expect(CredentialID.securityResource(instance: 2, resource: 5).rawValue == "security/2/5")
    }

    @Test(arguments: ["", "../x", "a//b", "a/./b", "with space", "semi;colon", "/abs", "tail/"])
    func rejectsUnsafeNames(_ name: String) {
        #expect(CredentialID(name) == nil)
    }
}

@Suite struct EphemeralCredentialStoreTests {
    @Test func storesLoadsAndRemoves() throws {
        let store = EphemeralCredentialStore()
        let id = CredentialID("security/0/5")!
        try store.store(SecretBytes([9, 8, 7]), as: id)
        #expect(try store.load(id) == SecretBytes([9, 8, 7]))
        #expect(store.contains(id))
        try store.remove(id)
        #expect(throws: CredentialStoreError.notFound(id)) { try store.load(id) }
        #expect(!store.isPersistent)
    }

    @Test func loadedCopiesAreIndependent() throws {
        let store = EphemeralCredentialStore()
        let id = CredentialID("k")!
        try store.store(SecretBytes([1, 2, 3]), as: id)
        try store.load(id).wipe()
        #expect(try store.load(id) == SecretBytes([1, 2, 3]))
    }
}

@Suite struct DERSignatureTests {
    @Test func encodesIntegersMinimallyAndPositive() {
        // r has a leading zero to strip; s has the high bit set and needs a zero pad.
        let der = derECDSASignature(r: [0x00, 0x01, 0x02], s: [0x80, 0x01])
        #expect(der == [0x30, 0x09, 0x02, 0x02, 0x01, 0x02, 0x02, 0x03, 0x00, 0x80, 0x01])
    }

    @Test func usesLongFormLengthAbove127() {
        let r = [UInt8](repeating: 0x7F, count: 70)
        let der = derECDSASignature(r: r, s: r)
        #expect(der[0] == 0x30 && der[1] == 0x81 && Int(der[2]) == 2 * 72)
    }
}
