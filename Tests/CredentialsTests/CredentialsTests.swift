import Credentials
import Glibc
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

    // The bytes themselves: `isEmpty` after wipe() holds whether or not they were zeroed, so
    // these tests look at the memory where the secret lived. They read the element storage of
    // the secret's array right after wipe() (or deinit) released it. That memory is still
    // mapped: a 64-byte block stays in the allocator's per-thread cache, and glibc's free() writes
    // its bookkeeping into the first 16 bytes of the block, which hold the array's header (16
    // bytes on 32-bit, 32 on 64-bit), never into the elements. The probe first reads the secret
    // through the same address (proving it looks at the right bytes), and copies into buffers
    // allocated beforehand (so no allocation between release and read can reuse the block).

    static let pattern: [UInt8] = (0..<64).map { UInt8(0xA0 | ($0 & 0x0F)) }  // no zero byte

    /// Copies 64 bytes at `address` into `buffer` (allocated by the caller).
    static func probe(_ address: UInt, into buffer: inout [UInt8]) {
        buffer.withUnsafeMutableBytes { target in
            _ = memcpy(target.baseAddress!, UnsafeRawPointer(bitPattern: address)!, 64)
        }
    }

    @Test func wipeZeroesTheBytesInMemory() {
        var seen = [UInt8](repeating: 0x55, count: 64)
        var after = [UInt8](repeating: 0x55, count: 64)
        let secret = SecretBytes(Self.pattern.map { $0 })  // a buffer of its own
        let address = secret.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        Self.probe(address, into: &seen)
        #expect(seen == Self.pattern, "the probe reads the secret's bytes")
        secret.wipe()
        Self.probe(address, into: &after)
        #expect(after == [UInt8](repeating: 0, count: 64), "left in memory after wipe(): \(after)")
        #expect(secret.isEmpty)
    }

    @Test func deinitZeroesTheBytesInMemory() {
        var seen = [UInt8](repeating: 0x55, count: 64)
        var after = [UInt8](repeating: 0x55, count: 64)
        var address: UInt = 0
        do {
            let secret = SecretBytes(Self.pattern.map { $0 })
            address = secret.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
            Self.probe(address, into: &seen)
        }  // released here: deinit wipes
        Self.probe(address, into: &after)
        #expect(seen == Self.pattern, "the probe reads the secret's bytes")
        #expect(after == [UInt8](repeating: 0, count: 64), "left in memory after deinit: \(after)")
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
