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

    // MARK: - Storage is an action of the client

    /// The PSK plan of a bootstrap server: Delete /, a PSK account, its Server instance, Finish.
    private func pskPlan(key: [UInt8] = pskKey) -> [CoAPRequest] {
        [
            Accounts.delete(.root),
            Accounts.write(LwM2MPath(0, 1), pskAccount(instance: 1, ssid: 101, key: key)),
            Accounts.write(LwM2MPath(1, 1), Accounts.serverRecords(instance: 1, ssid: 101)),
            Accounts.finish,
        ]
    }

    @Test func theClientEmitsAStoreActionAndAnswersTheWriteOnlyAfterItsOutcome() throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        world.holdStores = true
        let bs = FakeBootstrapServer(plan: pskPlan())
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        // The Write reached the client, which asked for the store and stored nothing itself.
        #expect(bs.responses.map(\.1.code) == [.deleted])
        #expect(world.storeRequests.count == 1)
        let (id, secret) = try #require(world.heldStores.first)
        #expect(id.rawValue == "lwm2m/0-1-5/1")
        #expect(secret == SecretBytes(pskKey))
        #expect(try credentials.identifiers().isEmpty)
        #expect(world.client.isStoringSecrets)
        #expect(world.client.security.instanceIDs == [0])  // nothing written before the store
        // The action never shows the bytes (0xC0 = 192 is the key's first byte).
        let described = "\(ClientAction.storeSecret(id, secret))"
        #expect(described.contains("<secret: 16 bytes>") && !described.contains("192"))

        world.performHeldStores()
        world.run(for: .seconds(1))
        #expect(bs.responses.map(\.1.code) == [.deleted, .changed, .changed, .changed])
        #expect(!world.client.isStoringSecrets)
        #expect(secret.isEmpty)  // wiped once stored
        #expect(world.client.security.secretReference(instance: 1, resource: 5) == id.rawValue)
        #expect(try credentials.load(id) == SecretBytes(pskKey))
        #expect(world.eventNames().contains("bootstrap finished"))
    }

    @Test func aFinishSentBehindAPendingWriteWaitsForItsStore() throws {
        // A bootstrap server that does not wait for answers: the Server-object Write and the
        // Finish arrive while the Security Write waits for its store; they are answered after
        // it, in order, and Finish sees the account written.
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        world.holdStores = true
        let bs = FakeBootstrapServer(plan: Array(pskPlan().dropFirst()), pipelined: true)
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.requests.count == 1)  // Bootstrap-Request; the plan went out at its answer
        #expect(bs.responses.isEmpty)
        #expect(world.heldStores.count == 1)
        #expect(world.client.isBootstrapping)

        world.performHeldStores()
        world.run(for: .seconds(1))
        #expect(bs.responses.map(\.1.code) == [.changed, .changed, .changed])
        #expect(bs.finishCodes == [.changed])
        #expect(world.eventNames().contains("bootstrap finished"))
        let reference = try #require(world.client.security.secretReference(instance: 1, resource: 5))
        #expect(try credentials.load(CredentialID(reference)!) == SecretBytes(pskKey))
    }

    @Test func aBootstrapDeleteBehindAPendingWriteComesAfterItAndItsSecretIsCollected() throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        world.holdStores = true
        let bs = FakeBootstrapServer(plan: [
            Accounts.write(LwM2MPath(0, 1), pskAccount(instance: 1, ssid: 101)),
            Accounts.delete(LwM2MPath(0, 1)),
            Accounts.write(LwM2MPath(0, 2), Accounts.securityRecords(instance: 2, uri: serverURI, bootstrap: false, ssid: 102)),
            Accounts.write(LwM2MPath(1, 2), Accounts.serverRecords(instance: 2, ssid: 102)),
            Accounts.finish,
        ], pipelined: true)
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.responses.isEmpty)
        let id = try #require(world.heldStores.first?.0)

        world.performHeldStores()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [102] })
        #expect(bs.responses.map(\.1.code) == [.changed, .deleted, .changed, .changed, .changed])
        #expect(world.client.security.instanceIDs == [0, 2])
        // Stored, then deleted by the server before Finish: nothing refers to it, collected.
        #expect(world.collections.last.map { !$0.contains(id) } == true)
        #expect(try credentials.identifiers().isEmpty)
    }

    @Test func theSameKeyWrittenTwiceIsStoredUnderTwoNamesAndTheFirstCollected() throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let second: [UInt8] = Array(repeating: 0x5A, count: 16)
        let bs = FakeBootstrapServer(plan: [
            Accounts.write(LwM2MPath(0, 1), pskAccount(instance: 1, ssid: 101)),
            Accounts.write(LwM2MPath(0, 1), pskAccount(instance: 1, ssid: 101, key: second)),
            Accounts.write(LwM2MPath(1, 1), Accounts.serverRecords(instance: 1, ssid: 101)),
            Accounts.finish,
        ])
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes == [.changed])
        #expect(world.storeRequests.map(\.rawValue) == ["lwm2m/0-1-5/1", "lwm2m/0-1-5/2"])
        #expect(world.client.security.secretReference(instance: 1, resource: 5) == "lwm2m/0-1-5/2")
        #expect(try credentials.identifiers().map(\.rawValue) == ["lwm2m/0-1-5/2"])
        #expect(try credentials.load(CredentialID("lwm2m/0-1-5/2")!) == SecretBytes(second))
        // Finish committed, then collected: the action keeps the secret in force only.
        #expect(world.collections.last == [CredentialID("lwm2m/0-1-5/2")!])
    }

    @Test(arguments: ["factory reset", "stop", "session timeout"])
    func theSessionEndingWithAStorePendingDropsTheWriteAndRemovesTheLateSecret(_ ending: String) throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        world.holdStores = true
        let bs = FakeBootstrapServer(plan: pskPlan())
        world.servers = [bootstrapURI: bs]
        let before = world.client.persistentState
        world.start()
        world.run(for: .seconds(1))
        let id = try #require(world.heldStores.first?.0)
        bs.refusals = [.forbidden]  // a factory reset bootstraps again: refused, so no new session
        switch ending {
        case "factory reset": world.client.factoryReset(at: world.now)
        case "stop": world.client.stop(at: world.now)
        default: world.run(for: .seconds(30))  // no Finish within the session timeout
        }
        world.pump()
        // The waiting Write is answered (5.03), not left open in the endpoint.
        #expect(bs.responses.map(\.1.code) == [.deleted, .serviceUnavailable])
        #expect(!world.client.isStoringSecrets)
        #expect(world.client.endpoint.pendingExchangeCount == 0)
        #expect(world.client.persistentState == before)

        // The outer layer stores it late: the client asks for its removal.
        world.performHeldStores()
        #expect(world.removals.last == [id])
        #expect(try credentials.identifiers().isEmpty)
        #expect(world.client.security.secretReference(instance: 1, resource: 5) == nil)
    }

    @Test func anOutcomeReportedTwiceNeverRemovesASecretInUse() throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let bs = FakeBootstrapServer(plan: pskPlan())
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes == [.changed])
        let id = try #require(world.storeRequests.first)
        world.client.secretStored(id, .success(()), at: world.now)  // a confused outer layer
        world.pump()
        #expect(world.removals.isEmpty)
        #expect(try credentials.load(id) == SecretBytes(pskKey))
    }

    @Test func garbageCollectionIsAnActionThatSparesOtherOwnersSecrets() throws {
        // An orphan of an earlier run (a secret stored, the state never saved) and a factory
        // secret: the collection after the bootstrap removes the orphan, keeps the rest.
        let credentials = EphemeralCredentialStore()
        try credentials.store(SecretBytes([1]), as: CredentialID("lwm2m/0-7-5/9")!)
        try credentials.store(SecretBytes([2]), as: CredentialID("factory/bootstrap/secret-key")!)
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let bs = FakeBootstrapServer(plan: pskPlan())
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes == [.changed])
        let keeping = try #require(world.collections.last)
        #expect(keeping == [CredentialID("lwm2m/0-1-5/1")!])
        #expect(try credentials.identifiers().map(\.rawValue) == ["factory/bootstrap/secret-key", "lwm2m/0-1-5/1"])
    }

    @Test func garbageAmongStoredSecretsIsTheClientsUnreferencedNames() {
        let stored = ["factory/bootstrap/secret-key", "lwm2m/0-1-5/3", "lwm2m/0-2-5/4", "tpm/key"].map { CredentialID($0)! }
        #expect(ClientAction.garbage(among: stored, keeping: [CredentialID("lwm2m/0-2-5/4")!]).map(\.rawValue)
            == ["lwm2m/0-1-5/3"])
        #expect(ClientAction.garbage(among: stored, keeping: Set(stored)).isEmpty)
    }
}
