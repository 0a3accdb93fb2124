import CoAP

extension LwM2MClient {
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

    /// Ends every registration (De-register where registered) and starts one per server
    /// account of the configuration now in force.
    mutating func restartRegistrations() {
        for ssid in registrationOrder { deregister(ssid) }
        for account in accounts.servers {
            if let old = registrations[account.shortServerID], old.isDeregistering {
                // The De-register of the old registration runs on its own connection; the new
                // registration takes over the slot once it is answered or times out.
                finishDeregistration(account.shortServerID)
            }
            registrations[account.shortServerID] = ServerRegistration(account: account)
        }
        registrationOrder = accounts.servers.map(\.shortServerID)
        startQueuedRegistrations()
    }

    /// Starts the queued servers whose turn it is: unordered servers at once, ordered ones
    /// after every earlier ordered one settled; a failed server with Registration Failure
    /// Block stops the ones after it.
    mutating func startQueuedRegistrations() {
        guard stopping == nil else { return }
        var blocked = false
        for ssid in registrationOrder {
            guard var registration = registrations[ssid] else { continue }
            let ordered = registration.account.settings.priorityOrder != nil
            if registration.phase == .queued && !(ordered && blocked) {
                let delay = registration.registeredOnce ? 0 : registration.account.settings.initialRegistrationDelay
                registration.phase = .waiting(until: now + .seconds(max(0, delay)))
                registrations[ssid] = registration
            }
            if ordered && !registration.isSettled { blocked = true }
            if ordered && registration.phase == .failed && registration.account.settings.registrationFailureBlock {
                blocked = true
            }
        }
        registrationTimersFired()
    }

    mutating func registrationTimersFired() {
        for ssid in registrationOrder {
            guard let registration = registrations[ssid] else { continue }
            switch registration.phase {
            case .waiting(let until) where now >= until:
                connectRegistration(ssid)
            case .registered(let updateAt) where now >= updateAt:
                sendUpdate(ssid)
            case .registered where registration.sleepsAt.map({ now >= $0 }) ?? false && !registration.asleep:
                fallAsleep(ssid)
            case .disabled(let until) where now >= until:
                registrations[ssid]!.phase = .waiting(until: now)
                connectRegistration(ssid)
            default:
                break
            }
        }
    }

    private mutating func connectRegistration(_ ssid: UInt16) {
        guard var registration = registrations[ssid] else { return }
        if let old = registration.connection { close(old) }
        let connection = nextConnection(.server(ssid))
        registration.connection = connection
        registration.phase = .connecting
        registrations[ssid] = registration
        emit(.registering(ssid: ssid, uri: registration.account.security.uri))
        actions.append(.open(connection, registration.account.security))
    }

    mutating func registrationConnectionOpened(_ connection: ConnectionID, ssid: UInt16) {
        guard let registration = registrations[ssid], registration.connection == connection,
              registration.phase == .connecting else { return }
        sendRegister(ssid)
    }

    private mutating func sendRegister(_ ssid: UInt16) {
        guard var registration = registrations[ssid], let connection = registration.connection else { return }
        let settings = registration.account.settings
        let links = InterfaceRequests.objectLinks(registry, contentFormat: configuration.preferredContentFormat)
        let request = InterfaceRequests.register(
            .init(endpointName: configuration.endpointName, lifetime: settings.lifetime, binding: settings.binding,
                  queueMode: settings.queueMode, version: configuration.version),
            objectLinks: links)
        registration.request = endpoint.send(request, to: connection, at: now)
        registration.phase = .registering
        registration.sentLinks = links
        registration.sentLifetime = settings.lifetime
        registration.sentBinding = settings.binding
        registrations[ssid] = registration
    }

    mutating func registrationAnswered(_ ssid: UInt16, _ message: CoAPMessage) {
        guard var registration = registrations[ssid] else { return }
        registration.request = nil
        registrations[ssid] = registration
        let code = message.code.description
        switch registration.phase {
        case .registering:
            guard message.code == .created, let location = InterfaceRequests.location(of: message) else {
                registrationAttemptFailed(ssid, reason: message.code == .created
                                          ? "Register answered 2.01 without a location" : "Register answered \(code)")
                return
            }
            registration.location = location
            registration.attempt = 0
            registration.sequence = 0
            registration.registeredOnce = true
            registration.phase = .registered(updateAt: now + updateInterval(registration.sentLifetime))
            registrations[ssid] = registration
            if management[ssid] == nil {
                management[ssid] = ManagementSession(server: ServerContext(shortServerID: ssid), registry: registry)
            }
            if !fallbackEngaged { bootstrap.failures = 0 }
            stayAwake(ssid)
            emit(.registered(ssid: ssid, location: location.joined(separator: "/"), lifetime: registration.sentLifetime))
            scheduleBootstrapAccountPurge()
            startQueuedRegistrations()
            if registration.updatePending { triggerUpdate(ssid) }
        case .updating:
            if message.code == .changed {
                registration.phase = .registered(updateAt: now + updateInterval(registration.sentLifetime))
                registrations[ssid] = registration
                emit(.updated(ssid: ssid))
                stayAwake(ssid)
                if registration.updatePending { triggerUpdate(ssid) }
            } else {
                // The server lost or refused the registration: register afresh (pitfall 11).
                emit(.registrationFailed(ssid: ssid, reason: "Update answered \(code), registering again", retryIn: .zero))
                sendRegister(ssid)
            }
        case .deregistering:
            finishDeregistration(ssid)
        default:
            break
        }
    }

