import Time

/// The live Device object (/3, one instance /3/0) over a `DevicePlatform`: every value is read
/// from the platform when a server reads it (or, with a `ReadingFreshness` that reuses
/// readings, is at most `freshness.maxAge` old: the daemon reuses a reading for up to 1 s),
/// a resource the platform has no value for is absent, writes of Current Time, UTC Offset and
/// Timezone go to the platform (or are refused with a clear code; either way the next Read
/// reads the platform again), and `sample(now:)` reports the values that changed so
/// observations fire on real changes. Reboot and Factory Reset only schedule: the handlers run
/// before the 2.04 is sent.
///
/// Error Code (/3/0/11) lists the conditions seen now (`DeviceErrorCode`), [0] when none.
/// Reset Error Code (/3/0/12) acknowledges the conditions present at that moment: they are no
/// longer reported while they last; one that clears and comes back is reported again.
public final class DeviceObject: SampledObject {
    /// The Device object's resource IDs.
    public enum Resource {
        public static let manufacturer: UInt16 = 0
        public static let modelNumber: UInt16 = 1
        public static let serialNumber: UInt16 = 2
        public static let firmwareVersion: UInt16 = 3
        public static let reboot: UInt16 = 4
        public static let factoryReset: UInt16 = 5
        public static let powerSources: UInt16 = 6
        public static let powerSourceVoltage: UInt16 = 7
        public static let powerSourceCurrent: UInt16 = 8
        public static let batteryLevel: UInt16 = 9
        public static let memoryFree: UInt16 = 10
        public static let errorCode: UInt16 = 11
        public static let resetErrorCode: UInt16 = 12
        public static let currentTime: UInt16 = 13
        public static let utcOffset: UInt16 = 14
        public static let timezone: UInt16 = 15
        public static let binding: UInt16 = 16
        public static let deviceType: UInt16 = 17
        public static let hardwareVersion: UInt16 = 18
        public static let softwareVersion: UInt16 = 19
        public static let batteryStatus: UInt16 = 20
        public static let memoryTotal: UInt16 = 21
    }

    /// The resources `sample(now:)` compares between rounds (the others are fixed or only
    /// change through a server's write, which reports itself).
    static let sampledResources: [UInt16] = [
        Resource.powerSources, Resource.powerSourceVoltage, Resource.powerSourceCurrent, Resource.batteryLevel,
        Resource.memoryFree, Resource.errorCode, Resource.currentTime, Resource.utcOffset, Resource.timezone,
        Resource.batteryStatus, Resource.memoryTotal,
    ]

    public let definition: ObjectDefinition
    public var changeHandler: ((LwM2MPath) -> Void)?
    public let platform: any DevicePlatform
    public let thresholds: DeviceThresholds
    /// Supported Binding and Modes (/3/0/16).
    public let binding: String
    private let reboot: () -> Void
    private let factoryReset: (() -> Void)?
    /// Conditions a Reset Error Code acknowledged, still present at the last evaluation.
    private var acknowledged: Set<DeviceErrorCode> = []
    /// The sampled resources' content at the previous `sample(now:)` (nil: absent).
    private var lastSample: [UInt16: ResourceContent?]?
    /// How long the platform's readings are served again (`.everyRead`: not past their Read).
    public let freshness: ReadingFreshness
    /// The platform's readings, each taken on first use within a round (a sampling round, or one
    /// Read of several resources: `beginReading()`…`endReading()`), so a Read of /3/0 reads
    /// /proc/meminfo and the power supplies once, not once per resource. With `.everyRead` they
    /// are dropped when the round ends; with a `freshness` that reuses them, the rounds that begin
    /// less than `freshness.maxAge` after `readingsTakenAt` serve them again (a sampling round
    /// always starts afresh). Outside a round every read asks the platform.
    private var readings = Readings()
    /// When the readings' window began (`freshness.clock`); nil: no window.
    private var readingsTakenAt: Instant?
    /// Whether a round is open.
    private var inRound = false
    /// Within a round, each resource's content as first computed, by resource ID (outer nil:
    /// not computed yet; inner nil: absent). A Read of /3/0 asks for the optional resources'
    /// contents twice — presence (`resourceIDs`), then value (`read`) — and gets them computed once.
    private var roundContents = [ResourceContent??](repeating: nil, count: Int(Resource.memoryTotal) + 1)
    /// Contents computed so far (tests count them: one per present resource per Read).
    private(set) var contentsComputed = 0

