/// What the Device object (/3/0) reads from and does to the machine. The Board layer implements
/// it on the kernel's files and system calls; tests implement it in memory. Every method is
/// called at read (or sample) time, so the object reports the machine as it is now; a value the
/// platform does not know is nil (or empty) and the matching resource is then absent.
public protocol DevicePlatform: AnyObject {
    /// Manufacturer, model, serial number, versions and device type (fixed while running).
    var identity: DeviceIdentity { get }

    /// The wall-clock time, seconds since the Unix epoch.
    func currentTime() -> Int64

    /// Sets the wall clock to `seconds` since the Unix epoch (a server wrote /3/0/13).
    func setCurrentTime(_ seconds: Int64) throws(DeviceSettingError)

    /// Free and total memory; nil when unknown.
    func memory() -> DeviceMemory?

    /// The power sources present, in a stable order (their index is the resource-instance ID
    /// of /3/0/6, /3/0/7 and /3/0/8); empty when none is described.
    func powerSources() -> [PowerSourceReading]

    /// The internal battery's level and status; nil without a battery.
    func battery() -> BatteryReading?

    /// Whether the storage the agent writes to is (nearly) full; nil when unknown.
    func storageFull() -> Bool?

    /// The UTC offset in effect ("+02:00"), nil when unknown.
    func utcOffset() -> String?

    /// Applies a validated UTC offset ("+HH:MM"/"-HH:MM") written by a server (or refuses it:
    /// `.notAllowed` when the device does not let the agent, `.invalid` when no zone applies it).
    func setUTCOffset(_ offset: String) throws(DeviceSettingError)

    /// The IANA time zone name ("Europe/Berlin"), nil when unknown.
    func timezone() -> String?

    /// Applies a time zone written by a server; `.invalid` when no such zone exists here,
    /// `.notAllowed` when the device does not let the agent change it.
    func setTimezone(_ name: String) throws(DeviceSettingError)

    /// A reading round begins (one Read of /3/0, one sampling round): until `endReading()` the
    /// platform may serve readings that share a source (power sources and battery both list the
    /// power supplies) from one look at it. Default: nothing.
    func beginReading()

    /// The round `beginReading()` began has ended.
    func endReading()
}

extension DevicePlatform {
    public func beginReading() {}
    public func endReading() {}
}

/// Why the platform refused or failed a setting a server wrote.
public enum DeviceSettingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The board does not allow it (clock not settable, time zone not changeable): 4.05 with
    /// the reason.
    case notAllowed(String)
    /// The value is not acceptable (unknown time zone): 4.00.
    case invalid(String)
    /// The platform tried and failed (clock_settime, a state file that cannot be written): 5.00.
    case failed(String)

    public var description: String {
        switch self {
        case .notAllowed(let why), .invalid(let why), .failed(let why): why
        }
    }

    /// The error the server sees.
    public var lwm2mError: LwM2MError {
        switch self {
        case .notAllowed(let why): .notAllowed(why)
        case .invalid(let why): .badRequest(why)
        case .failed(let why): .internalError(why)
        }
    }
}

/// The board's identity strings; nil ones are absent resources.
public struct DeviceIdentity: Hashable, Sendable {
    /// /3/0/0, /3/0/1, /3/0/2.
    public var manufacturer: String?
    public var modelNumber: String?
    public var serialNumber: String?
    /// /3/0/3: the device's firmware (OS image or board firmware), not the agent.
    public var firmwareVersion: String?
    /// /3/0/17, /3/0/18.
    public var deviceType: String?
    public var hardwareVersion: String?
    /// /3/0/19: the agent's version.
    public var softwareVersion: String?

    public init(manufacturer: String? = nil, modelNumber: String? = nil, serialNumber: String? = nil,
                firmwareVersion: String? = nil, deviceType: String? = nil, hardwareVersion: String? = nil,
                softwareVersion: String? = nil) {
        self.manufacturer = manufacturer
        self.modelNumber = modelNumber
        self.serialNumber = serialNumber
        self.firmwareVersion = firmwareVersion
        self.deviceType = deviceType
        self.hardwareVersion = hardwareVersion
        self.softwareVersion = softwareVersion
    }
}

/// Memory in kilobytes of 1000 bytes (the unit of /3/0/10 and /3/0/21 in the OMA definition).
public struct DeviceMemory: Hashable, Sendable {
    public var free: Int64
    public var total: Int64

    public init(free: Int64, total: Int64) {
        self.free = free
        self.total = total
    }
}

/// The kinds of /3/0/6 Available Power Sources (OMA 3.xml).
public enum PowerSourceKind: Int64, Hashable, Sendable, CaseIterable {
    case dc = 0, internalBattery = 1, externalBattery = 2, fuelCell = 3, powerOverEthernet = 4, usb = 5,
         acMains = 6, solar = 7

    /// The board-file name (`[power] input = usb`).
    public var name: String {
        switch self {
        case .dc: "dc"
        case .internalBattery: "internal-battery"
        case .externalBattery: "external-battery"
        case .fuelCell: "fuel-cell"
        case .powerOverEthernet: "poe"
        case .usb: "usb"
        case .acMains: "ac"
        case .solar: "solar"
        }
    }

    /// The kind named `name` in a board file; nil for an unknown name.
    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// One power source now.
public struct PowerSourceReading: Hashable, Sendable {
    public var kind: PowerSourceKind
    /// Voltage in mV and current in mA (/3/0/7, /3/0/8); nil when not measured.
    public var voltage: Int64?
    public var current: Int64?
    /// Whether an external supply is connected (power_supply `online`); nil when not known.
    /// An external source (not a battery) that is offline raises Error Code 2.
    public var online: Bool?

    public init(kind: PowerSourceKind, voltage: Int64? = nil, current: Int64? = nil, online: Bool? = nil) {
        self.kind = kind
        self.voltage = voltage
        self.current = current
        self.online = online
    }
}

/// /3/0/20 Battery Status values (OMA 3.xml).
public enum BatteryStatus: Int64, Hashable, Sendable {
    case normal = 0, charging = 1, chargeComplete = 2, damaged = 3, low = 4, notInstalled = 5, unknown = 6
}

/// The internal battery now.
public struct BatteryReading: Hashable, Sendable {
    /// Percent (/3/0/9), nil when not measured.
    public var level: Int64?
    /// /3/0/20, nil when not known.
    public var status: BatteryStatus?

    public init(level: Int64?, status: BatteryStatus?) {
        self.level = level
        self.status = status
    }
}
