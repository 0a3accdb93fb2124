import AgentCommon
@testable import AgentDaemon
import Credentials
import Testing

/// A persistent store in memory (the TPM store's contract without a TPM), counting seals.
private final class CountingStore: CredentialStore {
    private let inner = EphemeralCredentialStore()
    private(set) var stores = 0
    let isPersistent: Bool

    init(persistent: Bool = true) { isPersistent = persistent }

    func store(_ secret: SecretBytes, as id: CredentialID) throws(CredentialStoreError) {
        stores += 1
        try inner.store(secret, as: id)
    }
    func load(_ id: CredentialID) throws(CredentialStoreError) -> SecretBytes { try inner.load(id) }
    func remove(_ id: CredentialID) throws(CredentialStoreError) { try inner.remove(id) }
    func identifiers() throws(CredentialStoreError) -> [CredentialID] { try inner.identifiers() }
}

/// `PackageURISeal`: what of a Package URI reaches the state file, and what comes back.
@Suite struct PackageURISealTests {
    private let log = Logger(component: "test", level: .error)
    private let secretURI = "https://fwuser:hunter2@fw.example.com:8443/gw/1.2.0.fw?sig=0bad&exp=9#part"

    @Test func aURIWithoutCredentialsIsSavedAsItIsAndNothingIsSealed() {
        let store = CountingStore()
        var seal = PackageURISeal(store: store, log: log)
        #expect(seal.persistable("coap://fw.example.com/gw/1.2.0") == "coap://fw.example.com/gw/1.2.0")
        #expect(store.stores == 0)
        #expect(!store.contains(PackageURISeal.id))
    }

    @Test func credentialsAreSealedOnceAndTheFileGetsTheURIWithoutThem() throws {
        let store = CountingStore()
        var seal = PackageURISeal(store: store, log: log)
        let saved = seal.persistable(secretURI)
        #expect(saved == "https://fw.example.com:8443/gw/1.2.0.fw")
        #expect(!(saved ?? "").contains("hunter2") && !(saved ?? "").contains("sig="))
        #expect(String(decoding: try store.load(PackageURISeal.id).copyBytes(), as: UTF8.self) == secretURI)
        _ = seal.persistable(secretURI)  // saved again (another state change): not sealed again
        #expect(store.stores == 1)
    }

    @Test func aRestartGetsTheWholeURIBackForTheSavedOne() {
        let store = CountingStore()
        var before = PackageURISeal(store: store, log: log)
        let saved = before.persistable(secretURI)
        var after = PackageURISeal(store: store, log: log)
        #expect(after.restore(saved) == secretURI)
        // A state file naming another URI than the sealed one resumes without credentials.
        var other = PackageURISeal(store: store, log: log)
        #expect(other.restore("https://elsewhere.example/fw") == "https://elsewhere.example/fw")
        #expect(other.restore(nil) == nil)
    }

    @Test func theSealGoesWhenTheURIDoesEvenOneLeftByAnEarlierRun() {
        let store = CountingStore()
        var first = PackageURISeal(store: store, log: log)
        _ = first.persistable(secretURI)
        #expect(first.persistable(nil) == nil)
        #expect(!store.contains(PackageURISeal.id))

        var earlier = PackageURISeal(store: store, log: log)
        _ = earlier.persistable(secretURI)
        var restarted = PackageURISeal(store: store, log: log)
        #expect(restarted.restore(nil) == nil)  // Idle was saved; the seal is left over
        #expect(restarted.persistable("coap://fw.example.com/plain") == "coap://fw.example.com/plain")
        #expect(!store.contains(PackageURISeal.id))
    }

    @Test func aStoreThatDoesNotPersistSealsNothingAndTheFileStillHasNoCredentials() {
        let store = CountingStore(persistent: false)
        var seal = PackageURISeal(store: store, log: log)
        #expect(seal.persistable(secretURI) == "https://fw.example.com:8443/gw/1.2.0.fw")
        #expect(store.stores == 0)
        var none = PackageURISeal(store: nil, log: log)
        #expect(none.persistable(secretURI) == "https://fw.example.com:8443/gw/1.2.0.fw")
    }
}