    /// What the readings' window has read from the platform so far (nil: not yet).
    private struct Readings {
        var memory: DeviceMemory??
        var sources: [PowerSourceReading]?
        var battery: BatteryReading??
        var storageFull: Bool??
        var utcOffset: String??
        var timezone: String??
    }

    /// `platform`'s value, or within a round the window's (read once through `read`).
    private func reading<T>(_ cached: WritableKeyPath<Readings, T?>, _ read: () -> T) -> T {
        guard inRound else { return read() }
        if let value = readings[keyPath: cached] { return value }
        let value = read()
        readings[keyPath: cached] = value
        return value
    }

    private var memory: DeviceMemory? { reading(\.memory) { platform.memory() } }
    private var sources: [PowerSourceReading] { reading(\.sources) { platform.powerSources() } }
    private var battery: BatteryReading? { reading(\.battery) { platform.battery() } }
    private var storageFull: Bool? { reading(\.storageFull) { platform.storageFull() } }
    private var utcOffset: String? { reading(\.utcOffset) { platform.utcOffset() } }
    private var timezone: String? { reading(\.timezone) { platform.timezone() } }

    /// A Device object reading `platform`; `reboot` and `factoryReset` (nil: /3/0/5 absent) are
    /// called on Execute, before the response goes out, and must only schedule the action.
    /// `freshness`: how old a reading a Read may be served (`.everyRead`: each Read reads the
    /// platform; the daemon reuses readings for up to 1 s on its monotonic clock).
    public init(platform: any DevicePlatform, thresholds: DeviceThresholds = DeviceThresholds(), binding: String = "U",
                freshness: ReadingFreshness = .everyRead, reboot: @escaping () -> Void, factoryReset: (() -> Void)? = nil) {
        self.definition = OMAObjects.definition(3)!
        self.platform = platform
        self.freshness = freshness
        self.thresholds = thresholds
        self.binding = binding
        self.reboot = reboot
        self.factoryReset = factoryReset
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { [0] }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard instance == 0 else { return [] }
        let identity = platform.identity
        var ids: [UInt16] = []
        ids.reserveCapacity(Int(Resource.memoryTotal) + 1)
        // Ascending by construction: no list of candidates to build and sort on every Read.
        for id in 0...Resource.memoryTotal where isPresent(id, identity) { ids.append(id) }
        return ids
    }

    /// Whether resource `id` is present: the fixed ones always, Factory Reset with its handler,
    /// an identity string when the platform has it, the others when they have a value now.
    private func isPresent(_ id: UInt16, _ identity: DeviceIdentity) -> Bool {
        switch id {
        case Resource.reboot, Resource.errorCode, Resource.resetErrorCode, Resource.currentTime, Resource.binding:
            return true
        case Resource.factoryReset: return factoryReset != nil
        case Resource.manufacturer: return identity.manufacturer != nil
        case Resource.modelNumber: return identity.modelNumber != nil
        case Resource.serialNumber: return identity.serialNumber != nil
        case Resource.firmwareVersion: return identity.firmwareVersion != nil
        case Resource.deviceType: return identity.deviceType != nil
        case Resource.hardwareVersion: return identity.hardwareVersion != nil
        case Resource.softwareVersion: return identity.softwareVersion != nil
        case Resource.powerSources, Resource.powerSourceVoltage, Resource.powerSourceCurrent, Resource.batteryLevel,
             Resource.batteryStatus, Resource.memoryFree, Resource.memoryTotal, Resource.utcOffset, Resource.timezone:
            return content(id) != nil
        default:
            return false
        }
    }

    public func beginReading() { beginRound(afresh: false) }

    public func endReading() {
        guard inRound else { return }
        inRound = false
        forgetRoundContents()
        if !freshness.reuses { readings = Readings() }
        platform.endReading()
    }

