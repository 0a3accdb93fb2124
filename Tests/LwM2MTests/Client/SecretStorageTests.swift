import CoAP
import Credentials
@testable import LwM2M
import Testing

/// A credential store that refuses chosen `store` calls (counted from 1), like a TPM in
/// lockout or a full state directory; otherwise it keeps secrets in memory.
final class FlakyCredentialStore: CredentialStore {
    private let inner = EphemeralCredentialStore()
    /// The `store` calls (1-based) that fail, and how.
    var failures: [Int: CredentialStoreError] = [:]
    private(set) var storeCalls = 0

    init(failing failures: [Int: CredentialStoreError] = [:]) { self.failures = failures }

    func store(_ secret: SecretBytes, as id: CredentialID) throws(CredentialStoreError) {
        storeCalls += 1
        if let failure = failures[storeCalls] { throw failure }
        try inner.store(secret, as: id)
    }

    func load(_ id: CredentialID) throws(CredentialStoreError) -> SecretBytes { try inner.load(id) }
    func remove(_ id: CredentialID) throws(CredentialStoreError) { try inner.remove(id) }
    func identifiers() throws(CredentialStoreError) -> [CredentialID] { try inner.identifiers() }
    var isPersistent: Bool { true }
}

private let pskKey: [UInt8] = [0xC0, 0xFF, 0xEE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD]

private func pskAccount(instance: UInt16, ssid: UInt16, key: [UInt8] = pskKey) -> [LwM2MRecord] {
    Accounts.securityRecords(instance: instance, uri: "coaps://dm.example:5684", bootstrap: false, mode: 0, ssid: ssid,
                             identity: Array("gw-test-1".utf8), secret: key)
}

/// What the client does with secrets a bootstrap server writes, and what happens when storing
/// one fails.
@Suite struct SecretStorageTests {
    @Test func aFailedStoreAnswersTheWrite500AndTheSessionFailsWithTheOldConfigurationKept() throws {
        let credentials = FlakyCredentialStore(failing: [1: .refused("lockout")])
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let bs = FakeBootstrapServer(plan: [
            Accounts.delete(.root),
            Accounts.write(LwM2MPath(0, 1), pskAccount(instance: 1, ssid: 101)),
            Accounts.write(LwM2MPath(1, 1), Accounts.serverRecords(instance: 1, ssid: 101)),
            Accounts.finish,
        ])
        world.servers = [bootstrapURI: bs]
        let before = world.client.persistentState
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.responses.map(\.1.code) == [.deleted, .internalServerError, .changed, .notAcceptable])
        let diagnostic = String(decoding: bs.responses[1].1.payload, as: UTF8.self)
        #expect(diagnostic == "internal error: cannot store secret: credential store refused: lockout")
        #expect(!diagnostic.contains(String(decoding: pskKey, as: UTF8.self)))
        #expect(world.client.persistentState == before)
        #expect(world.saved.isEmpty)
        #expect(try credentials.identifiers().isEmpty)
        #expect(world.events.contains { if case .bootstrapFailed(let reason, _) = $0 {
            reason.contains("inconsistent") } else { false } })
    }

    @Test func aStoreFailingOnTheSecondInstanceOfAnObjectWriteKeepsTheFirst() throws {
        // A Write on /0 with instances 1 and 2: instance 1 is written (its secret stored), the
        // store of instance 2's secret fails: 5.00, and instance 2 is not created.
        let credentials = FlakyCredentialStore(failing: [2: .storage("disk full")])
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let bs = FakeBootstrapServer(plan: [
            Accounts.write(LwM2MPath(0), pskAccount(instance: 1, ssid: 101) + pskAccount(instance: 2, ssid: 102),
                           format: ContentFormat.lwm2mTLV),
        ])
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.responses.map(\.1.code) == [.internalServerError])
        #expect(String(decoding: bs.responses[0].1.payload, as: UTF8.self)
            == "internal error: cannot store secret: credential storage: disk full")
        #expect(world.client.security.instanceIDs == [0, 1])
        let reference = try #require(world.client.security.secretReference(instance: 1, resource: 5))
        #expect(try credentials.load(CredentialID(reference)!) == SecretBytes(pskKey))
        #expect(world.client.security.secretReference(instance: 2, resource: 5) == nil)
    }
}
