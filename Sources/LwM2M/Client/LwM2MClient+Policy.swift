import CoAP

// The client's policy, in one place: what it does at start, when a registration or a bootstrap
// succeeds or fails, when the factory-bootstrap fallback engages, how it backs off, and what the
// servers' executes and account deletions lead to. Each section matches a part of the policy
// table in docs/lwm2m-client.md. The mechanics (messages, connections, timers) live in
// LwM2MClient+Registration.swift and LwM2MClient+Bootstrap.swift; what a management server may
// do to the configuration objects in ConfigurationGuard.swift and ServerObjectRules.swift.

extension LwM2MClient {
    // MARK: - Start
    // docs: the "start, …" rows.

    /// The start policy: bootstrap first when asked to at every start, otherwise register when
    /// server accounts exist, otherwise bootstrap; a configuration with neither (a saved one
    /// whose last server deleted its account, say) gives way to the factory accounts. Only
    /// when the factory snapshot has no account either is there nothing to do.
    mutating func runStartPolicy() {
        let accounts = accounts
        if configuration.bootstrapOnEveryStart, accounts.bootstrap != nil {
            startBootstrap(holdOff: true)
        } else if !accounts.servers.isEmpty {
            restartRegistrations()
        } else if accounts.bootstrap != nil {
            startBootstrap(holdOff: true)
        } else if !useFactoryAccounts() {
            emit(.noAccounts)
        }
    }

    /// No usable server account and no bootstrap account: the configuration objects go back to
    /// the factory snapshot (saved, as a factory reset would) and the start policy runs on it.
    /// False when the factory snapshot is what is in force already or has no account either.
    private mutating func useFactoryAccounts() -> Bool {
        let factoryAccounts = AccountSet(security: factory.objects[0] ?? ObjectSnapshot(),
                                         server: factory.objects[1] ?? ObjectSnapshot())
        guard persistentState != factory, !factoryAccounts.servers.isEmpty || factoryAccounts.bootstrap != nil else {
            return false
        }
        emit(.usingFactoryAccounts)
        apply(factory)
        collectCredentialGarbage()
        actions.append(.saveState)
        runStartPolicy()
        return true
    }

    // MARK: - Registration: order, success, retries, failure
    // docs: "a registration attempt fails", "registration failed for good", "Update timer",
    // "Update answered 4.xx".

    /// Starts the queued servers whose turn it is: unordered servers at once, ordered ones
    /// after every earlier ordered one settled; a failed server with Registration Failure
    /// Block stops the ones after it.
    mutating func startQueuedRegistrations() {
        guard stopping == nil else { return }
        var blocked = false
        for ssid in registrationOrder {
            guard var registration = registrations[ssid] else { continue }
            let ordered = registration.account.settings.priorityOrder != nil
            if registration.isQueued && !(ordered && blocked) {
                let delay = registration.registeredOnce ? 0 : registration.account.settings.initialRegistrationDelay
                registration.state = .waiting(.init(until: now + .seconds(max(0, delay)), retries: .init(),
                                                    updatePending: false))
                registrations[ssid] = registration
            }
            if ordered && !registration.isSettled { blocked = true }
            if ordered && registration.hasFailed && registration.account.settings.registrationFailureBlock {
                blocked = true
            }
        }
        registrationTimersFired()
    }

    /// A Register succeeded: the bootstrap back-off starts over — unless this is a server of the
    /// factory fallback (the bootstrap that failed still has to succeed) — the bootstrap
    /// account's purge timer (/0/x/12) starts, and later servers in the order may go.
    mutating func registrationSucceeded(_ ssid: UInt16) {
        if !fallbackEngaged { bootstrap.failures = 0 }
        scheduleBootstrapAccountPurge()
        startQueuedRegistrations()
    }

