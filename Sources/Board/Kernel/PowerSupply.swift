import LwM2M

/// One entry of `/sys/class/power_supply` (Documentation/ABI/testing/sysfs-class-power):
/// `type`, `online`, `status`, `capacity`, `capacity_level`, `health`, `present`, `scope`,
/// `voltage_now` (µV), `current_now` (µA). A file that is absent, unreadable or not a number
/// gives nil for its value, never a made-up one.
public struct PowerSupply: Hashable, Sendable {
    public var name: String
    /// "Mains", "Battery", "USB", "UPS", "Wireless" …
    public var type: String
    public var online: Bool?
    public var present: Bool?
    /// "Charging", "Discharging", "Not charging", "Full", "Unknown".
    public var status: String?
    /// Percent 0…100 (values outside are ignored).
    public var capacity: Int64?
    /// "Unknown", "Critical", "Low", "Normal", "High", "Full".
    public var capacityLevel: String?
    public var health: String?
    /// "System" (powers the machine) or "Device" (a peripheral's battery: a mouse, a pen).
    public var scope: String?
    public var voltageMicrovolts: Int64?
    public var currentMicroamps: Int64?

    /// The supply `name` under `root`; nil when it has no readable `type`.
    public static func read(_ root: SystemRoot, name: String) -> PowerSupply? {
        let base = "/sys/class/power_supply/" + name + "/"
        guard !name.contains("/"), name != "..", let type = root.firstLine(base + "type") else { return nil }
        func flag(_ file: String) -> Bool? {
            switch root.integer(base + file) { case 0?: false; case 1?: true; default: nil }
        }
        var supply = PowerSupply(name: name, type: type)
        supply.online = flag("online")
        supply.present = flag("present")
        supply.status = root.firstLine(base + "status")
        supply.capacity = root.integer(base + "capacity").flatMap { (0...100).contains($0) ? $0 : nil }
        supply.capacityLevel = root.firstLine(base + "capacity_level")
        supply.health = root.firstLine(base + "health")
        supply.scope = root.firstLine(base + "scope")
        supply.voltageMicrovolts = root.integer(base + "voltage_now")
        supply.currentMicroamps = root.integer(base + "current_now")
        return supply
    }

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }

    /// The supplies powering the system, by name: every entry except peripheral batteries
    /// (`scope` = Device) and entries without a readable `type`.
    public static func all(_ root: SystemRoot) -> [PowerSupply] {
        root.entries("/sys/class/power_supply").compactMap { read(root, name: $0) }.filter { $0.scope != "Device" }
    }

    /// The /3/0/6 kind: Mains → AC, USB (and the old USB_* types) → USB, Battery → internal
    /// battery, UPS → external battery; nil for a type the Device object has no kind for.
    public var kind: PowerSourceKind? {
        switch type {
        case "Mains": .acMains
        case "Battery": .internalBattery
        case "UPS": .externalBattery
        case _ where type.hasPrefix("USB"): .usb
        default: nil
        }
    }

    /// As a Device-object power source: voltage in mV, current in mA (rounded toward zero).
    public var reading: PowerSourceReading? {
        guard let kind else { return nil }
        return PowerSourceReading(kind: kind, voltage: voltageMicrovolts.map { $0 / 1000 },
                                  current: currentMicroamps.map { $0 / 1000 }, online: online)
    }

    /// As the Device object's battery (for a `Battery` supply).
    public var battery: BatteryReading {
        BatteryReading(level: capacity, status: batteryStatus)
    }

    /// /3/0/20 from `present`, `health`, `capacity_level` and `status`.
    public var batteryStatus: BatteryStatus? {
        if present == false { return .notInstalled }
        if let health, ["Dead", "Over voltage", "Unspecified failure", "Overheat"].contains(health) { return .damaged }
        if capacityLevel == "Low" || capacityLevel == "Critical" { return .low }
        switch status {
        case "Charging": return .charging
        case "Full": return .chargeComplete
        case "Discharging", "Not charging": return .normal
        case "Unknown": return .unknown
        default: return nil
        }
    }
}
