import AgentCommon
import Board
import Glibc
import LwM2M

/// What the sensor objects are built from: plain inputs the board definition supplies
/// (`[thermal] zones`, `[network] interfaces`) and where the kernel's files are read.
public struct SensorInputs: Hashable, Sendable {
    public var thermalZones: BoardDefinition.Selection
    public var interfaces: BoardDefinition.Selection
    public var root: SystemRoot

    /// `root` defaults to the daemon's (`SystemRoot.daemon`: the machine's own files).
    /// The board's `[thermal] zones` and `[network] interfaces`.
    public init(board: BoardDefinition, root: SystemRoot = .daemon) {
        self.init(thermalZones: board.thermalZones, interfaces: board.interfaces, root: root)
    }

    public init(thermalZones: BoardDefinition.Selection = .auto, interfaces: BoardDefinition.Selection = .auto,
                root: SystemRoot = .daemon) {
        self.thermalZones = thermalZones
        self.interfaces = interfaces
        self.root = root
    }
}

/// The kernel-backed sensor objects: Temperature (3303, one instance per selected thermal zone,
/// no object without a zone) and Connectivity Monitoring (4, no object for `interfaces = none`).
///
public enum SensorObjects {
    /// The objects for `inputs`, and what the operator should hear about (selected zones or
    /// interfaces that do not exist).
    public static func make(_ inputs: SensorInputs) -> (objects: [any SampledObject], warnings: [String]) {
        var objects: [any SampledObject] = []
        var warnings: [String] = []
        let thermal = ThermalZones.select(inputs.thermalZones, in: inputs.root)
        if !thermal.missing.isEmpty {
            warnings.append("thermal zones \(thermal.missing.joined(separator: ", ")) not found under \(inputs.root.path(ThermalZones.directory))")
        }
        if !thermal.zones.isEmpty {
            objects.append(TemperatureObject(sensors: thermal.zones.map { ThermalZoneSensor(zone: $0, root: inputs.root) }))
        }
        guard inputs.interfaces != .none else { return (objects, warnings) }
        let network = NetworkConnectivity(root: inputs.root, selection: inputs.interfaces)
        let missing = network.missingInterfaces()
        if !missing.isEmpty {
            warnings.append("network interfaces \(missing.joined(separator: ", ")) not found under \(inputs.root.path(NetworkInterfaces.directory))")
        }
        objects.append(ConnectivityMonitoringObject(provider: network))
        return (objects, warnings)
    }

    /// Every value the sensor objects would report now, one line each
    /// (`/3303/0/5700 Sensor Value = 48.312`), for `lwm2m-agent board show`; the warnings and
    /// the absence of a Temperature object are lines too.
    public static func valueLines(_ inputs: SensorInputs) -> [String] {
        let made = make(inputs)
        var lines = made.warnings.map { "warning: " + Logger.escaped($0) }
        if !made.objects.contains(where: { $0.definition.id == 3303 }) {
            lines.append("/3303 Temperature: absent (thermal zones = \(inputs.thermalZones))")
        }
        if inputs.interfaces == .none { lines.append("/4 Connectivity Monitoring: absent (interfaces = none)") }
        for object in made.objects { lines += object.reportLines(executables: false, escape: Logger.escaped) }
        return lines
    }
}
