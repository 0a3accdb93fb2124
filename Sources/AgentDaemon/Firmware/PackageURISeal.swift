import AgentCommon
import Credentials

/// Keeps a Package URI's credentials — user information (`user:password@`) and a query or
/// fragment (a signed URL's token) — out of the firmware state file: the state file holds the
/// URI without them (`FirmwareRunner.withoutCredentials`), and the whole URI is sealed in the
/// credential store (the TPM) under ``id``, so a download resumed after a restart still has them.
///
/// A URI without credentials is saved as it is and nothing is sealed. With a store that does
/// not persist (`credential-store = development`) the credentials are not saved: a resume after
/// a restart runs without them (the server's refusal then ends the download with its result).
struct PackageURISeal {
    /// Where the whole URI is sealed.
    static let id = CredentialID("firmware/package-uri")!

    let store: (any CredentialStore)?
    let log: Logger
    /// The URI sealed now (so an unchanged URI is not sealed again on every save).
    private(set) var sealed: String?
    /// Whether the store may still hold a seal of an earlier run (looked at once).
    private var mayHoldEarlierSeal = true

    init(store: (any CredentialStore)?, log: Logger) {
        self.store = store
        self.log = log
    }

    /// What the state file may hold of `uri`: `uri` itself when it carries no credentials, else
    /// `uri` without them (the whole URI sealed first). A URI no longer in use drops the seal.
    mutating func persistable(_ uri: String?) -> String? {
        guard let uri else {
            unseal()
            return nil
        }
        let shown = FirmwareRunner.withoutCredentials(uri)
        guard shown != uri else {
            unseal()
            return uri
        }
        if sealed != uri {
            seal(uri)
        }
        return shown
    }

    /// The URI to resume with for `persisted` (what the state file held): the sealed URI when it
    /// is the one `persisted` was made from, else `persisted` itself.
    mutating func restore(_ persisted: String?) -> String? {
        mayHoldEarlierSeal = store?.contains(Self.id) ?? false
        guard let persisted, let store, mayHoldEarlierSeal else { return persisted }
        do {
            let secret = try store.load(Self.id)
            defer { secret.wipe() }
            let uri = String(decoding: secret.copyBytes(), as: UTF8.self)
            guard FirmwareRunner.withoutCredentials(uri) == persisted else {
                log.warning("firmware: the sealed Package URI is not the saved one's; resuming without its credentials")
                return persisted
            }
            sealed = uri
            return uri
        } catch {
            log.error("firmware: cannot unseal the Package URI's credentials (\(error)); resuming without them")
            return persisted
        }
    }

    private mutating func seal(_ uri: String) {
        guard let store, store.isPersistent else {
            log.warning("firmware: the Package URI's credentials are not saved (no persistent credential store): a resume after a restart runs without them")
            sealed = uri
            return
        }
        do {
            try store.store(SecretBytes(Array(uri.utf8)), as: Self.id)
            sealed = uri
        } catch {
            log.error("firmware: cannot seal the Package URI's credentials (\(error)); a resume after a restart runs without them")
        }
    }

    private mutating func unseal() {
        guard sealed != nil || mayHoldEarlierSeal else { return }
        sealed = nil
        mayHoldEarlierSeal = false
        guard let store, store.isPersistent else { return }
        do {
            try store.remove(Self.id)
        } catch {
            log.warning("firmware: cannot remove the sealed Package URI: \(error)")
        }
    }
}