    /// One registration attempt failed: retry per Communication Retry Count/Timer, then per
    /// Sequence Delay/Retry Count; when all are spent the registration has failed, which
    /// starts a bootstrap when Bootstrap on Registration Failure (/1/x/16) says so.
    mutating func registrationAttemptFailed(_ ssid: UInt16, reason: String) {
        guard var registration = registrations[ssid] else { return }
        if let connection = registration.connection { close(connection) }
        let settings = registration.account.settings
        var retries = registration.retries
        retries.attempt += 1
        var retryIn: Duration?
        if retries.attempt < settings.retryCount {
            var delay = Duration.seconds(settings.retryTimer)
            // Doubling stops past ~136 years: a server-written timer or retry count must not
            // overflow the Duration (a trap).
            for _ in 1..<retries.attempt where delay < .seconds(Int64(UInt32.max)) { delay *= 2 }
            retryIn = delay
        } else {
            retries.attempt = 0
            retries.sequence += 1
            if retries.sequence < settings.sequenceRetryCount && settings.sequenceDelay < Int64(UInt32.max) {
                retryIn = .seconds(settings.sequenceDelay)
            }
        }
        if let retryIn {
            registration.state = .waiting(.init(until: now + retryIn, retries: retries,
                                                updatePending: registration.updatePending))
            registrations[ssid] = registration
            emit(.registrationFailed(ssid: ssid, reason: reason, retryIn: retryIn))
            return
        }
        registration.state = .failed(.init(retries: retries))
        registrations[ssid] = registration
        endManagement(ssid)
        emit(.registrationFailed(ssid: ssid, reason: reason, retryIn: nil))
        if settings.bootstrapOnRegistrationFailure && accounts.bootstrap != nil && !bootstrap.isActive {
            bootstrap.failures += 1
            startBootstrap(holdOff: true)
        }
        startQueuedRegistrations()
    }

    /// When to send the next Update: Lifetime/2 for lifetimes under 2 × MAX_TRANSMIT_WAIT,
    /// Lifetime − MAX_TRANSMIT_WAIT otherwise (protocol pitfall 10); at least one second.
    func updateInterval(_ lifetime: Int64) -> Duration {
        let lifetime = Duration.seconds(max(1, lifetime))
        let wait = configuration.endpoint.transmission.maxTransmitWait
        let interval = lifetime < wait * 2 ? lifetime / 2 : lifetime - wait
        return max(interval, .seconds(1))
    }

    /// An Update answered with an error: the server lost or refused the registration, so the
    /// client registers afresh on the same connection (protocol pitfall 11).
    mutating func updateRefused(_ ssid: UInt16, code: String, connection: ConnectionID, updatePending: Bool) {
        emit(.registrationFailed(ssid: ssid, reason: "Update answered \(code), registering again", retryIn: .zero))
        sendRegister(ssid, on: connection, retries: .init(), updatePending: updatePending)
    }

    /// An Update that got no answer (timeout, Reset): a new connection and a full Register
    /// (protocol pitfall 11).
    mutating func updateFailed(_ ssid: UInt16, _ failure: RequestFailure, connection: ConnectionID,
                               updatePending: Bool) {
        emit(.registrationFailed(ssid: ssid, reason: "Update: \(failure), registering again", retryIn: .zero))
        close(connection)
        connectRegistration(ssid, retries: .init(), updatePending: updatePending)
    }

    // MARK: - Bootstrap: when, back-off, success, failure, and the factory fallback
    // docs: "registration failed for good", "bootstrap fails", "a later bootstrap succeeds".

    /// Starts a client-initiated bootstrap unless one is under way: after the Client Hold Off
    /// Time when `holdOff`, at once otherwise, and never before the back-off of earlier
    /// failures (a server that keeps refusing registration must not make the client loop
    /// between bootstrap and registration). A bootstrap backing off is left to its timer.
    mutating func startBootstrap(holdOff: Bool) {
        guard stopping == nil, let account = accounts.bootstrap else { return }
        switch bootstrap.phase {
        case .idle: break
        case .backingOff, .holdOff, .connecting, .requesting, .session: return
        }
        let wait = holdOff ? Duration.seconds(max(0, account.clientHoldOffTime)) : .zero
        if bootstrap.failures > 0 {
            let backOff = bootstrapBackOff(failures: bootstrap.failures)
            bootstrap.phase = .backingOff(until: now + max(wait, backOff))
            return
        }
        if wait > .zero {
            bootstrap.phase = .holdOff(until: now + wait)
        } else {
            connectBootstrap()
        }
    }

    /// initial × 2^(failures − 1), capped at the maximum, plus up to 50 % jitter so a fleet
    /// does not come back in step (protocol pitfall 4).
    private mutating func bootstrapBackOff(failures: Int) -> Duration {
        var delay = configuration.bootstrapRetryInitial
        for _ in 1..<max(1, failures) where delay < configuration.bootstrapRetryMaximum { delay *= 2 }
        delay = min(delay, configuration.bootstrapRetryMaximum)
        let jitter = Double(random.next() % 1_000_001) / 1_000_000 * 0.5
        return delay + delay * jitter
    }

