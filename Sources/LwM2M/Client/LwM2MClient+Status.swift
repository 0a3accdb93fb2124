import CoAP

extension LwM2MClient {
    /// The client's status now (see ``ClientStatus``).
    public var status: ClientStatus {
        var servers: [ClientStatus.Server] = []
        for ssid in registrationOrder {
            guard let registration = registrations[ssid] else { continue }
            let phase: ClientStatus.RegistrationPhase = switch registration.state {
            case .queued: .queued
            case .waiting(let step): .waiting(until: step.until)
            case .connecting: .connecting
            case .registering: .registering
            case .registered(let step): .registered(location: "/" + step.location.joined(separator: "/"), updateAt: step.updateAt)
            case .updating(let step): .updating(location: "/" + step.location.joined(separator: "/"))
            case .deregistering: .deregistering
            case .disabled(let step): .disabled(until: step.until)
            case .failed: .failed
            }
            var observations: [String] = []
            if let reporting = management[ssid]?.reporting {
                for observation in reporting.observations {
                    if let paths = reporting.paths(of: observation) {
                        observations.append(paths.map(\.description).joined(separator: ","))
                    } else if let path = reporting.path(of: observation) {
                        observations.append(path.description)
                    }
                }
            }
            let settings = registration.account.settings
            servers.append(ClientStatus.Server(
                shortServerID: ssid, uri: registration.account.security.uri, lifetime: settings.lifetime,
                binding: settings.binding, phase: phase, attempt: registration.retries.attempt,
                sequence: registration.retries.sequence, asleep: registration.isAsleep, observations: observations))
        }
        var bootstrapStatus: ClientStatus.Bootstrap?
        if let account = accounts.bootstrap {
            let phase: ClientStatus.BootstrapPhase = switch bootstrap.phase {
            case .idle: .idle
            case .holdOff(let until): .holdOff(until: until)
            case .connecting: .connecting
            case .requesting: .requesting
            case .session: .inSession
            case .backingOff(let until): .backingOff(until: until)
            }
            bootstrapStatus = ClientStatus.Bootstrap(uri: account.uri, phase: phase, failures: bootstrap.failures)
        }
        return ClientStatus(bootstrap: bootstrapStatus, servers: servers, fallbackEngaged: fallbackEngaged,
                            stopping: stopping != nil)
    }
}
