/// Names a secret in a `CredentialStore`, e.g. `security/1/secret-key` for /0/1/5.
///
/// Identifiers are path-like (letters, digits, `-`, `_`, `.`, `/`), so a store can map them to
/// file names without escaping.
public struct CredentialID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    /// Fails for an empty name, a name with other characters, or `..` segments.
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 128 else { return nil }
        for byte in rawValue.utf8 {
            let allowed = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
                || byte == 0x2E || byte == 0x2F
            guard allowed else { return nil }
        }
        let segments = rawValue.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
        self.rawValue = rawValue
    }

    /// The identifier of a secret Security-object resource, `security/<instance>/<resource>`.
    public static func securityResource(instance: UInt16, resource: UInt16) -> CredentialID {
        CredentialID("security/\(instance)/\(resource)")!
    }

    public var description: String { rawValue }

    public static func < (lhs: CredentialID, rhs: CredentialID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Why a credential operation failed. Messages never contain secret bytes.
public enum CredentialStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No secret is stored under this identifier.
    case notFound(CredentialID)
    /// The backing device (the TPM) is missing or unreachable.
    case unavailable(String)
    /// The stored blob cannot be used here (another TPM's blob, corrupted file, wrong policy).
    case unusable(CredentialID, reason: String)
    /// The device refused the operation (lockout, authorisation, resources).
    case refused(String)
    /// Reading or writing the state directory failed.
    case storage(String)

    public var description: String {
        switch self {
        case .notFound(let id): return "no credential \(id)"
        case .unavailable(let reason): return "credential store unavailable: \(reason)"
        case .unusable(let id, let reason): return "credential \(id) unusable: \(reason)"
        case .refused(let reason): return "credential store refused: \(reason)"
        case .storage(let reason): return "credential storage: \(reason)"
        }
    }
}

/// Keeps secrets (PSK keys, private keys, anything written to a secret Security resource) out of
/// clear-text files: the TPM store seals them, the ephemeral store keeps them in memory only.
///
/// The LwM2M state files hold a `CredentialID` where a secret would be.
public protocol CredentialStore: AnyObject {
    /// Stores `secret` under `id`, replacing any previous secret of that name.
    func store(_ secret: SecretBytes, as id: CredentialID) throws(CredentialStoreError)
    /// Returns the secret; the caller wipes it (or drops it) as soon as it is used.
    func load(_ id: CredentialID) throws(CredentialStoreError) -> SecretBytes
    /// Removes the secret; removing an absent one is not an error.
    func remove(_ id: CredentialID) throws(CredentialStoreError)
    /// The identifiers of every stored secret, sorted.
    func identifiers() throws(CredentialStoreError) -> [CredentialID]
    /// Whether secrets survive a restart of the process (the daemon refuses to persist LwM2M
    /// state that refers to secrets a non-persistent store would lose).
    var isPersistent: Bool { get }
}

extension CredentialStore {
    /// Whether a secret is stored under `id`.
    public func contains(_ id: CredentialID) -> Bool {
        ((try? identifiers()) ?? []).contains(id)
    }
}

/// A store that keeps secrets in process memory only: for tests and the explicit development
/// mode. Nothing is written anywhere, so nothing survives a restart.
public final class EphemeralCredentialStore: CredentialStore, @unchecked Sendable {
    private var secrets: [CredentialID: SecretBytes] = [:]

    public init() {}

    public func store(_ secret: SecretBytes, as id: CredentialID) throws(CredentialStoreError) {
        secrets[id] = SecretBytes(secret.copyBytes())
    }

    public func load(_ id: CredentialID) throws(CredentialStoreError) -> SecretBytes {
        guard let secret = secrets[id] else { throw .notFound(id) }
        return SecretBytes(secret.copyBytes())
    }

    public func remove(_ id: CredentialID) throws(CredentialStoreError) {
        secrets[id]?.wipe()
        secrets[id] = nil
    }

    public func identifiers() throws(CredentialStoreError) -> [CredentialID] {
        secrets.keys.sorted()
    }

    public var isPersistent: Bool { false }
}