    mutating func registrationRequestFailed(_ ssid: UInt16, _ failure: RequestFailure) {
        guard var registration = registrations[ssid] else { return }
        registration.request = nil
        registrations[ssid] = registration
        switch registration.phase {
        case .registering:
            registrationAttemptFailed(ssid, reason: "Register: \(failure)")
        case .updating:
            // A timeout on Update: a new connection and a full Register (pitfall 11).
            emit(.registrationFailed(ssid: ssid, reason: "Update: \(failure), registering again", retryIn: .zero))
            registrations[ssid]!.phase = .waiting(until: now)
            connectRegistration(ssid)
        case .deregistering:
            finishDeregistration(ssid)
        default:
            break
        }
    }

    /// One registration attempt failed: retry per Communication Retry Count/Timer, then per
    /// Sequence Delay/Retry Count; when all are spent the registration has failed, which
    /// starts a bootstrap when Bootstrap on Registration Failure (/1/x/16) says so.
    mutating func registrationAttemptFailed(_ ssid: UInt16, reason: String) {
        guard var registration = registrations[ssid] else { return }
        if let connection = registration.connection { close(connection) }
        registration.connection = nil
        let settings = registration.account.settings
        registration.attempt += 1
        var retryIn: Duration?
        if registration.attempt < settings.retryCount {
            var delay = Duration.seconds(settings.retryTimer)
            // Doubling stops past ~136 years: a server-written timer or retry count must not
            // overflow the Duration (a trap).
            for _ in 1..<registration.attempt where delay < .seconds(Int64(UInt32.max)) { delay *= 2 }
            retryIn = delay
        } else {
            registration.attempt = 0
            registration.sequence += 1
            if registration.sequence < settings.sequenceRetryCount && settings.sequenceDelay < Int64(UInt32.max) {
                retryIn = .seconds(settings.sequenceDelay)
            }
        }
        if let retryIn {
            registration.phase = .waiting(until: now + retryIn)
            registrations[ssid] = registration
            emit(.registrationFailed(ssid: ssid, reason: reason, retryIn: retryIn))
            return
        }
        registration.phase = .failed
        registrations[ssid] = registration
        endManagement(ssid)
        emit(.registrationFailed(ssid: ssid, reason: reason, retryIn: nil))
        if settings.bootstrapOnRegistrationFailure && accounts.bootstrap != nil && !bootstrap.isActive {
            bootstrap.failures += 1
            startBootstrap(holdOff: true)
        }
        startQueuedRegistrations()
    }

    /// Update now (Registration Update Trigger, changed parameters or objects), or right after
    /// the one in flight.
    mutating func triggerUpdate(_ ssid: UInt16) {
        guard let registration = registrations[ssid] else { return }
        switch registration.phase {
        case .registered: sendUpdate(ssid)
        case .updating, .registering, .connecting, .waiting: registrations[ssid]!.updatePending = true
        default: break
        }
    }

    private mutating func sendUpdate(_ ssid: UInt16) {
        guard var registration = registrations[ssid], let connection = registration.connection else { return }
        let settings = registration.account.settings
        let sent = ServerSettings.transportAndQueueMode(of: registration.sentBinding)
        if settings.queueMode != sent.queueMode {
            // LwM2M 1.1 signals queue mode in Register only (`Q`): register again.
            registration.updatePending = false
            registrations[ssid] = registration
            emit(.updating(ssid: ssid))
            sendRegister(ssid)
            return
        }
        let links = InterfaceRequests.objectLinks(registry, contentFormat: configuration.preferredContentFormat)
        let request = InterfaceRequests.update(
            location: registration.location,
            lifetime: settings.lifetime != registration.sentLifetime ? settings.lifetime : nil,
            binding: settings.transportBinding != sent.transport ? settings.transportBinding : nil,
            objectLinks: links != registration.sentLinks ? links : nil)
        registration.request = endpoint.send(request, to: connection, at: now)
        registration.phase = .updating
        registration.updatePending = false
        registration.sentLinks = links
        registration.sentLifetime = settings.lifetime
        registration.sentBinding = settings.binding
        registrations[ssid] = registration
        emit(.updating(ssid: ssid))
    }

