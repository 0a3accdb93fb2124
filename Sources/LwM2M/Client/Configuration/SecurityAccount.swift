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
