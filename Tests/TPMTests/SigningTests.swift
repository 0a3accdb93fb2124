import Credentials
import Files
import TPM
import Testing
import TestSupport

@Suite("TPM signing keys")
struct SigningTests {
    /// Signs SHA-256(message) in the TPM and checks the signature with openssl, which knows
    /// nothing of the TPM: only the PEM public key built from the point.
    private func verify(point: [UInt8], signature: [UInt8], message: [UInt8], in directory: String) throws -> Bool {
        try writeFile("\(directory)/public.pem", Array(p256PublicKeyPEM(point: point).utf8))
        try writeFile("\(directory)/message", message)
        try writeFile("\(directory)/signature.der", signature)
        let result = try ChildProcess.run(["openssl", "dgst", "-sha256", "-verify", "\(directory)/public.pem",
                                         "-signature", "\(directory)/signature.der", "\(directory)/message"])
        return result.succeeded && result.text.contains("Verified OK")
    }

    private func sha256(_ message: [UInt8], in directory: String) throws -> [UInt8] {
        try writeFile("\(directory)/to-hash", message)
        let result = try ChildProcess.run(["openssl", "dgst", "-sha256", "-binary", "\(directory)/to-hash"])
        guard result.succeeded, result.output.count == 32 else { throw TestFailure("openssl dgst: \(result.text)") }
        return result.output
    }

    @Test(arguments: [false, true])
    func signatureVerifiesWithOpenSSL(keepLoaded: Bool) throws {
        let fixture = try TPMFixture()
        let scratch = try TemporaryDirectory(prefix: "sig")
        let keys = TPMSigningKeyStore(context: try fixture.context(), keepsKeysLoaded: keepLoaded)
        let signer = try keys.generateSigningKey(CredentialID("device/identity")!)
        #expect(signer.publicKeyPoint.count == 65)
        #expect(signer.publicKeyPoint.first == 0x04)
        for round in 0..<3 {
            let message = Array("CSR or handshake transcript \(round)".utf8)
            let signature = try signer.sign(digest: try sha256(message, in: scratch.path))
            #expect(signature.first == 0x30)
            #expect(try verify(point: signer.publicKeyPoint, signature: signature, message: message, in: scratch.path))
            // The same signature over another message (a flipped digest) must not verify.
            var other = message
            other[0] ^= 0x01
            #expect(try !verify(point: signer.publicKeyPoint, signature: signature, message: other, in: scratch.path))
        }
        // pkeyutl on the raw digest too.
        let digest = try sha256([1, 2, 3], in: scratch.path)
        try writeFile("\(scratch.path)/digest", digest)
        try writeFile("\(scratch.path)/sig", try signer.sign(digest: digest))
        let pkeyutl = try ChildProcess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "\(scratch.path)/public.pem",
                                          "-in", "\(scratch.path)/digest", "-sigfile", "\(scratch.path)/sig"])
        #expect(pkeyutl.succeeded && pkeyutl.text.contains("Signature Verified Successfully"), "\(pkeyutl.text)")
        if keepLoaded {
            #expect(try fixture.swtpm.transientHandles().count == 1)
            (signer as! TPMSigner).close()
        }
        #expect(try fixture.swtpm.transientHandles() == [])
    }

    @Test func keySurvivesContextsAndProcesses() throws {
        let fixture = try TPMFixture()
        let scratch = try TemporaryDirectory(prefix: "sig")
        let id = CredentialID("device")!
        let point: [UInt8]
        do {
            let keys = TPMSigningKeyStore(context: try fixture.context())
            point = try keys.generateSigningKey(id).publicKeyPoint
        }
        let reopened = TPMSigningKeyStore(context: try fixture.context())
        let signer = try reopened.signer(for: id)
        #expect(signer.publicKeyPoint == point)
        let message = Array("after restart".utf8)
        #expect(try verify(point: point, signature: try signer.sign(digest: try sha256(message, in: scratch.path)),
                           message: message, in: scratch.path))
        // Another process signs with the same key.
        let digest = try sha256(message, in: scratch.path)
        let result = try fixture.probe("sign", ["device", hex(digest)])
        #expect(result.succeeded, "\(result.text)")
        let fields = result.text.split(separator: " ").map { String($0.filter { !$0.isNewline }) }
        #expect(fields.first == hex(point))
        if fields.count == 2, let signature = parseHexForTests(fields[1]) {
            #expect(try verify(point: point, signature: signature, message: message, in: scratch.path))
        } else {
            Issue.record("probe printed \(result.text)")
        }
    }

    @Test func removedAndMissingKeys() throws {
        let fixture = try TPMFixture()
        let keys = TPMSigningKeyStore(context: try fixture.context())
        let id = CredentialID("device")!
        _ = try keys.generateSigningKey(id)
        #expect(try keys.keyIdentifiers() == [id])
        try keys.removeSigningKey(id)
        try keys.removeSigningKey(id)
        #expect(throws: CredentialStoreError.notFound(id)) { try keys.signer(for: id) }
    }

    @Test func newKeyReplacesOldOne() throws {
        let fixture = try TPMFixture()
        let keys = TPMSigningKeyStore(context: try fixture.context())
        let id = CredentialID("device")!
        let first = try keys.generateSigningKey(id).publicKeyPoint
        let second = try keys.generateSigningKey(id).publicKeyPoint
        #expect(first != second)
        #expect(try keys.signer(for: id).publicKeyPoint == second)
    }

    @Test func wrongDigestLengthIsRefused() throws {
        let fixture = try TPMFixture()
        let signer = try TPMSigningKeyStore(context: try fixture.context()).generateKey(CredentialID("k")!)
        #expect(throws: TPMError.invalidDigestLength(20)) { try signer.signInTPM(digest: [UInt8](repeating: 0, count: 20)) }
    }
}

func parseHexForTests(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    func value(_ d: UInt8) -> UInt8? {
        switch d {
        case 0x30...0x39: return d - 0x30
        case 0x61...0x66: return d - 0x57
        default: return nil
        }
    }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
    }
    return bytes
}
