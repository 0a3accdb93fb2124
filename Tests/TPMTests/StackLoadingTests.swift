import Credentials
@testable import TPM
import Testing
import TestSupport

/// The TPM software stack is dlopen'ed on first use (`TSS2Library`), and a context opened
/// `.onFirstUse` checks the transport without it (what the daemon does at start).
@Suite("TPM software stack loaded on first use")
struct StackLoadingTests {
    private static func sonames(esys: String = "libtss2-esys.so.0", mu: String = "libtss2-mu.so.0",
                                rc: String = "libtss2-rc.so.0", tctildr: String = "libtss2-tctildr.so.0") -> TSS2Library.Sonames {
        TSS2Library.Sonames(esys: [esys], mu: [mu], rc: [rc], tctildr: [tctildr])
    }

    @Test("a library that does not load: .stackUnavailable with dlerror's one line naming the soname, unavailable to the protocols")
    func missingLibrary() {
        for (list, soname) in [(Self.sonames(esys: "libtss2-esys.so.97"), "libtss2-esys.so.97"),
                               (Self.sonames(tctildr: "libtss2-tctildr.so.98"), "libtss2-tctildr.so.98")] {
            guard case .failure(let error) = TSS2Library.load(list) else {
                Issue.record("\(soname) loaded")
                continue
            }
            let reason = "\(soname): cannot open shared object file: No such file or directory"
            #expect(error == .stackUnavailable(reason))
            #expect(error.description == "TPM software stack unavailable: \(reason)")
            #expect(!error.description.contains("\n"))
            #expect(error.credentialStoreError(for: CredentialID("psk")!) == .unavailable(error.description))
        }
    }

    @Test("a library without the functions: .stackUnavailable listing each missing one with its soname")
    func missingSymbols() {
        guard case .failure(let error) = TSS2Library.load(Self.sonames(mu: "libc.so.6")) else {
            Issue.record("libc.so.6 passed for libtss2-mu")
            return
        }
        guard case .stackUnavailable(let reason) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(reason == "missing Tss2_MU_TPM2B_PUBLIC_Marshal (libc.so.6), Tss2_MU_TPM2B_PUBLIC_Unmarshal (libc.so.6), "
                + "Tss2_MU_TPM2B_PRIVATE_Marshal (libc.so.6), Tss2_MU_TPM2B_PRIVATE_Unmarshal (libc.so.6)")
    }

    @Test("the sonames Debian ships load, with every function bound")
    func installedStackLoads() throws {
        let api = try TSS2Library.functions()
        #expect(api.pointee.Esys_Initialize != nil && api.pointee.Tss2_TctiLdr_Finalize != nil)
        #expect(TPMError.decode(0) == "tpm:success")
    }

    @Test("opened on first use: the context opens at the first seal, the secret round-trips, close() still closes")
    func openedOnFirstUse() throws {
        let fixture = try TPMFixture()
        let context = try TPMContext(configuration: fixture.configuration(), opening: .onFirstUse)
        #expect(!context.isOpen && context.residentObjectCount == 0)
        #expect(try fixture.swtpm.persistentHandles() == [])  // nothing asked of the TPM yet
        let store = TPMCredentialStore(context: context)
        #expect(try store.identifiers() == [])  // lists blob files: no TPM needed
        #expect(!context.isOpen)
        try store.store(SecretBytes([1, 2, 3]), as: CredentialID("psk")!)
        #expect(context.isOpen)
        #expect(try store.load(CredentialID("psk")!) == SecretBytes([1, 2, 3]))
        #expect(try fixture.swtpm.persistentHandles() == ["0x81000001"])
        context.close()
        #expect(!context.isOpen)
        #expect(throws: TPMError.closed) { _ = try context.prepareStorageKey() }
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test("opened on first use: no TPM at the transport is .noTPM at once, in the words of the eager open")
    func transportCheckedAtOnce() throws {
        silenceESAPILogging()
        let state = try TemporaryDirectory(prefix: "state")
        #expect {
            _ = try TPMContext(configuration: TPMConfiguration(tcti: .device(path: "\(state.path)/no-tpmrm0"),
                                                               stateDirectory: state.path), opening: .onFirstUse)
        } throws: { error in
            error as? TPMError == .noTPM("device:\(state.path)/no-tpmrm0: \(state.path)/no-tpmrm0 does not exist (No such file or directory)")
        }
        let swtpm = try Swtpm()
        swtpm.stop()
        #expect {
            _ = try TPMContext(configuration: TPMConfiguration(tcti: swtpm.tcti, stateDirectory: state.path), opening: .onFirstUse)
        } throws: { error in
            error as? TPMError == .noTPM("\(swtpm.tcti): nothing answers at 127.0.0.1:\(swtpm.port) (Connection refused)")
        }
    }

    @Test("opened on first use: a TPM gone before the first use fails that operation (.unavailable) and the next one tries again")
    func tpmGoneBeforeFirstUse() throws {
        silenceESAPILogging()
        let fixture = try TPMFixture()
        let context = try TPMContext(configuration: fixture.configuration(), opening: .onFirstUse)
        fixture.swtpm.stop()
        let store = TPMCredentialStore(context: context)
        for _ in 0..<2 {
            #expect {
                try store.store(SecretBytes([9]), as: CredentialID("psk")!)
            } throws: { error in
                guard case CredentialStoreError.unavailable(let text) = error else { return false }
                return text.hasPrefix("no TPM: \(fixture.swtpm.tcti): ")
            }
            #expect(!context.isOpen)
        }
    }
}
