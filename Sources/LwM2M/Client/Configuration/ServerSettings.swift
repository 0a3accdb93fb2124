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
