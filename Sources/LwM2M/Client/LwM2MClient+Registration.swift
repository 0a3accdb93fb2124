import CoAP

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

    mutating func connectRegistration(_ ssid: UInt16) {
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

    mutating func sendRegister(_ ssid: UInt16) {
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
            stayAwake(ssid)
            emit(.registered(ssid: ssid, location: location.joined(separator: "/"), lifetime: registration.sentLifetime))
            registrationSucceeded(ssid)
            if registration.updatePending { triggerUpdate(ssid) }
        case .updating:
            if message.code == .changed {
                registration.phase = .registered(updateAt: now + updateInterval(registration.sentLifetime))
                registrations[ssid] = registration
                emit(.updated(ssid: ssid))
                stayAwake(ssid)
                if registration.updatePending { triggerUpdate(ssid) }
            } else {
                updateRefused(ssid, code: code)
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
            updateFailed(ssid, failure)
        case .deregistering:
            finishDeregistration(ssid)
        default:
            break
        }
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
    mutating func endManagement(_ ssid: UInt16) {
        guard var session = management.removeValue(forKey: ssid) else { return }
        session.endObservations(endpoint: &endpoint)
    }
}