    /// Bootstrap-Finish passed the check: the new configuration is saved and the client moves
    /// to its servers.
    mutating func commitBootstrap() {
        if let connection = bootstrap.connection { close(connection) }
        bootstrap.phase = .idle
        bootstrap.snapshot = nil
        fallbackEngaged = false
        collectCredentialGarbage()
        actions.append(.saveState)
        emit(.bootstrapFinished)
        restartRegistrations()
    }

    /// The bootstrap failed: the old configuration comes back, a retry is scheduled with
    /// exponential back-off and jitter, and the factory fallback engages when no server is in
    /// use.
    mutating func bootstrapFailed(_ reason: String) {
        guard bootstrap.isActive else { return }
        dropSecretWrite()
        if let connection = bootstrap.connection { close(connection) }
        if let snapshot = bootstrap.snapshot {
            restoreWithoutSaving(snapshot)
            bootstrap.snapshot = nil
            collectCredentialGarbage()
        }
        bootstrap.failures += 1
        let delay = bootstrapBackOff(failures: bootstrap.failures)
        bootstrap.phase = .backingOff(until: now + delay)
        emit(.bootstrapFailed(reason: reason, retryIn: delay))
        engageFallbackIfIdle()
    }

    /// Factory-bootstrap fallback: when no server is registered or trying, register with the
    /// factory snapshot's servers while bootstrap keeps retrying.
    mutating func engageFallbackIfIdle() {
        guard stopping == nil,
              !registrations.values.contains(where: { $0.isActiveOrPending }) else { return }
        let factoryServers = AccountSet(security: factory.objects[0] ?? ObjectSnapshot(),
                                        server: factory.objects[1] ?? ObjectSnapshot()).servers
        guard !factoryServers.isEmpty else { return }
        if persistentState != factory {
            apply(factory)
            collectCredentialGarbage()
        }
        fallbackEngaged = true
        emit(.fallbackEngaged(servers: factoryServers.map(\.shortServerID)))
        restartRegistrations()
    }

    // MARK: - What the servers ask for
    // docs: "/1/x/4 Disable", "/1/x/9", "a management server deletes a Server instance".

    /// Runs the Server-object executes queued while answering requests.
    mutating func handleTriggers() {
        for trigger in triggers.take() {
            switch trigger {
            case .registrationUpdate(let instance):
                if let ssid = ssid(ofServerInstance: instance) { triggerUpdate(ssid) }
            case .bootstrapRequest:
                startBootstrap(holdOff: true)
            case .disable(let instance):
                if let ssid = ssid(ofServerInstance: instance) { disable(ssid) }
            }
        }
    }

    /// Disable (/1/x/4): De-register, then stay away for Disable Timeout (/1/x/5).
    mutating func disable(_ ssid: UInt16) {
        guard let registration = registrations[ssid] else { return }
        let settings = ServerSettings(instance: registration.account.settings.instance, object: servers)
            ?? registration.account.settings
        deregister(ssid, disableFor: .seconds(max(0, settings.disableTimeout)))
    }

    /// After a management server's request: a server whose account is gone (its Server
    /// instance deleted, and with it its Security instance, `ConfigurationGuard`) is
    /// de-registered; with no server account left, the start policy runs again — bootstrap, or
    /// the factory accounts — so the device never ends up unmanaged.
    mutating func accountsChanged() {
        // A bootstrap session rewrites the accounts; its Finish (or failure) decides.
        guard !bootstrap.inSession else { return }
        let current = accounts
        let remaining = Set(current.servers.map(\.shortServerID))
        let removed = registrationOrder.filter { !remaining.contains($0) && registrations[$0]?.isDeregistering != true }
        guard !removed.isEmpty else { return }
        for ssid in removed {
            emit(.accountDeleted(ssid: ssid))
            deregister(ssid)
        }
        if current.servers.isEmpty, !bootstrap.isActive { runStartPolicy() }
    }

    // MARK: - Factory reset
    // docs: "/3/0/5, `lwm2m-agent factory-reset`, SIGUSR1".

    /// Factory reset (/3/0/5, the CLI, SIGUSR1): de-register everywhere, drop the bootstrapped
    /// configuration for the factory snapshot, save, and start over.
    mutating func resetToFactory() {
        abandonBootstrap()
        for ssid in registrationOrder { deregister(ssid) }
        apply(factory)
        fallbackEngaged = false
        collectCredentialGarbage()
        emit(.factoryReset)
        actions.append(.saveState)
        runStartPolicy()
    }
}
