import AgentCommon
import LwM2M

/// The Device object's platform on a Linux board: identity from the board's sources, the clock,
/// /proc/meminfo, /sys/class/power_supply, statvfs of the state directory and the system's time
/// zone, which a UTC Offset/Timezone write changes when the board lets the agent
/// (`[clock] timezone = localtime`, `TimezoneSetting`) and is refused with 4.05 otherwise. Every
/// reading happens when the object asks (no cache), under `configuration.root`.
public final class KernelDevicePlatform: DevicePlatform {
    /// Where one identity string comes from (the board file's `literal` or `file:PATH`; a file
    /// that is absent or unreadable gives no value).
    public typealias Source = BoardDefinition.ValueSource

    /// Which power supplies to report (`[power] supplies`: `auto` is every supply of the system,
    /// peripheral batteries excluded; a named supply that is missing is left out).
    public typealias Supplies = BoardDefinition.Selection

    /// The plain inputs (the lead maps a board definition onto them).
    public struct Configuration: Sendable {
        public var root: SystemRoot = .live
        /// Candidate sources per identity string, first with a value wins.
        public var manufacturer: [Source] = []
        public var modelNumber: [Source] = []
        public var serialNumber: [Source] = []
        public var hardwareVersion: [Source] = []
        public var deviceType: [Source] = []
        /// Nil: the os-release VERSION.
        public var firmwareVersion: [Source]? = nil
        /// /3/0/19: the agent's version.
        public var softwareVersion: String = AgentVersion.string
        public var supplies: Supplies = .auto
        /// `[power] input`: a fixed source no power_supply describes (reported without voltage).
        public var input: PowerSourceKind? = nil
        /// `[clock] settable` (no by default: a Current Time write is refused with 4.05).
        public var clockSettable = false
        /// `[clock] timezone`: whether UTC Offset/Timezone writes change the system's zone
        /// (`.localtime`) or are refused with 4.05 (`.none`, the default).
        public var timezone: BoardDefinition.TimezoneControl = .none
        /// The agent's state directory (the storage check).
        public var stateDirectory: String
        /// Storage is full below this many free bytes.
        public var storageMinimumFreeBytes: UInt64 = 1 << 20

        public init(stateDirectory: String) { self.stateDirectory = stateDirectory }

        /// The generic Linux board: device-tree model and serial (or DMI on x86), os-release,
        /// device type "Gateway" (what this agent runs on).
        public static func generic(stateDirectory: String, serialFile: String? = nil) -> Configuration {
            var configuration = Configuration(stateDirectory: stateDirectory)
            configuration.manufacturer = [.file("/sys/class/dmi/id/sys_vendor")]
            configuration.modelNumber = [.file("/proc/device-tree/model"), .file("/sys/class/dmi/id/product_name")]
            configuration.serialNumber = (serialFile.map { [Source.file($0)] } ?? [])
                + [.file("/proc/device-tree/serial-number"), .file("/sys/class/dmi/id/product_serial")]
            configuration.hardwareVersion = [.file("/sys/class/dmi/id/product_version")]
            configuration.deviceType = [.literal("Gateway")]
            return configuration
        }
    }

    public let configuration: Configuration
    /// Read from the identity sources the first time it is asked for (a Read of the Device
    /// object, not the Register), then kept: the sources do not change while running.
    public private(set) lazy var identity: DeviceIdentity = Self.readIdentity(configuration)
    /// Reads and sets the wall clock; tests inject their own (they must not move the machine's).
    public var readClock: () -> Int64 = SystemClock.now
    public var setClock: (Int64) throws(ClockError) -> Void = { (seconds) throws(ClockError) in try SystemClock.set(seconds) }
    /// The system's UTC offset at a time (`SystemTimezone.offset` under the root; tests inject one).
    public var systemOffset: (Int64) -> String?

    /// The identity sources are read when ``identity`` is first asked for.
    public init(_ configuration: Configuration) {
        self.configuration = configuration
        let root = configuration.root
        systemOffset = { SystemTimezone.offset(root, at: $0) }
    }

