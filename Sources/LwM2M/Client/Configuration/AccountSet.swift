/// LwM2M Security Mode (/0/x/2).
public enum SecurityMode: Int64, Hashable, Sendable, CustomStringConvertible {
    case preSharedKey = 0
    case rawPublicKey = 1
    case certificate = 2
    case noSecurity = 3
    case certificateWithEST = 4

    public var description: String {
        switch self {
        case .preSharedKey: "PSK"
        case .rawPublicKey: "RPK"
        case .certificate: "X.509"
        case .noSecurity: "NoSec"
        case .certificateWithEST: "X.509 with EST"
        }
    }
}

/// One Security-object instance as the client uses it: where a server is and how to secure the
/// connection. Secrets stay in the credential store; `secretKey` only names them.
public struct SecurityAccount: Hashable, Sendable {
    /// The Security-object instance ID.
    public var instance: UInt16
    /// LwM2M Server URI (/0/x/0).
    public var uri: String
    /// Bootstrap-Server (/0/x/1).
    public var isBootstrap: Bool
    /// Security Mode (/0/x/2); nil when absent or unknown.
    public var mode: SecurityMode?
    /// The raw Security Mode value, for error messages about unknown modes.
    public var rawMode: Int64?
    /// Public Key or Identity (/0/x/3): PSK identity or client certificate (not secret).
    public var identity: [UInt8]
    /// Server Public Key (/0/x/4): the server certificate or trust anchor.
    public var serverPublicKey: [UInt8]
    /// Where Secret Key (/0/x/5) is stored, if provisioned.
    public var secretKey: CredentialReference?
    /// Short Server ID (/0/x/10).
    public var shortServerID: UInt16?
    /// Client Hold Off Time (/0/x/11), seconds.
    public var clientHoldOffTime: Int64
    /// Bootstrap-Server Account Timeout (/0/x/12), seconds; 0 = never purged.
    public var bootstrapAccountTimeout: Int64
    /// SNI (/0/x/14).
    public var serverNameIndication: String?
    /// Certificate Usage (/0/x/15), 3 (domain-issued certificate) when absent.
    public var certificateUsage: UInt64
    /// DTLS/TLS Ciphersuite (/0/x/16): IANA cipher-suite IDs.
    public var cipherSuites: [UInt64]

    /// Reads the account of Security instance `instance` from `object`.
    public init(instance: UInt16, object: ProvisionedObject) {
        self.init(instance: instance, snapshot: object.snapshot())
    }

    /// Reads the account of Security instance `instance` from a snapshot of the Security object.
    public init(instance: UInt16, snapshot: ObjectSnapshot) {
        let resources = snapshot.instances[instance] ?? [:]
        self.instance = instance
        uri = resources[0]?.stringValue ?? ""
        isBootstrap = resources[1]?.boolValue ?? false
        rawMode = resources[2]?.integerValue
        mode = rawMode.flatMap(SecurityMode.init(rawValue:))
        identity = resources[3]?.opaqueValue ?? []
        serverPublicKey = resources[4]?.opaqueValue ?? []
        secretKey = snapshot.secrets[instance]?[5]
        shortServerID = resources[10]?.integerValue.flatMap(UInt16.init(exactly:))
        clientHoldOffTime = resources[11]?.integerValue ?? 0
        bootstrapAccountTimeout = resources[12]?.integerValue ?? 0
        serverNameIndication = resources[14]?.stringValue
        certificateUsage = resources[15]?.integerValue.flatMap(UInt64.init(exactly:)) ?? 3
        if case .multiple(let values)? = resources[16] {
            cipherSuites = values.keys.sorted().compactMap { values[$0]!.integerValue.flatMap(UInt64.init(exactly:)) }
        } else {
            cipherSuites = []
        }
    }
}

/// One Server-object instance: how the client registers and stays registered. Absent optional
/// resources take the TS 1.1 defaults (Table 6.2.1.1-1 "Registration Procedures Default
/// Values").
public struct ServerSettings: Hashable, Sendable {
    /// The Server-object instance ID.
    public var instance: UInt16
    /// Short Server ID (/1/x/0).
    public var shortServerID: UInt16
    /// Lifetime (/1/x/1), seconds.
    public var lifetime: Int64
    /// Default Minimum Period (/1/x/2) and Default Maximum Period (/1/x/3), seconds.
    public var defaultMinimumPeriod: Int64?
    public var defaultMaximumPeriod: Int64?
    /// Disable Timeout (/1/x/5), default 86400 s.
    public var disableTimeout: Int64
    /// Notification Storing When Disabled or Offline (/1/x/6), default true.
    public var storesNotifications: Bool
    /// Binding (/1/x/7), e.g. "U" or "UQ".
    public var binding: String
    /// Registration Priority Order (/1/x/13); nil = not ordered.
    public var priorityOrder: UInt64?
    /// Initial Registration Delay Timer (/1/x/14), default 0 s.
    public var initialRegistrationDelay: Int64
    /// Registration Failure Block (/1/x/15), default false.
    public var registrationFailureBlock: Bool
    /// Bootstrap on Registration Failure (/1/x/16), default true.
    public var bootstrapOnRegistrationFailure: Bool
    /// Communication Retry Count (/1/x/17), default 5.
    public var retryCount: Int64
    /// Communication Retry Timer (/1/x/18), default 60 s.
    public var retryTimer: Int64
    /// Communication Sequence Delay Timer (/1/x/19), default 86400 s.
    public var sequenceDelay: Int64
    /// Communication Sequence Retry Count (/1/x/20), default 1.
    public var sequenceRetryCount: Int64
    /// Mute Send (/1/x/23), default false.
    public var muteSend: Bool

