/// The fixed values of a snapshot Device object (`DeviceSnapshot`): for the demo server, tests
/// and benchmarks, which need a /3/0 whose values do not move. The daemon uses the live
/// `DeviceObject` instead.
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

    /// Every value given: there are no defaults (a snapshot reports what its maker knows).
    public init(manufacturer: String, modelNumber: String, serialNumber: String, firmwareVersion: String,
                deviceType: String, hardwareVersion: String, softwareVersion: String, powerSources: [Int64],
                powerSourceVoltages: [Int64], batteryLevel: Int64, memoryFree: Int64, memoryTotal: Int64,
                binding: String = "U") {
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

/// Builds a snapshot Device object (/3, one instance /3/0) on `StaticObject`, from given values.
public enum DeviceSnapshot {
    public typealias Resource = DeviceObject.Resource

    /// A Device object with `info`, Error Code [0], the given time settings, and the
    /// executables Reboot (/3/0/4), Factory Reset (/3/0/5, present only when `factoryReset` is
    /// given) and Reset Error Code (/3/0/12, which sets Error Code back to [0]).
    ///
    /// `reboot` and `factoryReset` run before the 2.04 response is sent: they must schedule
    /// the action, not perform it.
    public static func make(info: DeviceInfo, currentTime: Int64, utcOffset: String = "+00:00",
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
