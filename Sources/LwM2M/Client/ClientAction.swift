import CoAP
import Credentials

/// What the outer layer must do for the client, in the order given: a later action may rely on
/// an earlier one (a `.saveState` names secrets an earlier `.storeSecret` stored; an `.open`
/// reads the account's key from the store by name).
public enum ClientAction: Sendable {
    /// Open a connection to `account.uri` (resolve, socket, DTLS handshake with the account's
    /// credentials), then call `connectionOpened` or `connectionFailed`.
    case open(ConnectionID, SecurityAccount)
    /// Send a datagram on a connection.
    case send(ConnectionID, [UInt8])
    /// Close a connection (DTLS close_notify, socket closed).
    case close(ConnectionID)
    /// Write `LwM2MClient.persistentState` to disk (atomically).
    case saveState
    /// Store `secret` in the credential store under `id` (a bootstrap server wrote it), then
    /// call `LwM2MClient.secretStored(id, outcome, at:)`. The Bootstrap-Write waits for that
    /// outcome. Wipe the bytes once stored; never log them.
    case storeSecret(CredentialID, SecretBytes)
    /// Remove these secrets from the credential store (absent ones are not an error). Nothing
    /// refers to them; a failure only leaves garbage for the next collection.
    case removeSecrets([CredentialID])
    /// Credential garbage collection: remove every stored secret the client named
    /// (`LwM2MClient.isClientSecret`) except those in `keeping`, which the configuration in
    /// force or the factory snapshot refers to (`ClientAction.garbage(among:keeping:)`). Best
    /// effort, no outcome to report.
    case collectSecrets(keeping: Set<CredentialID>)
}

extension ClientAction {
    /// The secrets a `.collectSecrets(keeping:)` removes out of those `stored`: the client's
    /// own names (`lwm2m/…`) that `keeping` does not hold. Secrets of other owners (the factory
    /// accounts' `factory/…`, TPM keys) are never collected.
    public static func garbage(among stored: [CredentialID], keeping: Set<CredentialID>) -> [CredentialID] {
        stored.filter { LwM2MClient.isClientSecret($0) && !keeping.contains($0) }
    }

    /// Performs a `.storeSecret(id, secret)` in `store`: stores, then wipes the bytes whatever
    /// happened; the result is what the outer layer feeds back with `LwM2MClient.secretStored`.
    public static func store(_ secret: SecretBytes, as id: CredentialID,
                             in store: some CredentialStore) -> Result<Void, CredentialStoreError> {
        defer { secret.wipe() }
        do {
            try store.store(secret, as: id)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
