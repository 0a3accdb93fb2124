import CoAP
import Credentials

// Secrets, as actions: the client never calls a credential store. A secret a bootstrap server
// writes is stored by the outer layer (`.storeSecret`, outcome fed back with `secretStored`)
// before the Bootstrap-Write is answered; garbage collection (`.collectSecrets`) and the removal
// of secrets nobody will refer to (`.removeSecrets`) are actions too. The outer layer performs
// actions in order, so a `.saveState` or an `.open` that needs a secret comes after its store.

extension LwM2MClient {
    /// The prefix of the names the client gives the secrets bootstrap servers write
    /// (`lwm2m/0-<instance>-5/<generation>`).
    public static let secretNamePrefix = "lwm2m/"

    /// Whether `id` names a secret the client stored (and so may collect).
    public static func isClientSecret(_ id: CredentialID) -> Bool {
        id.rawValue.hasPrefix(secretNamePrefix)
    }

    /// The outer layer performed `.storeSecret(id, _)`: `outcome` is what the credential store
    /// said. The Bootstrap-Write waiting for it goes on (the next instance, or its answer: 2.04,
    /// or 5.00 "cannot store secret: …" when the store failed); a secret stored for a write the
    /// client no longer waits for (its session ended meanwhile) is removed again.
    public mutating func secretStored(_ id: CredentialID, _ outcome: Result<Void, CredentialStoreError>,
                                      at now: Instant) {
        self.now = now
        guard var write = bootstrap.secretWrite, let storing = write.storing, write.unstored.contains(id) else {
            // Stored for a write that is gone; never remove a name something refers to (an
            // outcome reported twice, say).
            if case .success = outcome, !isReferenced(id) { actions.append(.removeSecrets([id])) }
            flush()
            return
        }
        switch outcome {
        case .success:
            write.unstored.remove(id)
            if write.unstored.isEmpty {
                storing.wipeSecrets()
                write.storing = nil
                provisionedObject(write.objectID)?.commit(storing)
            }
            bootstrap.secretWrite = write
            continueSecretWrite()
        case .failure(let error):
            storing.wipeSecrets()
            // The message names the store's trouble, never the secret.
            finishSecretWrite(with: LwM2MError.internalError("cannot store secret: \(error)").response)
        }
        flush()
    }

    /// Whether a Bootstrap-Write is waiting for the outer layer to store its secrets.
    public var isStoringSecrets: Bool { bootstrap.secretWrite?.storing != nil }

    // MARK: - Internals

    /// Starts a Bootstrap-Write that carries secrets (`BootstrapResponder.Outcome.writeSecrets`).
    mutating func startSecretWrite(_ write: BootstrapResponder.SecretWrite, exchange: ExchangeID) {
        bootstrap.secretWrite = PendingSecretWrite(exchange: exchange, write: write)
        continueSecretWrite()
    }

    /// Writes the pending write's instances in order until one has secrets to store (asked of
    /// the outer layer) or an error ends it; answers when all are written.
    private mutating func continueSecretWrite() {
        while var write = bootstrap.secretWrite, write.storing == nil {
            guard !write.remaining.isEmpty, let object = provisionedObject(write.objectID) else {
                finishSecretWrite(with: CoAPResponse(.changed))
                return
            }
            let instance = write.remaining.removeFirst()
            let prepared: ProvisionedObject.PreparedWrite
            do throws(LwM2MError) {
                prepared = try object.prepareBootstrapWrite(instance: instance.id, records: instance.records)
            } catch {
                finishSecretWrite(with: error.response)
                return
            }
            if prepared.secrets.isEmpty {
                object.commit(prepared)
                bootstrap.secretWrite = write
                continue
            }
            write.storing = prepared
            write.unstored = Set(prepared.secrets.map(\.id))
            bootstrap.secretWrite = write
            for secret in prepared.secrets { actions.append(.storeSecret(secret.id, secret.secret)) }
        }
    }

    /// Answers the pending write and takes the bootstrap server's commands that waited for it.
    private mutating func finishSecretWrite(with response: CoAPResponse) {
        guard let write = bootstrap.secretWrite else { return }
        bootstrap.secretWrite = nil
        endpoint.respond(to: write.exchange, with: response, at: now)
        while bootstrap.secretWrite == nil, !bootstrap.heldCommands.isEmpty {
            handleBootstrapCommand(bootstrap.heldCommands.removeFirst())
        }
    }

    /// The session ends with a write still waiting for its secrets (failure, timeout, factory
    /// reset, stop): the write and the commands behind it are answered 5.03, nothing of the
    /// write stays. A store still under way is the outer layer's: its secret is removed when
    /// its outcome comes back (`secretStored`) or by the collection that follows.
    mutating func dropSecretWrite() {
        let held = bootstrap.heldCommands
        bootstrap.heldCommands = []
        if let write = bootstrap.secretWrite {
            bootstrap.secretWrite = nil
            endpoint.respond(to: write.exchange, with: .error(.serviceUnavailable, "bootstrap session ended"), at: now)
        }
        for request in held {
            endpoint.respond(to: request.exchange, with: .error(.serviceUnavailable, "bootstrap session ended"), at: now)
        }
    }

    /// Asks the outer layer to remove the client's secrets that neither the live configuration
    /// nor the factory snapshot refers to (nor a write waiting for its store).
    mutating func collectCredentialGarbage() {
        var keeping = Set(persistentState.credentialReferences.union(factory.credentialReferences)
            .compactMap(CredentialID.init))
        if let storing = bootstrap.secretWrite?.storing { keeping.formUnion(storing.secrets.map(\.id)) }
        actions.append(.collectSecrets(keeping: keeping))
    }

    /// Whether the configuration in force, the factory snapshot or the configuration a
    /// bootstrap session would restore refers to `id`.
    private func isReferenced(_ id: CredentialID) -> Bool {
        [persistentState, factory, bootstrap.snapshot].contains { $0?.credentialReferences.contains(id.rawValue) == true }
    }

    private func provisionedObject(_ id: UInt16) -> ProvisionedObject? {
        switch id {
        case 0: security
        case 1: servers
        case 2: accessControl
        default: nil
        }
    }
}
