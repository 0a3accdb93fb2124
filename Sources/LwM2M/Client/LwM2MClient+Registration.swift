import CoAP

// The Registration interface's mechanics: connections, Register, Update, De-register, queue
// mode. What to do when they succeed or fail is decided in LwM2MClient+Policy.swift; the states
// are ServerRegistration's.

extension LwM2MClient {
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

    mutating func registrationTimersFired() {
        for ssid in registrationOrder {
            guard let registration = registrations[ssid] else { continue }
            switch registration.state {
            case .waiting(let waiting) where now >= waiting.until:
                connectRegistration(ssid, retries: waiting.retries, updatePending: waiting.updatePending)
            case .registered(let registered) where now >= registered.updateAt:
                sendUpdate(ssid)
            case .registered:
                if case .awake(let sleepsAt?) = registration.reachability, now >= sleepsAt { fallAsleep(ssid) }
            case .disabled(let disabled) where now >= disabled.until:
                connectRegistration(ssid, retries: disabled.retries, updatePending: false)
            default:
                break
            }
        }
    }

    /// Opens a new connection to server `ssid` (the Register follows when it is up). An old
    /// connection is the caller's to close.
    mutating func connectRegistration(_ ssid: UInt16, retries: ServerRegistration.Retries, updatePending: Bool) {
        guard var registration = registrations[ssid] else { return }
        let connection = nextConnection(.server(ssid))
        registration.state = .connecting(.init(connection: connection, retries: retries, updatePending: updatePending))
        registrations[ssid] = registration
        emit(.registering(ssid: ssid, uri: registration.account.security.uri))
        actions.append(.open(connection, registration.account.security))
    }

    mutating func registrationConnectionOpened(_ connection: ConnectionID, ssid: UInt16) {
        guard case .connecting(let connecting)? = registrations[ssid]?.state,
              connecting.connection == connection else { return }
        sendRegister(ssid, on: connection, retries: connecting.retries, updatePending: connecting.updatePending)
    }

    /// Sends a Register on `connection` with the current parameters and object links.
    mutating func sendRegister(_ ssid: UInt16, on connection: ConnectionID, retries: ServerRegistration.Retries,
                               updatePending: Bool) {
        guard var registration = registrations[ssid] else { return }
        let settings = registration.account.settings
        let links = InterfaceRequests.objectLinks(registry, contentFormat: configuration.preferredContentFormat)
        let request = InterfaceRequests.register(
            .init(endpointName: configuration.endpointName, lifetime: settings.lifetime, binding: settings.binding,
                  queueMode: settings.queueMode, version: configuration.version),
            objectLinks: links)
        let id = endpoint.send(request, to: connection, at: now)
        registration.state = .registering(.init(
            connection: connection, request: id, retries: retries,
            announced: .init(links: links, lifetime: settings.lifetime, binding: settings.binding),
            updatePending: updatePending))
        registrations[ssid] = registration
    }

    mutating func registrationAnswered(_ ssid: UInt16, _ message: CoAPMessage) {
        guard var registration = registrations[ssid] else { return }
        let code = message.code.description
        switch registration.state {
        case .registering(let registering):
            guard message.code == .created, let location = InterfaceRequests.location(of: message) else {
                registrationAttemptFailed(ssid, reason: message.code == .created
                                          ? "Register answered 2.01 without a location" : "Register answered \(code)")
                return
            }
            let lifetime = registering.announced.lifetime
            registration.registeredOnce = true
            registration.state = .registered(.init(connection: registering.connection, location: location,
                                                   announced: registering.announced,
                                                   updateAt: now + updateInterval(lifetime)))
            registrations[ssid] = registration
            if management[ssid] == nil {
                management[ssid] = ManagementSession(server: ServerContext(shortServerID: ssid), registry: registry)
            }
            stayAwake(ssid)
            emit(.registered(ssid: ssid, location: location.joined(separator: "/"), lifetime: lifetime))
            registrationSucceeded(ssid)
            if registering.updatePending { triggerUpdate(ssid) }
        case .updating(let updating):
            guard message.code == .changed else {
                updateRefused(ssid, code: code, connection: updating.connection, updatePending: updating.updatePending)
                return
            }
            registration.state = .registered(.init(connection: updating.connection, location: updating.location,
                                                   announced: updating.announced,
                                                   updateAt: now + updateInterval(updating.announced.lifetime)))
            registrations[ssid] = registration
            emit(.updated(ssid: ssid))
            stayAwake(ssid)
            if updating.updatePending { triggerUpdate(ssid) }
        case .deregistering:
            finishDeregistration(ssid)
        default:
            break
        }
    }

    mutating func registrationRequestFailed(_ ssid: UInt16, _ failure: RequestFailure) {
        guard let registration = registrations[ssid] else { return }
        switch registration.state {
        case .registering:
            registrationAttemptFailed(ssid, reason: "Register: \(failure)")
        case .updating(let updating):
            updateFailed(ssid, failure, connection: updating.connection, updatePending: updating.updatePending)
        case .deregistering:
            finishDeregistration(ssid)
        default:
            break
        }
    }

    /// Update now (Registration Update Trigger, changed parameters or objects), or right after
    /// the Register or Update on the way.
    mutating func triggerUpdate(_ ssid: UInt16) {
        guard var registration = registrations[ssid] else { return }
        if case .registered = registration.state {
            sendUpdate(ssid)
        } else if registration.markUpdatePending() {
            registrations[ssid] = registration
        }
    }

