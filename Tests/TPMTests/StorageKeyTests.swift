import Credentials
import TPM
import Testing
import TestSupport

@Suite("TPM storage primary key")
struct StorageKeyTests {
    @Test func createdOnFirstUseAndReusedByLaterContexts() throws {
        let fixture = try TPMFixture()
        #expect(try fixture.swtpm.persistentHandles() == [])
        let first = try fixture.context()
        let name = try first.prepareStorageKey()
        first.close()
        #expect(try fixture.swtpm.persistentHandles() == ["0x81000001"])

        let second = try fixture.context()
        #expect(try second.prepareStorageKey() == name)
        #expect(try fixture.swtpm.persistentHandles() == ["0x81000001"])
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test func configurableHandle() throws {
        let fixture = try TPMFixture()
        let context = try TPMContext(configuration: fixture.configuration(storageKeyHandle: 0x8100_0042))
        let name = try context.prepareStorageKey()
        #expect(try fixture.swtpm.persistentHandles() == ["0x81000042"])
        // The TCG template is deterministic: the same primary seed gives the same key anywhere.
        let other = try fixture.context()
        #expect(try other.prepareStorageKey() == name)
    }

    @Test func keyCreatedByAnotherProcessIsUsed() throws {
        let fixture = try TPMFixture()
        // Someone else (here tpm2-tools) already made an ECC storage key persistent at the handle.
        let scratch = try TemporaryDirectory(prefix: "ctx")
        #expect(try fixture.swtpm.tool("tpm2_createprimary", "-C", "o", "-G", "ecc256",
                                       "-c", "\(scratch.path)/primary.ctx").succeeded)
        #expect(try fixture.swtpm.tool("tpm2_evictcontrol", "-C", "o", "-c", "\(scratch.path)/primary.ctx",
                                       "0x81000001").succeeded)
        _ = try fixture.swtpm.tool("tpm2_flushcontext", "-t")
        let store = TPMCredentialStore(context: try fixture.context())
        try store.seal(SecretBytes([1, 2, 3]), as: CredentialID("k")!)
        #expect(try store.unseal(CredentialID("k")!) == SecretBytes([1, 2, 3]))
    }

    @Test func signingKeyAtTheHandleIsRefused() throws {
        let fixture = try TPMFixture()
        let scratch = try TemporaryDirectory(prefix: "ctx")
        #expect(try fixture.swtpm.tool("tpm2_createprimary", "-C", "o", "-G", "ecc256:ecdsa-sha256",
                                       "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign",
                                       "-c", "\(scratch.path)/primary.ctx").succeeded)
        #expect(try fixture.swtpm.tool("tpm2_evictcontrol", "-C", "o", "-c", "\(scratch.path)/primary.ctx",
                                       "0x81000001").succeeded)
        let context = try fixture.context()
        #expect(throws: TPMError.unsuitableStorageKey(handle: 0x8100_0001)) { try context.prepareStorageKey() }
    }

    @Test func concurrentFirstUseByTwoProcessesLeavesOneSRK() throws {
        let fixture = try TPMFixture()
        let digest = hex([UInt8](repeating: 9, count: 32))
        let log = "\(fixture.state.path)/probes.log"
        // Two processes racing to create the SRK: the loser's EvictControl gets NV_DEFINED and
        // uses the winner's key. (Two, not more: swtpm has three object slots and no resource manager.)
        let pids = try ["first", "second"].map { name in
            try ChildProcess.startDetached([try probePath(), "sign", fixture.swtpm.tctiString, fixture.state.path, name, digest],
                                 logPath: log)
        }
        for pid in pids { #expect(ChildProcess.wait(for: pid) == 0) }
        #expect(try fixture.swtpm.persistentHandles() == ["0x81000001"])
        let keys = TPMSigningKeyStore(context: try fixture.context())
        #expect(try keys.keyIdentifiers().map(\.rawValue) == ["first", "second"])
        _ = try keys.signer(for: CredentialID("first")!).sign(digest: [UInt8](repeating: 9, count: 32))
    }
}
