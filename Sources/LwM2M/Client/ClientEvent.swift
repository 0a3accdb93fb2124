import CoAP

/// What happened, for logs and for whoever watches the agent. Every policy transition is one.
public enum ClientEvent: Hashable, Sendable, CustomStringConvertible {
    case bootstrapPending(uri: String)
    case bootstrapFinished
    case bootstrapFailed(reason: String, retryIn: Duration?)
    case fallbackEngaged(servers: [UInt16])
    case registering(ssid: UInt16, uri: String)
    case registered(ssid: UInt16, location: String, lifetime: Int64)
    case updating(ssid: UInt16)
    case updated(ssid: UInt16)
    case registrationFailed(ssid: UInt16, reason: String, retryIn: Duration?)
    case deregistered(ssid: UInt16)
    case disabled(ssid: UInt16, for: Duration)
    case factoryReset
    /// A management server deleted server `ssid`'s account (its Server instance).
    case accountDeleted(ssid: UInt16)
    /// The configuration had no usable account: the factory snapshot is in force again.
    case usingFactoryAccounts
    case noAccounts

    public var description: String {
        func seconds(_ duration: Duration?) -> String {
            guard let duration else { return "" }
            // No `seconds * 1000`: a retry timer a server wrote (/1/x/18) can be near Int64.max.
            let (whole, attoseconds) = duration.components
            let ms = attoseconds / 1_000_000_000_000_000
            return ", retry in \(whole).\(String(ms + 1000).dropFirst()) s"
        }
        switch self {
        case .bootstrapPending(let uri): return "bootstrap pending: \(uri)"
        case .bootstrapFinished: return "bootstrap finished"
        case .bootstrapFailed(let reason, let retry): return "bootstrap failed: \(reason)\(seconds(retry))"
        case .fallbackEngaged(let servers):
            return "factory-bootstrap fallback engaged: servers \(servers.map(String.init).joined(separator: ", "))"
        case .registering(let ssid, let uri): return "server \(ssid): registering at \(uri)"
        case .registered(let ssid, let location, let lifetime):
            return "server \(ssid): registered at /\(location), lifetime \(lifetime) s"
        case .updating(let ssid): return "server \(ssid): updating registration"
        case .updated(let ssid): return "server \(ssid): registration updated"
        case .registrationFailed(let ssid, let reason, let retry):
            return "server \(ssid): registration failed: \(reason)\(seconds(retry))"
        case .deregistered(let ssid): return "server \(ssid): de-registered"
        case .disabled(let ssid, let duration): return "server \(ssid): disabled for \(duration.components.seconds) s"
        case .factoryReset: return "factory reset: configuration back to the factory snapshot"
        case .accountDeleted(let ssid): return "server \(ssid): account deleted by a management server, de-registering"
        case .usingFactoryAccounts:
            return "no usable server or bootstrap account in the configuration: using the factory accounts"
        case .noAccounts: return "no bootstrap or server account configured: nothing to do"
        }
    }
}
