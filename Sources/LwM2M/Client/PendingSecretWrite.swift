import CoAP
import Credentials

/// A Bootstrap-Write carrying secrets, from the request to its answer. The client writes its
/// instances in order; an instance with a secret waits until the outer layer has stored it
/// (`ClientAction.storeSecret`, answered by `LwM2MClient.secretStored`), so the write is
/// answered exactly as if the store had happened inline: 2.04 when every instance is written,
/// the first error otherwise (5.00 "cannot store secret" for a failed store), with the instances
/// before it written.
struct PendingSecretWrite {
    /// The request to answer.
    let exchange: ExchangeID
    /// The configuration object written (the Security object).
    let objectID: UInt16
    /// Instances not written yet, in order.
    var remaining: [BootstrapResponder.SecretWrite.Instance]
    /// The instance whose secrets are being stored: written once all are.
    var storing: ProvisionedObject.PreparedWrite?
    /// The names of `storing`'s secrets whose outcome has not come back yet.
    var unstored: Set<CredentialID> = []

    init(exchange: ExchangeID, write: BootstrapResponder.SecretWrite) {
        self.exchange = exchange
        objectID = write.objectID
        remaining = write.instances
    }
}