    /// When to send the next Update: Lifetime/2 for lifetimes under 2 × MAX_TRANSMIT_WAIT,
    /// Lifetime − MAX_TRANSMIT_WAIT otherwise (protocol pitfall 10); at least one second.
    func updateInterval(_ lifetime: Int64) -> Duration {
        let lifetime = Duration.seconds(max(1, lifetime))
        let wait = configuration.endpoint.transmission.maxTransmitWait
        let interval = lifetime < wait * 2 ? lifetime / 2 : lifetime - wait
        return max(interval, .seconds(1))
    }

    /// After `changes` in the registry: an Update for registered servers whose lifetime,
    /// binding or object links changed, and their notification defaults reloaded. Value changes
    /// outside the Server object (sensor readings) cost nothing here.
    mutating func registrationParametersMayHaveChanged(_ changes: [LwM2MPath]) {
        let structural = changes.contains { $0.depth <= 2 }
        guard structural || changes.contains(where: { $0.objectID == 1 }) else { return }
        for ssid in registrationOrder {
            guard var registration = registrations[ssid], registration.isRegistered,
                  let settings = ServerSettings(instance: registration.account.settings.instance, object: servers),
                  settings.shortServerID == ssid else { continue }
            registration.account.settings = settings
            registrations[ssid] = registration
            management[ssid]?.reloadServerSettings(from: registry)
            let linksChanged = structural
                && InterfaceRequests.objectLinks(registry, contentFormat: configuration.preferredContentFormat)
                    != registration.sentLinks
            if settings.lifetime != registration.sentLifetime || settings.binding != registration.sentBinding
                || linksChanged {
                triggerUpdate(ssid)
            }
        }
    }

    /// De-registers from `ssid` if registered; otherwise drops the registration at once.
    mutating func deregister(_ ssid: UInt16) {
        guard var registration = registrations[ssid], !registration.isDeregistering else { return }
        guard registration.isRegistered, let connection = registration.connection else {
            finishDeregistration(ssid)
            return
        }
        if let pending = registration.request { endpoint.cancel(pending, at: now) }
        registration.request = endpoint.send(InterfaceRequests.deregister(location: registration.location),
                                             to: connection, at: now)
        registration.phase = .deregistering
        registrations[ssid] = registration
    }

    /// The De-register was answered (or could not be sent): the connection closes; the server
    /// is disabled for a while when /1/x/4 asked for it, forgotten otherwise.
    mutating func finishDeregistration(_ ssid: UInt16) {
        guard var registration = registrations[ssid] else { return }
        if let connection = registration.connection { close(connection) }
        let wasRegistered = registration.isRegistered || registration.isDeregistering
        endManagement(ssid)
        if wasRegistered { emit(.deregistered(ssid: ssid)) }
        if let duration = registration.disableFor {
            registration.disableFor = nil
            registration.connection = nil
            registration.phase = .disabled(until: now + duration)
            registrations[ssid] = registration
            emit(.disabled(ssid: ssid, for: duration))
        } else {
            registrations[ssid] = nil
            registrationOrder.removeAll { $0 == ssid }
        }
    }

    /// Disable (/1/x/4): De-register, then stay away for Disable Timeout (/1/x/5).
    mutating func disable(_ ssid: UInt16) {
        guard var registration = registrations[ssid] else { return }
        let settings = ServerSettings(instance: registration.account.settings.instance, object: servers)
            ?? registration.account.settings
        registration.disableFor = .seconds(max(0, settings.disableTimeout))
        registrations[ssid] = registration
        deregister(ssid)
    }

    // MARK: - Queue mode

    /// The server just heard from the client (Register, Update) or asked something: in queue
    /// mode the client stays reachable for the awake time, and notifications stored while it
    /// slept go out.
    mutating func stayAwake(_ ssid: UInt16) {
        guard var registration = registrations[ssid], registration.account.settings.queueMode else { return }
        registration.sleepsAt = now + configuration.awakeTime
        let wasAsleep = registration.asleep
        registration.asleep = false
        registrations[ssid] = registration
        if wasAsleep, management[ssid] != nil {
            management[ssid]!.reporting.setOnline(true)
            management[ssid]!.report(changes: [], registry: registry, endpoint: &endpoint, at: now)
        }
    }

    /// Queue mode: the awake time passed without traffic; notifications are stored (or
    /// suspended, per /1/x/6) until the client wakes with an Update.
    private mutating func fallAsleep(_ ssid: UInt16) {
        guard registrations[ssid] != nil else { return }
        registrations[ssid]!.asleep = true
        management[ssid]?.reporting.setOnline(false)
    }

    /// A sleeping client with something to report wakes itself with an Update (the server
    /// sends queued requests when it sees it).
    mutating func wakeForStoredNotifications() {
        for ssid in registrationOrder {
            guard let registration = registrations[ssid], registration.asleep,
                  management[ssid]?.reporting.storedNotifications.isEmpty == false else { continue }
            triggerUpdate(ssid)
        }
    }

    /// Ends the observations of `ssid` and forgets its management session.
    private mutating func endManagement(_ ssid: UInt16) {
        guard var session = management.removeValue(forKey: ssid) else { return }
        session.endObservations(endpoint: &endpoint)
    }
}
