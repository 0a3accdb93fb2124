import Credentials
import Files
import TPM
import Testing
import TestSupport

@Suite("TPM errors")
struct ErrorTests {
    @Test func missingDeviceIsNoTPM() throws {
        silenceESAPILogging()
        let state = try TemporaryDirectory(prefix: "state")
        let configuration = TPMConfiguration(tcti: try TCTI(parsing: "device:/nonexistent"), stateDirectory: state.path)
        #expect {
            _ = try TPMContext(configuration: configuration)
        } throws: { error in
            guard case TPMError.noTPM(let text) = error else { return false }
            return text.contains("/nonexistent does not exist")
        }
        #expect(TPMError.noTPM("x").credentialStoreError(for: nil) == .unavailable("no TPM: x"))
    }

    @Test func stoppedSimulatorIsNoTPM() throws {
        let swtpm = try Swtpm()
        swtpm.stop()
        let state = try TemporaryDirectory(prefix: "state")
        #expect {
            _ = try TPMContext(configuration: TPMConfiguration(tcti: swtpm.tcti, stateDirectory: state.path))
        } throws: { error in
            if case TPMError.noTPM = error { return true }
            return false
        }
    }

    @Test func wrongOwnerAuthIsBadAuth() throws {
        let fixture = try TPMFixture()
        #expect(try fixture.swtpm.tool("tpm2_changeauth", "-c", "owner", "owner-secret").succeeded)
        for auth in [nil, SecretBytes(Array("not-the-owner".utf8))] {
            let context = try TPMContext(configuration: fixture.configuration(ownerAuth: auth))
            #expect {
                _ = try context.prepareStorageKey()
            } throws: { error in
                guard case TPMError.badAuth(let operation) = error else { return false }
                return operation.contains("SRK")
            }
            // Through the CredentialStore protocol: refused, with no secret in the message.
            #expect {
                try TPMCredentialStore(context: context).store(SecretBytes([0x42, 0x42]), as: CredentialID("x")!)
            } throws: { error in
                guard case CredentialStoreError.refused(let text) = error else { return false }
                return text.contains("wrong authorisation")
            }
        }
        let right = try TPMContext(configuration: fixture.configuration(ownerAuth: SecretBytes(Array("owner-secret".utf8))))
        _ = try right.prepareStorageKey()
        #expect(try fixture.swtpm.persistentHandles() == ["0x81000001"])
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test func dictionaryAttackLockoutIsReported() throws {
        let fixture = try TPMFixture()
        let context = try fixture.context()
        let keys = TPMSigningKeyStore(context: context)
        let signer = try keys.generateKey(CredentialID("device")!)
        let secrets = TPMCredentialStore(context: context)
        try secrets.seal(SecretBytes([7, 7, 7]), as: CredentialID("psk")!)
        // One failed authorisation locks the TPM: load the key with tpm2-tools (the blob's
        // objects are plain TSS-marshalled TPM2B_PUBLIC / TPM2B_PRIVATE) and sign with a wrong password.
        let scratch = try TemporaryDirectory(prefix: "da")
        let blob = try FileReader.read(keys.blobPath(of: CredentialID("device")!))
        let objects = Array(blob[13...])
        let publicSize = Int(objects[0]) << 8 | Int(objects[1])
        try writeFile("\(scratch.path)/key.pub", Array(objects[0..<2 + publicSize]))
        try writeFile("\(scratch.path)/key.priv", Array(objects[(2 + publicSize)...]))
        try writeFile("\(scratch.path)/digest", [UInt8](repeating: 1, count: 32))
        #expect(try fixture.swtpm.tool("tpm2_dictionarylockout", "-s", "-n", "1", "-t", "3600", "-l", "3600").succeeded)
        let load = try fixture.swtpm.tool("tpm2_load", "-C", "0x81000001", "-u", "\(scratch.path)/key.pub",
                                          "-r", "\(scratch.path)/key.priv", "-c", "\(scratch.path)/key.ctx")
        #expect(load.succeeded, "\(load.text)")
        let wrong = try fixture.swtpm.tool("tpm2_sign", "-c", "\(scratch.path)/key.ctx", "-p", "wrong", "-g", "sha256",
                                           "-d", "-o", "\(scratch.path)/sig", "\(scratch.path)/digest")
        #expect(!wrong.succeeded)
        _ = try fixture.swtpm.tool("tpm2_flushcontext", "-t")
        #expect(throws: TPMError.lockout(operation: "sign")) {
            _ = try signer.signInTPM(digest: [UInt8](repeating: 2, count: 32))
        }
        #expect(throws: CredentialStoreError.refused(TPMError.lockout(operation: "sign").description)) {
            _ = try signer.sign(digest: [UInt8](repeating: 2, count: 32))
        }
        // Sealed secrets are noDA objects: still available during lockout.
        #expect(try secrets.unseal(CredentialID("psk")!) == SecretBytes([7, 7, 7]))
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test(arguments: [
        (UInt32(0x921), "lockout"), (0x98E, "badAuth"), (0x9A2, "badAuth"), (0x1DF, "foreignBlob"),
        (0x99D, "policyMismatch"), (0x902, "objectMemory"), (0x903, "objectMemory"), (0xA000A, "noTPM"),
        (0x101, "other"), (0x7000C, "other"),
    ])
    func responseCodesAreClassified(rc: UInt32, expected: String) {
        let error = TPMError(rc: rc, operation: "op")
        let kind: String
        switch error {
        case .lockout: kind = "lockout"
        case .badAuth: kind = "badAuth"
        case .foreignBlob: kind = "foreignBlob"
        case .policyMismatch: kind = "policyMismatch"
        case .objectMemory: kind = "objectMemory"
        case .noTPM: kind = "noTPM"
        default: kind = "other"
        }
        #expect(kind == expected, "0x\(String(rc, radix: 16)) → \(error)")
        #expect(!error.description.isEmpty)
    }
}