    /// Reads Server instance `instance` from `object`; nil without a valid Short Server ID.
    public init?(instance: UInt16, object: ProvisionedObject) {
        self.init(instance: instance, snapshot: object.snapshot())
    }

    /// Reads Server instance `instance` from a snapshot of the Server object; nil without a
    /// valid Short Server ID.
    public init?(instance: UInt16, snapshot: ObjectSnapshot) {
        let resources = snapshot.instances[instance] ?? [:]
        func value(_ resource: UInt16) -> ResourceContent? { resources[resource] }
        guard let ssid = value(0)?.integerValue.flatMap(UInt16.init(exactly:)), ssid != 0, ssid != 65535 else {
            return nil
        }
        self.instance = instance
        shortServerID = ssid
        // A Lifetime out of range (a configuration saved before writes were checked) counts
        // as absent: the TS default, never a zero or negative `lt` and Updates back to back.
        lifetime = value(1)?.integerValue.flatMap { ServerObjectRules.lifetimeRange.contains($0) ? $0 : nil } ?? 86400
        defaultMinimumPeriod = value(2)?.integerValue
        defaultMaximumPeriod = value(3)?.integerValue
        disableTimeout = value(5)?.integerValue ?? 86400
        storesNotifications = value(6)?.boolValue ?? true
        binding = value(7)?.stringValue ?? "U"
        priorityOrder = value(13)?.integerValue.flatMap(UInt64.init(exactly:))
        initialRegistrationDelay = value(14)?.integerValue ?? 0
        registrationFailureBlock = value(15)?.boolValue ?? false
        bootstrapOnRegistrationFailure = value(16)?.boolValue ?? true
        retryCount = max(1, value(17)?.integerValue ?? 5)
        retryTimer = max(0, value(18)?.integerValue ?? 60)
        sequenceDelay = max(0, value(19)?.integerValue ?? 86400)
        sequenceRetryCount = max(1, value(20)?.integerValue ?? 1)
        muteSend = value(23)?.boolValue ?? false
    }

    /// Whether the binding asks for queue mode ("UQ" in 1.0 notation, or "Q" with 1.1).
    public var queueMode: Bool { binding.contains("Q") }

    /// The transports of the binding, as LwM2M 1.1 sends them in `b`: the letters of /1/x/7
    /// without "Q" (queue mode is the separate `Q` parameter of Register), "U" when none is left.
    public var transportBinding: String { Self.transportAndQueueMode(of: binding).transport }

    /// The transport letters (without "Q", "U" when none is left) and the queue mode of a
    /// Binding value.
    static func transportAndQueueMode(of binding: String) -> (transport: String, queueMode: Bool) {
        let letters = binding.filter { $0 != "Q" }
        return (letters.isEmpty ? "U" : letters, binding.contains("Q"))
    }
}

/// The accounts of the Security and Server objects, joined by Short Server ID.
public struct AccountSet: Hashable, Sendable {
    /// The bootstrap-server account (/0/x/1 true), if any.
    public var bootstrap: SecurityAccount?
    /// Management-server accounts: Security instance and its Server instance, in registration
    /// order (Registration Priority Order ascending, unordered ones last, then by SSID).
    public var servers: [ServerAccount]

    /// Joins the Security and Server objects. Security instances without a matching Server
    /// instance (or the reverse) are left out: the consistency check reports them.
    public init(security: ProvisionedObject, server: ProvisionedObject) {
        self.init(security: security.snapshot(), server: server.snapshot())
    }

    /// Joins snapshots of the Security and Server objects.
    public init(security: ObjectSnapshot, server: ObjectSnapshot) {
        let accounts = security.instances.keys.sorted().map { SecurityAccount(instance: $0, snapshot: security) }
        bootstrap = accounts.first(where: \.isBootstrap)
        let settings = server.instances.keys.sorted().compactMap { ServerSettings(instance: $0, snapshot: server) }
        servers = accounts.filter { !$0.isBootstrap }.compactMap { account in
            guard let ssid = account.shortServerID,
                  let match = settings.first(where: { $0.shortServerID == ssid }) else { return nil }
            return ServerAccount(security: account, settings: match)
        }
        servers.sort { lhs, rhs in
            switch (lhs.settings.priorityOrder, rhs.settings.priorityOrder) {
            case let (l?, r?) where l != r: return l < r
            case (_?, nil): return true
            case (nil, _?): return false
            default: return lhs.shortServerID < rhs.shortServerID
            }
        }
    }
}

/// A management server: its Security instance and its Server instance.
public struct ServerAccount: Hashable, Sendable {
    public var security: SecurityAccount
    public var settings: ServerSettings

    public init(security: SecurityAccount, settings: ServerSettings) {
        self.security = security
        self.settings = settings
    }

    /// The Short Server ID both instances share.
    public var shortServerID: UInt16 { settings.shortServerID }
}

extension ResourceContent {
    /// The single value as a string, if it is one.
    var stringValue: String? {
        if case .single(.string(let value)) = self { return value }
        return nil
    }

    /// The single value as a Boolean, if it is one.
    var boolValue: Bool? {
        if case .single(.boolean(let value)) = self { return value }
        return nil
    }

    /// The single value as opaque bytes, if it is one.
    var opaqueValue: [UInt8]? {
        if case .single(.opaque(let value)) = self { return value }
        return nil
    }

    /// The single value as a signed integer (integer, unsigned integer in range, or time).
    var integerValue: Int64? {
        guard case .single(let value) = self else { return nil }
        return value.integerValue
    }
}

extension ResourceValue {
    /// The value as a signed integer (integer, unsigned integer in range, or time).
    var integerValue: Int64? {
        switch self {
        case .integer(let value), .time(let value): return value
        case .unsignedInteger(let value): return Int64(exactly: value)
        default: return nil
        }
    }
}