    /// Opens a round: on the window's readings while they are fresh (and `afresh` is false),
    /// else on a new window that begins now.
    private func beginRound(afresh: Bool) {
        guard !inRound else { return }
        inRound = true
        forgetRoundContents()
        if freshness.reuses {
            let now = freshness.clock()
            let fresh = readingsTakenAt.map { freshness.isFresh(takenAt: $0, now: now) } ?? false
            if afresh || !fresh {
                readings = Readings()
                readingsTakenAt = now
            }
        } else {
            readings = Readings()
        }
        platform.beginReading()
    }

    /// Drops the window's readings (the agent changed what they read: clock, zone): the next
    /// round reads the platform.
    private func forgetReadings() {
        readings = Readings()
        readingsTakenAt = nil
        forgetRoundContents()
    }

    private func forgetRoundContents() {
        for index in roundContents.indices where roundContents[index] != nil { roundContents[index] = nil }
    }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        guard path.isResource, path.objectID == 3, path.instanceID == 0, let id = path.resourceID,
              let content = content(id) else { throw .notFound }
        return content
    }

    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        guard path.isResource, path.objectID == 3, path.instanceID == 0, let id = path.resourceID,
              let resource = definition.resource(id) else { throw .notFound }
        guard resource.operations.contains(.write) else { throw .methodNotAllowed }
        try content.validate(against: resource)
        guard case .single(let value) = content else { throw .badRequest("resource \(id) is single-instance") }
        // The setting changes (or may have partly changed) what the readings hold.
        defer { forgetReadings() }
        do throws(DeviceSettingError) {
            switch (id, value) {
            case (Resource.currentTime, .time(let seconds)):
                try platform.setCurrentTime(seconds)
            case (Resource.utcOffset, .string(let text)):
                guard let offset = UTCOffset.normalized(text) else {
                    throw .invalid("UTC Offset \(Self.quoted(text)) is not an ISO 8601 offset (+HH:MM or -HH:MM, at most 14 h)")
                }
                try platform.setUTCOffset(offset)
            case (Resource.timezone, .string(let name)):
                guard TimezoneName.isWellFormed(name) else {
                    throw .invalid("Timezone \(Self.quoted(name)) is not an IANA time zone name (like Europe/Berlin)")
                }
                try platform.setTimezone(name)
            default:
                throw .invalid("resource \(id) cannot hold \(value)")
            }
        } catch {
            throw error.lwm2mError
        }
        resampled(id)
        changeHandler?(path)
    }

    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        guard path.isResource, path.objectID == 3, path.instanceID == 0, let id = path.resourceID else { throw .notFound }
        switch id {
        case Resource.reboot:
            reboot()
        case Resource.factoryReset:
            guard let factoryReset else { throw .notFound }
            factoryReset()
        case Resource.resetErrorCode:
            acknowledged = Set(conditions())
            forgetRoundContents()  // Error Code reads differently from now on
            resampled(Resource.errorCode)
            changeHandler?(LwM2MPath(3, 0, Resource.errorCode))
        default:
            throw .methodNotAllowed
        }
    }

    // MARK: - SampledObject

    /// Compares the live resources with the previous round and reports each that changed
    /// (the first round only records them). Current Time is `now`, so it changes every second.
    /// A sampling round always reads the platform afresh; with a reusing `freshness` its readings
    /// then serve the Reads (and notifications) of the next `freshness.maxAge`.
    public func sample(now: Int64) {
        beginRound(afresh: true)
        defer { endReading() }
        var current: [UInt16: ResourceContent?] = [:]
        for id in Self.sampledResources {
            current[id] = id == Resource.currentTime ? .single(.time(now)) : content(id)
        }
        defer { lastSample = current }
        guard let last = lastSample else { return }
        for id in Self.sampledResources where current[id]! != last[id]! {
            changeHandler?(LwM2MPath(3, 0, id))
        }
    }

    /// Sampling starts again after a pause (nothing observed the Device object): the previous
    /// round is stale, so this round only records the reference (what the new observation's
    /// response carried is current).
    public func resumeSampling(now: Int64) {
        lastSample = nil
        sample(now: now)
    }

    /// Records resource `id`'s new content as sampled, after a change this object reported
    /// itself (a write, a reset): the next round does not report it a second time.
    private func resampled(_ id: UInt16) {
        guard lastSample != nil, Self.sampledResources.contains(id) else { return }
        lastSample![id] = id == Resource.currentTime ? .single(.time(platform.currentTime())) : content(id)
    }

    // MARK: - Values

    /// The content of resource `id` now, or within a round as first computed in it; nil when
    /// absent (or executable).
    private func content(_ id: UInt16) -> ResourceContent? {
        guard inRound, Int(id) < roundContents.count else { return computeContent(id) }
        if let computed = roundContents[Int(id)] { return computed }
        let value = computeContent(id)
        roundContents[Int(id)] = .some(value)
        return value
    }

    /// The content of resource `id` from the platform's readings; nil when absent (or executable).
    private func computeContent(_ id: UInt16) -> ResourceContent? {
        contentsComputed += 1
        func text(_ value: String?) -> ResourceContent? { value.map { .single(.string($0)) } }
        func integer(_ value: Int64?) -> ResourceContent? { value.map { .single(.integer($0)) } }
        let identity = { self.platform.identity }
        switch id {
        case Resource.manufacturer: return text(identity().manufacturer)
        case Resource.modelNumber: return text(identity().modelNumber)
        case Resource.serialNumber: return text(identity().serialNumber)
        case Resource.firmwareVersion: return text(identity().firmwareVersion)
        case Resource.deviceType: return text(identity().deviceType)
        case Resource.hardwareVersion: return text(identity().hardwareVersion)
        case Resource.softwareVersion: return text(identity().softwareVersion)
        case Resource.binding: return .single(.string(binding))
        case Resource.currentTime: return .single(.time(platform.currentTime()))
        case Resource.utcOffset: return text(utcOffset)
        case Resource.timezone: return text(timezone)
        case Resource.memoryFree: return integer(memory?.free)
        case Resource.memoryTotal: return integer(memory?.total)
        case Resource.batteryLevel: return integer(battery?.level)
        case Resource.batteryStatus: return integer(battery?.status?.rawValue)
        case Resource.powerSources: return list(sources.map { $0.kind.rawValue })
        case Resource.powerSourceVoltage: return list(sources.map(\.voltage))
        case Resource.powerSourceCurrent: return list(sources.map(\.current))
        case Resource.errorCode:
            let codes = reportedCodes()
            return Self.multiple(codes.isEmpty ? [0] : codes.map(\.rawValue))
        default: return nil
        }
    }

    /// A multi-instance resource with one instance per power source that has a value, keeping
    /// the source's index as resource-instance ID; nil when none has one.
    private func list(_ values: [Int64?]) -> ResourceContent? {
        var instances: [UInt16: ResourceValue] = [:]
        for (index, value) in values.prefix(65535).enumerated() {
            if let value { instances[UInt16(index)] = .integer(value) }
        }
        return instances.isEmpty ? nil : .multiple(instances)
    }

    private static func multiple(_ values: [Int64]) -> ResourceContent {
        var instances: [UInt16: ResourceValue] = [:]
        for (index, value) in values.enumerated() { instances[UInt16(index)] = .integer(value) }
        return .multiple(instances)
    }

    /// The error conditions present now, ascending.
    public func conditions() -> [DeviceErrorCode] {
        var codes: Set<DeviceErrorCode> = []
        for source in sources where source.online == false
            && source.kind != .internalBattery && source.kind != .externalBattery {
            codes.insert(.externalPowerOff)
        }
        if let battery {
            if let level = battery.level, level < thresholds.lowBatteryPercent { codes.insert(.lowBattery) }
            if battery.status == .low { codes.insert(.lowBattery) }
        }
        if let memory, memory.total > 0,
           memory.free * 100 < memory.total * thresholds.lowMemoryPercent {
            codes.insert(.outOfMemory)
        }
        if storageFull == true { codes.insert(.storageFull) }
        return codes.sorted()
    }

    /// The conditions present now less those a Reset Error Code acknowledged (an acknowledged
    /// condition that cleared is forgotten, so it is reported when it comes back).
    private func reportedCodes() -> [DeviceErrorCode] {
        let present = conditions()
        acknowledged.formIntersection(present)
        return present.filter { !acknowledged.contains($0) }
    }

    private static func quoted(_ text: String) -> String {
        "\"" + String(text.prefix(64)) + (text.count > 64 ? "…" : "") + "\""
    }
}