    /// The identity as `configuration`'s sources give it now.
    static func readIdentity(_ configuration: Configuration) -> DeviceIdentity {
        let root = configuration.root
        func value(_ sources: [Source]) -> String? {
            for source in sources {
                switch source {
                case .literal(let text): if !text.isEmpty { return text }
                case .file(let path): if let line = root.firstLine(path) { return line }
                }
            }
            return nil
        }
        return DeviceIdentity(
            manufacturer: value(configuration.manufacturer), modelNumber: value(configuration.modelNumber),
            serialNumber: value(configuration.serialNumber),
            firmwareVersion: configuration.firmwareVersion.map(value) ?? OSRelease.read(root)?.version,
            deviceType: value(configuration.deviceType), hardwareVersion: value(configuration.hardwareVersion),
            softwareVersion: configuration.softwareVersion)
    }

    public func currentTime() -> Int64 { readClock() }

    public func setCurrentTime(_ seconds: Int64) throws(DeviceSettingError) {
        guard configuration.clockSettable else {
            throw .notAllowed("this board's clock is not set by the agent ([clock] settable = no)")
        }
        do {
            try setClock(seconds)
        } catch {
            throw .failed("cannot set the clock: \(error)")
        }
    }

    public func memory() -> DeviceMemory? { MemoryInfo.read(configuration.root)?.deviceMemory }

    /// Within a reading round, the supplies read by its first use (power sources and battery
    /// then list /sys/class/power_supply once per round).
    private var inRound = false
    private var roundSupplies: [PowerSupply]?

    public func beginReading() { inRound = true }

    public func endReading() {
        inRound = false
        roundSupplies = nil
    }

    /// The selected supplies now (within a reading round: as first read in it).
    public func supplies() -> [PowerSupply] {
        guard inRound else { return readSupplies() }
        if let roundSupplies { return roundSupplies }
        let supplies = readSupplies()
        roundSupplies = supplies
        return supplies
    }

    private func readSupplies() -> [PowerSupply] {
        switch configuration.supplies {
        case .auto: PowerSupply.all(configuration.root)
        case .none: []
        case .names(let names): names.compactMap { PowerSupply.read(configuration.root, name: $0) }
        }
    }

    public func powerSources() -> [PowerSourceReading] {
        var sources = supplies().compactMap(\.reading)
        if let input = configuration.input, !sources.contains(where: { $0.kind == input }) {
            sources.append(PowerSourceReading(kind: input))
        }
        return sources
    }

    public func battery() -> BatteryReading? {
        supplies().first { $0.kind == .internalBattery }.map(\.battery)
    }

    public func storageFull() -> Bool? {
        StorageSpace.of(configuration.stateDirectory)?.isFull(minimumFreeBytes: configuration.storageMinimumFreeBytes)
    }

    /// The system's offset now (of the zone a write applied, if any: there is no other record).
    public func utcOffset() -> String? { systemOffset(readClock()) }

    /// A whole-hour offset is applied as the zone `Etc/GMT∓H` (then /3/0/15 reads that zone);
    /// other offsets are refused with 4.00 (no zone applies them).
    public func setUTCOffset(_ offset: String) throws(DeviceSettingError) {
        try checkTimezoneControl()
        guard let zone = TimezoneSetting.zone(forOffset: offset) else {
            throw .invalid("UTC Offset \(offset): only whole-hour offsets can be applied; write the Timezone (/3/0/15)")
        }
        guard SystemTimezone.exists(zone, in: configuration.root) else {
            throw .invalid("UTC Offset \(offset): no time zone \"\(zone)\" in \(configuration.root.path("/usr/share/zoneinfo"))")
        }
        try apply(zone)
    }

    /// The system's zone name (`/etc/timezone`, else the `/etc/localtime` symlink).
    public func timezone() -> String? { SystemTimezone.name(configuration.root) }

    /// Applies a zone of the time-zone database (then /3/0/14 reads its offset now).
    public func setTimezone(_ name: String) throws(DeviceSettingError) {
        try checkTimezoneControl()
        guard SystemTimezone.exists(name, in: configuration.root) else {
            throw .invalid("no time zone \"\(name)\" in \(configuration.root.path("/usr/share/zoneinfo"))")
        }
        try apply(name)
    }

    private func checkTimezoneControl() throws(DeviceSettingError) {
        guard configuration.timezone == .localtime else {
            throw .notAllowed("the board does not let the agent change the time zone (board file [clock] timezone = none)")
        }
    }

    private func apply(_ zone: String) throws(DeviceSettingError) {
        do {
            try TimezoneSetting.apply(zone, root: configuration.root)
        } catch {
            throw .failed("cannot set the time zone to \(zone): \(error)")
        }
    }
}
