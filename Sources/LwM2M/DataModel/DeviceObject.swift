/// The static description of the gateway that the Device object (/3) reports.
public struct DeviceInfo: Hashable, Sendable {
    /// Manufacturer (/3/0/0), Model Number (/3/0/1), Serial Number (/3/0/2), Firmware Version
    /// (/3/0/3), Device Type (/3/0/17), Hardware Version (/3/0/18), Software Version (/3/0/19).
    public var manufacturer: String
    public var modelNumber: String
    public var serialNumber: String
    public var firmwareVersion: String
    public var deviceType: String
    public var hardwareVersion: String
    public var softwareVersion: String
    /// Available Power Sources (/3/0/6): 0 DC, 1 internal battery, 2 external battery, 3 fuel cell, 4 PoE,
    /// 5 USB, 6 AC mains, 7 solar.
    public var powerSources: [Int64]
    /// Power Source Voltage (/3/0/7) in mV, one per power source.
    public var powerSourceVoltages: [Int64]
    /// Battery Level (/3/0/9), percent.
    public var batteryLevel: Int64
    /// Memory Free (/3/0/10) and Memory Total (/3/0/21), KiB.
    public var memoryFree: Int64
    public var memoryTotal: Int64
    /// Supported Binding and Modes (/3/0/16).
    public var binding: String

    public init(manufacturer: String = "Open Source Gateways", modelNumber: String = "GW-A53",
                serialNumber: String = "GW53-000001", firmwareVersion: String = "1.0.0",
                deviceType: String = "Gateway", hardwareVersion: String = "rev B", softwareVersion: String = "0.1.0",
                powerSources: [Int64] = [1, 5], powerSourceVoltages: [Int64] = [3700, 5000],
                batteryLevel: Int64 = 95, memoryFree: Int64 = 65536, memoryTotal: Int64 = 262_144,
                binding: String = "U") {
        // Defaults describe a USB-powered gateway with a backup battery.
        self.manufacturer = manufacturer
        self.modelNumber = modelNumber
        self.serialNumber = serialNumber
        self.firmwareVersion = firmwareVersion
        self.deviceType = deviceType
        self.hardwareVersion = hardwareVersion
        self.softwareVersion = softwareVersion
        self.powerSources = powerSources
        self.powerSourceVoltages = powerSourceVoltages
        self.batteryLevel = batteryLevel
        self.memoryFree = memoryFree
        self.memoryTotal = memoryTotal
        self.binding = binding
    }
}

/// Builds the Device object (/3, one instance /3/0) on `StaticObject`.
public enum DeviceObject {
    /// The Device object's resource IDs this agent uses.
    public enum Resource {
        public static let manufacturer: UInt16 = 0
        public static let modelNumber: UInt16 = 1
        public static let serialNumber: UInt16 = 2
        public static let firmwareVersion: UInt16 = 3
        public static let reboot: UInt16 = 4
        public static let factoryReset: UInt16 = 5
        public static let powerSources: UInt16 = 6
        public static let powerSourceVoltage: UInt16 = 7
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
        public static let memoryTotal: UInt16 = 21
    }

    /// A Device object with `info`, Error Code [0], the given time settings, and the
    /// executables Reboot (/3/0/4), Factory Reset (/3/0/5, present only when `factoryReset` is
    /// given) and Reset Error Code (/3/0/12, which sets Error Code back to [0]).
    ///
    /// `reboot` and `factoryReset` run before the 2.04 response is sent: they must schedule
    /// the action, not perform it.
    public static func make(info: DeviceInfo = DeviceInfo(), currentTime: Int64, utcOffset: String = "+00:00",
                            timezone: String = "Etc/UTC", reboot: @escaping () -> Void,
                            factoryReset: (() -> Void)? = nil) -> StaticObject {
        let definition = OMAObjects.definition(3)!
        let device = StaticObject(definition: definition, instanceIDs: [0])
        func list(_ values: [Int64]) -> ResourceContent {
            var instances: [UInt16: ResourceValue] = [:]
            for (index, value) in values.prefix(65535).enumerated() { instances[UInt16(index)] = .integer(value) }
            return .multiple(instances)
        }
        let values: [(UInt16, ResourceContent)] = [
            (Resource.manufacturer, .single(.string(info.manufacturer))),
            (Resource.modelNumber, .single(.string(info.modelNumber))),
            (Resource.serialNumber, .single(.string(info.serialNumber))),
            (Resource.firmwareVersion, .single(.string(info.firmwareVersion))),
            (Resource.powerSources, list(info.powerSources)),
            (Resource.powerSourceVoltage, list(info.powerSourceVoltages)),
            (Resource.batteryLevel, .single(.integer(info.batteryLevel))),
            (Resource.memoryFree, .single(.integer(info.memoryFree))),
            (Resource.errorCode, list([0])),
            (Resource.currentTime, .single(.time(currentTime))),
            (Resource.utcOffset, .single(.string(utcOffset))),
            (Resource.timezone, .single(.string(timezone))),
            (Resource.binding, .single(.string(info.binding))),
            (Resource.deviceType, .single(.string(info.deviceType))),
            (Resource.hardwareVersion, .single(.string(info.hardwareVersion))),
            (Resource.softwareVersion, .single(.string(info.softwareVersion))),
            (Resource.memoryTotal, .single(.integer(info.memoryTotal))),
        ]
        for (id, content) in values {
            // Every value above has its resource's type and multiplicity, so this cannot fail.
            do throws(LwM2MError) {
                try device.set(LwM2MPath(3, 0, id), content)
            } catch {
                preconditionFailure("Device object value for /3/0/\(id) does not fit: \(error)")
            }
        }
        device.onExecute(Resource.reboot) { _, _ in reboot() }
        if let factoryReset { device.onExecute(Resource.factoryReset) { _, _ in factoryReset() } }
        device.onExecute(Resource.resetErrorCode) { [unowned device] _, _ throws(LwM2MError) in
            try device.set(LwM2MPath(3, 0, Resource.errorCode), .multiple([0: .integer(0)]))
        }
        return device
    }
}
