import CoAP

/// One connection the client keeps to a server: the bootstrap server or management server
/// `ssid`. `generation` grows with every new connection to the same server, so datagrams of a
/// connection the client already replaced are recognised and dropped.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// Which account the connection serves.
    public enum Role: Hashable, Sendable {
        case bootstrap
        case server(UInt16)
    }

    public let role: Role
    public let generation: UInt32

    public init(role: Role, generation: UInt32) {
        self.role = role
        self.generation = generation
    }

    public var description: String {
        switch role {
        case .bootstrap: "bootstrap#\(generation)"
        case .server(let ssid): "server \(ssid)#\(generation)"
        }
    }
}

/// What the outer layer must do for the client.
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
}

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

/// How the client behaves, beyond what the Security and Server objects say.
public struct ClientConfiguration: Sendable {
    /// The endpoint client name (`ep`).
    public var endpointName: String
    /// The LwM2M version announced (`lwm2m`).
    public var version = "1.1"
    /// The preferred content format announced in Bootstrap-Request (`pct`) and Register (`ct`).
    public var preferredContentFormat: UInt16 = ContentFormat.senmlCBOR
    /// Bootstrap at every start even with usable server accounts (1NCE-style services that
    /// regenerate credentials per bootstrap, protocol pitfall 8).
    public var bootstrapOnEveryStart = false
    /// First delay before retrying a failed bootstrap; doubles per failure up to the maximum,
    /// plus up to 50 % random jitter.
    public var bootstrapRetryInitial: Duration = .seconds(10)
    public var bootstrapRetryMaximum: Duration = .seconds(3600)
    /// How long a bootstrap session may go without a command before it fails; nil means
    /// EXCHANGE_LIFETIME of the transmission parameters (247 s by default).
    public var bootstrapSessionTimeout: Duration?
    /// The security modes the outer layer can open connections with.
    public var supportedSecurityModes: Set<SecurityMode> = [.noSecurity]
    /// The CoAP endpoint's parameters.
    public var endpoint = EndpointConfiguration()
    /// Queue mode (Binding "UQ"): how long the client stays reachable after a Register, an
    /// Update or a server's request before it goes to sleep and stores notifications; nil means
    /// MAX_TRANSMIT_WAIT (93 s with the default transmission parameters).
    public var queueModeAwakeTime: Duration?
    /// How long stop() waits for De-register responses before giving up.
    public var deregistrationTimeout: Duration = .seconds(5)

    public init(endpointName: String) {
        self.endpointName = endpointName
    }

    /// The queue-mode awake time in effect.
    var awakeTime: Duration { queueModeAwakeTime ?? endpoint.transmission.maxTransmitWait }

    /// The bootstrap session timeout in effect.
    var sessionTimeout: Duration {
        bootstrapSessionTimeout ?? endpoint.transmission.exchangeLifetime
    }
}

/// The configuration objects (Security 0, Server 1, Access Control 2) as values: the factory
/// snapshot, the state file's content, and what a failed bootstrap restores.
public struct ConfigurationSnapshot: Hashable, Sendable {
    public var objects: [UInt16: ObjectSnapshot]

    public init(objects: [UInt16: ObjectSnapshot] = [:]) {
        self.objects = objects
    }

    /// Every credential name the snapshot refers to.
    public var credentialReferences: Set<CredentialReference> {
        objects.values.reduce(into: []) { $0.formUnion(ProvisionedObject.credentialReferences(in: $1)) }
    }
}

/// Executes of the Server object (/1/x/4, /8, /9), queued for the client to act on after the
/// response went out.
final class ServerTriggers: @unchecked Sendable {
    enum Trigger: Hashable {
        case disable(instance: UInt16)
        case registrationUpdate(instance: UInt16)
        case bootstrapRequest(instance: UInt16)
    }

    var pending: [Trigger] = []

    func take() -> [Trigger] {
        defer { pending = [] }
        return pending
    }
}
