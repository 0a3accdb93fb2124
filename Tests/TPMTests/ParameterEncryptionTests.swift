import Credentials
import TPM
import Testing
import TestSupport

@Suite("TPM parameter encryption")
struct ParameterEncryptionTests {
    /// Seals and unseals through a wire tap; returns whether any 8-byte run of the secret was seen.
    private func secretVisibleOnTheWire(encrypting: Bool, pcrPolicy: PCRSelection? = nil) throws -> Bool {
        let fixture = try TPMFixture()
        let tap = try WireTap(forwardingTo: fixture.swtpm)
        let configuration = TPMConfiguration(tcti: .swtpm(host: "127.0.0.1", port: tap.port),
                                             stateDirectory: fixture.state.path, pcrPolicy: pcrPolicy,
                                             encryptsParameters: encrypting)
        let context = try TPMContext(configuration: configuration)
        let store = TPMCredentialStore(context: context)
        let id = CredentialID("security/0/5")!
        let secret = testBytes(count: 64, seed: 77)
        try store.store(SecretBytes(secret), as: id)
        #expect(try store.load(id) == SecretBytes(secret))
        context.close()
        tap.stop()
        let wire = tap.bytes
        #expect(wire.count > 1000, "the tap saw \(wire.count) bytes")
        return (0...(secret.count - 8)).contains { contains(wire, secret[$0..<$0 + 8]) }
    }

    @Test func secretsCrossTheBusEncrypted() throws {
        #expect(try !secretVisibleOnTheWire(encrypting: true))
        #expect(try !secretVisibleOnTheWire(encrypting: true, pcrPolicy: PCRSelection(indices: [16])!))
    }

    @Test func withoutEncryptionTheTapSeesTheSecret() throws {
        // Shows that the tap would notice: the password session carries the secret in clear.
        #expect(try secretVisibleOnTheWire(encrypting: false))
    }
}
