import LwM2M

/// A thermal zone as the sensor of a Temperature (3303) instance: read from the zone's files
/// under `root` each time it is asked, so a read reports the kernel's current value.
public final class ThermalZoneSensor: TemperatureSensor {
    public let zone: ThermalZone
    public let root: SystemRoot

    public init(zone: ThermalZone, root: SystemRoot) {
        self.zone = zone
        self.root = root
    }

    /// The zone's `type`.
    public var applicationType: String? { zone.type }

    /// The kernel does not say how low a zone can measure.
    public var rangeMinimum: Double? { nil }

    /// The zone's critical trip point, when it has one.
    public var rangeMaximum: Double? { ThermalZones.criticalCelsius(of: zone, in: root) }

    public func celsius() -> Double? { ThermalZones.celsius(of: zone, in: root) }
}
