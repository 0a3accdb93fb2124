import CoAP
import Credentials

extension LwM2MClient {
    /// Opens a connection to the bootstrap server (the Bootstrap-Request follows when it is up).
    mutating func connectBootstrap() {
        guard let account = accounts.bootstrap else {
            bootstrap.phase = .idle
            return
        }
        emit(.bootstrapPending(uri: account.uri))
        let connection = nextConnection(.bootstrap)
        bootstrap.phase = .connecting(connection)
        actions.append(.open(connection, account))
    }

    mutating func bootstrapConnectionOpened(_ connection: ConnectionID) {
        guard case .connecting(connection) = bootstrap.phase else { return }
        let request = InterfaceRequests.bootstrapRequest(endpointName: configuration.endpointName,
                                                         preferredFormat: configuration.preferredContentFormat)
        let id = endpoint.send(request, to: connection, at: now)
        bootstrap.phase = .requesting(connection, id)
    }

    mutating func bootstrapRequestAnswered(_ message: CoAPMessage) {
        guard case .requesting(let connection, _) = bootstrap.phase else { return }
        guard message.code == .changed else {
            bootstrapFailed("Bootstrap-Request answered \(message.code)")
            return
        }
        enterSession(connection)
    }

    /// The session starts with the 2.04 to Bootstrap-Request or with the first command,
    /// whichever arrives first (a server may send Delete before its separate response).
    private mutating func enterSession(_ connection: ConnectionID) {
        if bootstrap.snapshot == nil { bootstrap.snapshot = persistentState }
        bootstrap.phase = .session(connection, expires: now + configuration.sessionTimeout)
    }

    mutating func handleBootstrapCommand(_ request: IncomingRequest<ConnectionID>) {
        switch bootstrap.phase {
        case .requesting(let connection, let id):
            endpoint.cancel(id, at: now)
            enterSession(connection)
        case .session(let connection, _):
            enterSession(connection)
        default:
            endpoint.respond(to: request.exchange, with: .error(.unauthorized, "no bootstrap session"), at: now)
            return
        }
        // Commands are taken in order: none overtakes a Write waiting for its secrets' store.
        guard bootstrap.secretWrite == nil else {
            bootstrap.heldCommands.append(request)
            return
        }
        let responder = BootstrapResponder(security: security,
                                           configurationObjects: [0: security, 1: servers, 2: accessControl])
        switch responder.handle(request.message, registry: registry) {
        case .respond(let response):
            endpoint.respond(to: request.exchange, with: response, at: now)
        case .writeSecrets(let write):
            startSecretWrite(write, exchange: request.exchange)
        case .finish:
            fillMissingBindings()
            do throws(BootstrapInconsistency) {
                try BootstrapConsistencyCheck(supportedModes: configuration.supportedSecurityModes)
                    .check(security: security.snapshot(), server: servers.snapshot(), requiresBootstrapAccount: true)
                endpoint.respond(to: request.exchange, with: CoAPResponse(.changed), at: now)
                commitBootstrap()
            } catch {
                endpoint.respond(to: request.exchange, with: .error(.notAcceptable, error.description), at: now)
                bootstrapFailed("inconsistent configuration: \(error)")
            }
        }
    }

    /// A Server instance the bootstrap server wrote without a Binding (/1/x/7, mandatory) gets
    /// the TS 1.1 default "U" (Table 6.2.1.1-1) before the consistency check: 1NCE's bootstrap
    /// table writes only /1/0/0, /1/0/1 and /1/0/2. A session that fails restores it with the rest.
    mutating func fillMissingBindings() {
        let snapshot = servers.snapshot()
        for instance in snapshot.instances.keys.sorted() where snapshot.instances[instance]?[7] == nil {
            try? servers.bootstrapWrite(instance: instance, records: [LwM2MRecord(LwM2MPath(1, instance, 7), .string("U"))])
        }
    }

    /// Puts the configuration a session started from back, without the change reports that
    /// would make it look like a new configuration to save.
    mutating func restoreWithoutSaving(_ snapshot: ConfigurationSnapshot) {
        let pending = registry.takeChanges().filter { ($0.objectID ?? 0) > 2 }
        apply(snapshot)
        _ = registry.takeChanges()
        for path in pending { registry.recordChange(path) }
    }

    /// Drops any bootstrap in progress, restoring the configuration it had started to change.
    mutating func abandonBootstrap() {
        dropSecretWrite()
        if let connection = bootstrap.connection { close(connection) }
        if let snapshot = bootstrap.snapshot { restoreWithoutSaving(snapshot) }
        bootstrap = BootstrapProgress()
    }

    mutating func bootstrapTimersFired() {
        if let purge = bootstrap.accountPurge, now >= purge {
            bootstrap.accountPurge = nil
            purgeBootstrapAccount()
        }
        switch bootstrap.phase {
        case .holdOff(let until) where now >= until:
            connectBootstrap()
        case .backingOff(let until) where now >= until:
            connectBootstrap()
        case .session(_, let expires) where now >= expires:
            bootstrapFailed("no Bootstrap-Finish within \(configuration.sessionTimeout.components.seconds) s of the last command")
        default:
            break
        }
    }

    /// Schedules the purge of the bootstrap account after /0/x/12 seconds (0 = never).
    mutating func scheduleBootstrapAccountPurge() {
        guard bootstrap.accountPurge == nil, let account = accounts.bootstrap,
              account.bootstrapAccountTimeout > 0 else { return }
        bootstrap.accountPurge = now + .seconds(account.bootstrapAccountTimeout)
    }

    private mutating func purgeBootstrapAccount() {
        guard let account = accounts.bootstrap, !bootstrap.isActive else { return }
        security.bootstrapDelete(instance: account.instance)
        actions.append(.saveState)
    }
}