@Suite("TPM configuration")
struct ConfigurationTests {
    @Test func parsesTCTIStrings() throws {
        #expect(try TCTI(parsing: "device") == .device(path: "/dev/tpmrm0"))
        #expect(try TCTI(parsing: "device:/dev/tpm0") == .device(path: "/dev/tpm0"))
        #expect(try TCTI(parsing: "tabrmd") == .tabrmd(options: nil))
        #expect(try TCTI(parsing: "tabrmd:bus_type=session").loaderString == "tabrmd:bus_type=session")
        #expect(try TCTI(parsing: "swtpm:host=10.0.0.2,port=2400") == .swtpm(host: "10.0.0.2", port: 2400))
        #expect(try TCTI(parsing: "swtpm") == .swtpm(host: "127.0.0.1", port: 2321))
        #expect(TCTI.defaultDevice.loaderString == "device:/dev/tpmrm0")
        #expect(TPMConfiguration(stateDirectory: "/x").tcti == .defaultDevice)
    }

    @Test(arguments: ["", "mssim", "device:relative", "device:", "swtpm:port=0", "swtpm:port=70000",
                      "swtpm:hots=x", "swtpm:host", "tabrmd:"])
    func rejectsBadTCTIStrings(text: String) {
        #expect(throws: TPMError.self) { try TCTI(parsing: text) }
    }

    @Test func parsesPCRSelectionsAndHandles() throws {
        #expect(try PCRSelection(parsing: "sha256:7,0,7").indices == [0, 7])
        #expect(try PCRSelection(parsing: "16").description == "sha256:16")
        #expect(throws: TPMError.self) { try PCRSelection(parsing: "sha1:0") }
        #expect(throws: TPMError.self) { try PCRSelection(parsing: "sha256:24") }
        #expect(throws: TPMError.self) { try PCRSelection(parsing: "sha256:") }
        #expect(try TPMConfiguration.parseStorageKeyHandle("0x81000002") == 0x8100_0002)
        #expect(throws: TPMError.self) { try TPMConfiguration.parseStorageKeyHandle("0x80000001") }
        #expect(throws: TPMError.self) {
            try TPMConfiguration(storageKeyHandle: 0x4000_0001, stateDirectory: "/x").validate()
        }
    }
}
