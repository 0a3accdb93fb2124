import Credentials
import Time
import Transport

/// A credential store that remembers how its operations went (never what they carried), so the
/// status can tell whether the TPM answered without asking it anything: the last operation,
/// its error, and counts since the start. Everything else is the wrapped store's.
public final class MonitoredCredentialStore: CredentialStore {
    /// One operation's outcome.
    public struct Outcome: Hashable, Sendable {
        /// store, load, remove or list.
        public var operation: String
        /// The store's error, nil when it worked.
        public var error: String?
        public var at: Instant
    }

    public let base: CredentialStore
    public private(set) var last: Outcome?
    /// The last store or load that reached the secret (with the TPM store: a seal or an unseal,
    /// which needs the TPM and its storage key; a load of a missing credential does not count).
    public private(set) var lastKeyOperation: Outcome?
    /// Stores and loads that reached the secret and succeeded.
    public private(set) var keyOperationsSucceeded = 0
    public private(set) var succeeded = 0
    public private(set) var failed = 0

    public init(_ base: CredentialStore) {
        self.base = base
    }

    public var isPersistent: Bool { base.isPersistent }

    public func store(_ secret: SecretBytes, as id: CredentialID) throws(CredentialStoreError) {
        try record("store") { () throws(CredentialStoreError) in try base.store(secret, as: id) }
    }

    public func load(_ id: CredentialID) throws(CredentialStoreError) -> SecretBytes {
        try record("load") { () throws(CredentialStoreError) in try base.load(id) }
    }

    public func remove(_ id: CredentialID) throws(CredentialStoreError) {
        try record("remove") { () throws(CredentialStoreError) in try base.remove(id) }
    }

    public func identifiers() throws(CredentialStoreError) -> [CredentialID] {
        try record("list") { () throws(CredentialStoreError) in try base.identifiers() }
    }

    private func record<R>(_ operation: String, _ body: () throws(CredentialStoreError) -> R) throws(CredentialStoreError) -> R {
        do {
            let result = try body()
            succeeded += 1
            last = Outcome(operation: operation, error: nil, at: MonotonicClock.now())
            if operation == "store" || operation == "load" {
                keyOperationsSucceeded += 1
                lastKeyOperation = last
            }
            return result
        } catch {
            // "No such credential" is an answer, not a failure of the store.
            if case .notFound = error {
                succeeded += 1
                last = Outcome(operation: operation, error: nil, at: MonotonicClock.now())
            } else {
                failed += 1
                last = Outcome(operation: operation, error: error.description, at: MonotonicClock.now())
                if operation == "store" || operation == "load" { lastKeyOperation = last }
            }
            throw error
        }
    }
}
