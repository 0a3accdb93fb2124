/// One thermal zone of the kernel's thermal framework: `/sys/class/thermal/thermal_zoneN`
/// (Documentation/ABI/testing/sysfs-class-thermal).
public struct ThermalZone: Hashable, Sendable, CustomStringConvertible {
    /// The directory name, `thermal_zone0`.
    public let name: String
    /// The zone's `type` attribute (`cpu-thermal`, `acpitz`, `x86_pkg_temp`); nil when unreadable.
    public let type: String?

    public init(name: String, type: String?) {
        self.name = name
        self.type = type
    }

    /// The zone's directory as on the board.
    public var directory: String { ThermalZones.directory + "/" + name }

    public var description: String { type.map { "\(name) (\($0))" } ?? name }
}

/// One trip point of a thermal zone: `trip_point_K_temp` (millidegrees Celsius) and
/// `trip_point_K_type` (`critical`, `hot`, `passive`, `active`).
public struct TripPoint: Hashable, Sendable {
    public let index: Int
    public let celsius: Double
    public let type: String?

    public init(index: Int, celsius: Double, type: String?) {
        self.index = index
        self.celsius = celsius
        self.type = type
    }
}

/// Reads the kernel's thermal zones under a `SystemRoot`. Malformed or unreadable attributes
/// read as absent (nil), never as an error that stops the caller.
public enum ThermalZones {
    /// Where the kernel lists its zones.
    public static let directory = "/sys/class/thermal"

    /// Every `thermal_zoneN` under `root`, by ascending N (`thermal_zone2` before `thermal_zone10`).
    public static func all(in root: SystemRoot) -> [ThermalZone] {
        let numbered: [(Int, String)] = root.entries(directory).compactMap { name in
            guard name.hasPrefix("thermal_zone"), let number = Int(name.dropFirst("thermal_zone".count)),
                  number >= 0 else { return nil }
            return (number, name)
        }
        return numbered.sorted { $0.0 < $1.0 }.map { zone($0.1, in: root) }
    }

    /// The zones `selection` names, and the names that match no zone (for the caller to warn
    /// about). A name matches a directory name first, else every zone of that `type`.
    public static func select(_ selection: BoardDefinition.Selection, in root: SystemRoot)
        -> (zones: [ThermalZone], missing: [String])
    {
        switch selection {
        case .none: return ([], [])
        case .auto: return (all(in: root), [])
        case .names(let names):
            let available = all(in: root)
            var zones: [ThermalZone] = []
            var missing: [String] = []
            for name in names {
                let byName = available.filter { $0.name == name }
                let matches = byName.isEmpty ? available.filter { $0.type == name } : byName
                if matches.isEmpty { missing.append(name) }
                for zone in matches where !zones.contains(zone) { zones.append(zone) }
            }
            return (zones, missing)
        }
    }

    /// The zone `name` (`thermal_zone0`) as it is under `root`.
    public static func zone(_ name: String, in root: SystemRoot) -> ThermalZone {
        ThermalZone(name: name, type: root.firstLine(directory + "/" + name + "/type"))
    }

    /// The zone's current temperature in °C (`temp` holds millidegrees Celsius); nil when the
    /// file is absent, unreadable (some drivers fail the read while the sensor is not ready) or
    /// not an integer.
    public static func celsius(of zone: ThermalZone, in root: SystemRoot) -> Double? {
        millidegrees(root.firstLine(zone.directory + "/temp"))
    }

    /// The zone's trip points by ascending index; a trip point whose temperature is not an
    /// integer is left out.
    public static func tripPoints(of zone: ThermalZone, in root: SystemRoot) -> [TripPoint] {
        let indices: [Int] = root.entries(zone.directory).compactMap { name in
            guard name.hasPrefix("trip_point_"), name.hasSuffix("_temp") else { return nil }
            return Int(name.dropFirst("trip_point_".count).dropLast("_temp".count))
        }
        return indices.sorted().compactMap { index in
            let prefix = zone.directory + "/trip_point_\(index)_"
            guard let celsius = millidegrees(root.firstLine(prefix + "temp")) else { return nil }
            return TripPoint(index: index, celsius: celsius, type: root.firstLine(prefix + "type"))
        }
    }

    /// The temperature of the zone's lowest `critical` trip point, °C: the kernel shuts the
    /// system down there, so no running board reports a higher value. nil without one.
    public static func criticalCelsius(of zone: ThermalZone, in root: SystemRoot) -> Double? {
        tripPoints(of: zone, in: root).filter { $0.type == "critical" }.map(\.celsius).min()
    }

    /// Millidegrees Celsius text (`48312`, `-5000`) as °C; nil for anything else.
    static func millidegrees(_ text: String?) -> Double? {
        guard let text, let value = Int64(text), value > -1_000_000_000, value < 1_000_000_000 else { return nil }
        return Double(value) / 1000
    }
}
