import Credentials
import TPM
import Testing
import TestSupport

@Suite("TPM sealed secrets")
struct SealingTests {
    @Test(arguments: [1, 16, 32, 64, 128, 129, 300, 2048])
    func roundTrip(size: Int) throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        let id = CredentialID.securityResource(instance: 1, resource: 5)
        let secret = testBytes(count: size, seed: UInt64(size))
        try store.store(SecretBytes(secret), as: id)
        #expect(try store.load(id) == SecretBytes(secret))
        #expect(try store.identifiers() == [id])
        #expect(store.isPersistent)
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test(arguments: [0, 2049])
    func refusesEmptyAndOversizedSecrets(size: Int) throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        #expect(throws: TPMError.invalidSecretLength(size)) {
            try store.seal(SecretBytes([UInt8](repeating: 1, count: size)), as: CredentialID("x")!)
        }
    }

    @Test func replaceRemoveAndList() throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        let a = CredentialID("security/0/5")!
        let b = CredentialID("security/1/3")!
        let c = CredentialID("oscore/2/0")!
        try store.store(SecretBytes([1]), as: a)
        try store.store(SecretBytes([2]), as: b)
        try store.store(SecretBytes([3]), as: c)
        try store.store(SecretBytes([4, 4]), as: a)
        #expect(try store.identifiers() == [c, a, b])
        #expect(try store.load(a) == SecretBytes([4, 4]))
        try store.remove(a)
        try store.remove(a)
        #expect(throws: CredentialStoreError.notFound(a)) { try store.load(a) }
        #expect(try store.identifiers() == [c, b])
        try store.remove(b)
        try store.remove(c)
        #expect(try store.identifiers() == [])
        #expect(try filesBelow("\(fixture.state.path)/sealed").isEmpty)
    }

    @Test func blobFilesAreOwnerOnlyAndSmall() throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        let id = CredentialID("security/0/5")!
        try store.store(SecretBytes(testBytes(count: 32, seed: 7)), as: id)
        let path = store.blobPath(of: id)
        #expect(path == "\(fixture.state.path)/sealed/security/0/5.blob")
        let files = try filesBelow(fixture.state.path)
        #expect(files.count == 1)
        #expect(files[0].bytes.count < 300, "blob of \(files[0].bytes.count) bytes")
        #expect(fileMode(path) == 0o600)
    }

    @Test func survivesANewContextInTheSameProcess() throws {
        let fixture = try TPMFixture()
        let id = CredentialID("psk")!
        let secret = testBytes(count: 16, seed: 99)
        do {
            let context = try fixture.context()
            try TPMCredentialStore(context: context).store(SecretBytes(secret), as: id)
            context.close()
        }
        let reopened = TPMCredentialStore(context: try fixture.context())
        #expect(try reopened.load(id) == SecretBytes(secret))
    }

    @Test func survivesAcrossProcesses() throws {
        let fixture = try TPMFixture()
        let store = TPMCredentialStore(context: try fixture.context())
        // Sealed here, unsealed by another process.
        let mine = testBytes(count: 32, seed: 1)
        try store.store(SecretBytes(mine), as: CredentialID("from-tests")!)
        let check = try fixture.probe("check", ["from-tests"], input: Array(hex(mine).utf8) + [0x0A])
        #expect(check.status == 0, "\(check.text)")
        let wrong = try fixture.probe("check", ["from-tests"], input: Array(hex(testBytes(count: 32, seed: 2)).utf8))
        #expect(wrong.status == 1, "\(wrong.text)")
        // Sealed by another process, unsealed here.
        let theirs = testBytes(count: 64, seed: 3)
        let seal = try fixture.probe("seal", ["from-probe"], input: Array(hex(theirs).utf8))
        #expect(seal.status == 0, "\(seal.text)")
        #expect(try store.load(CredentialID("from-probe")!) == SecretBytes(theirs))
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test func noSecretBytesInTheStateDirectory() throws {
        let fixture = try TPMFixture()
        let context = try fixture.context()
        let store = TPMCredentialStore(context: context)
        let secrets = [16, 32, 64, 128, 300].map { testBytes(count: $0, seed: UInt64($0) &+ 1000) }
        for (index, secret) in secrets.enumerated() {
            try store.store(SecretBytes(secret), as: CredentialID("security/\(index)/5")!)
        }
        _ = try TPMSigningKeyStore(context: context).generateKey(CredentialID("device")!)
        let files = try filesBelow(fixture.state.path)
        #expect(files.count == secrets.count + 1)
        // No 8-byte run of any secret appears in any file (shorter runs occur by chance).
        for secret in secrets {
            for start in 0...(secret.count - 8) {
                for file in files {
                    #expect(!contains(file.bytes, secret[start..<start + 8]), "secret bytes in \(file.path)")
                }
            }
        }
        for secret in secrets { #expect(try store.load(CredentialID("security/\(secrets.firstIndex(of: secret)!)/5")!) == SecretBytes(secret)) }
    }
}