    private mutating func sendUpdate(_ ssid: UInt16) {
        guard var registration = registrations[ssid], case .registered(let registered) = registration.state else {
            return
        }
        let settings = registration.account.settings
        let sent = ServerSettings.transportAndQueueMode(of: registered.announced.binding)
        if settings.queueMode != sent.queueMode {
            // LwM2M 1.1 signals queue mode in Register only (`Q`): register again.
            emit(.updating(ssid: ssid))
            sendRegister(ssid, on: registered.connection, retries: .init(), updatePending: false)
            return
        }
        let links = InterfaceRequests.objectLinks(registry, contentFormat: configuration.preferredContentFormat)
        let request = InterfaceRequests.update(
            location: registered.location,
            lifetime: settings.lifetime != registered.announced.lifetime ? settings.lifetime : nil,
            binding: settings.transportBinding != sent.transport ? settings.transportBinding : nil,
            objectLinks: links != registered.announced.links ? links : nil)
        let id = endpoint.send(request, to: registered.connection, at: now)
        registration.state = .updating(.init(
            connection: registered.connection, request: id, location: registered.location,
            announced: .init(links: links, lifetime: settings.lifetime, binding: settings.binding),
            updatePending: false))
        registrations[ssid] = registration
        emit(.updating(ssid: ssid))
    }

    /// After `changes` in the registry: an Update for registered servers whose lifetime,
    /// binding or object links changed, and their notification defaults reloaded. Value changes
    /// outside the Server object (sensor readings) cost nothing here.
    mutating func registrationParametersMayHaveChanged(_ changes: [LwM2MPath]) {
        let structural = changes.contains { $0.depth <= 2 }
        guard structural || changes.contains(where: { $0.objectID == 1 }) else { return }
        for ssid in registrationOrder {
            guard var registration = registrations[ssid], let announced = registration.announced,
                  let settings = ServerSettings(instance: registration.account.settings.instance, object: servers),
                  settings.shortServerID == ssid else { continue }
            registration.account.settings = settings
            registrations[ssid] = registration
            management[ssid]?.reloadServerSettings(from: registry)
            let linksChanged = structural
                && InterfaceRequests.objectLinks(registry, contentFormat: configuration.preferredContentFormat)
                    != announced.links
            if settings.lifetime != announced.lifetime || settings.binding != announced.binding || linksChanged {
                triggerUpdate(ssid)
            }
        }
    }

    /// De-registers from `ssid` if registered; otherwise drops the registration at once. With
    /// `disableFor` (/1/x/4), the server is disabled for that long afterwards.
    mutating func deregister(_ ssid: UInt16, disableFor: Duration? = nil) {
        guard var registration = registrations[ssid] else { return }
        let connection: ConnectionID
        let location: [String]
        switch registration.state {
        case .registered(let registered):
            connection = registered.connection
            location = registered.location
        case .updating(let updating):
            endpoint.cancel(updating.request, at: now)
            connection = updating.connection
            location = updating.location
        case .deregistering(var deregistering):
            // Already on the way out; a Disable asked for now applies once it is done.
            if let disableFor {
                deregistering.disableFor = disableFor
                registration.state = .deregistering(deregistering)
                registrations[ssid] = registration
            }
            return
        case .queued, .waiting, .connecting, .registering, .disabled, .failed:
            finishDeregistration(ssid, disableFor: disableFor)
            return
        }
        let id = endpoint.send(InterfaceRequests.deregister(location: location), to: connection, at: now)
        registration.state = .deregistering(.init(connection: connection, request: id, disableFor: disableFor))
        registrations[ssid] = registration
    }

    /// The De-register was answered (or could not be sent, or there was no registration to end):
    /// the connection closes; the server is disabled for a while when /1/x/4 asked for it,
    /// forgotten otherwise.
    mutating func finishDeregistration(_ ssid: UInt16, disableFor: Duration? = nil) {
        guard var registration = registrations[ssid] else { return }
        if let connection = registration.connection { close(connection) }
        var disableFor = disableFor
        if case .deregistering(let deregistering) = registration.state { disableFor = deregistering.disableFor }
        let wasRegistered = registration.isRegistered || registration.isDeregistering
        endManagement(ssid)
        if wasRegistered { emit(.deregistered(ssid: ssid)) }
        if let duration = disableFor {
            registration.state = .disabled(.init(until: now + duration, retries: registration.retries))
            registrations[ssid] = registration
            emit(.disabled(ssid: ssid, for: duration))
        } else {
            registrations[ssid] = nil
            registrationOrder.removeAll { $0 == ssid }
        }
    }

    // MARK: - Queue mode

    /// The server just heard from the client (Register, Update) or asked something: in queue
    /// mode the client stays reachable for the awake time, and notifications stored while it
    /// slept go out.
    mutating func stayAwake(_ ssid: UInt16) {
        guard var registration = registrations[ssid], registration.account.settings.queueMode else { return }
        let wasAsleep = registration.isAsleep
        registration.reachability = .awake(until: now + configuration.awakeTime)
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
        registrations[ssid]!.reachability = .asleep
        management[ssid]?.reporting.setOnline(false)
    }

    /// A sleeping client with something to report wakes itself with an Update (the server
    /// sends queued requests when it sees it).
    mutating func wakeForStoredNotifications() {
        for ssid in registrationOrder {
            guard registrations[ssid]?.isAsleep == true,
                  management[ssid]?.reporting.storedNotifications.isEmpty == false else { continue }
            triggerUpdate(ssid)
        }
    }

    /// Ends the observations of `ssid` and forgets its management session.
    mutating func endManagement(_ ssid: UInt16) {
        guard var session = management.removeValue(forKey: ssid) else { return }
        session.endObservations(endpoint: &endpoint)
    }
}
