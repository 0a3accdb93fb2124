import AgentCommon
import Board
import Files
import Glibc
import LwM2M
import Transport

/// The plain inputs of the Device object (/3/0) and of Reboot: where identity, power and clock
/// come from, and how the board reboots, taken from the chosen board definition (`[identity]`,
/// `[power]`, `[clock]`, `[reboot]`, docs/boards.md).
public struct DeviceInputs: Sendable {
    public var platform: KernelDevicePlatform.Configuration
    public var reboot: SystemReboot.Method

    /// How old a platform reading a Read of /3/0 may be served: 1 s on the loop's monotonic
    /// clock (a burst of Reads reads /proc/meminfo, the power supplies, the zone and the state
    /// directory's file system once per second; a sampling round and a setting the agent writes
    /// read them afresh).
    public static var readingFreshness: ReadingFreshness {
        ReadingFreshness(maxAge: .seconds(1), clock: MonotonicClock.now)
    }

    public init(platform: KernelDevicePlatform.Configuration, reboot: SystemReboot.Method) {
        self.platform = platform
        self.reboot = reboot
    }

    /// The inputs of `board` for the daemon `configuration` describes. An identity value the
    /// board names comes first; when it is absent on this machine (a file the kernel does not
    /// have), the generic candidates follow (device tree, then DMI; `serial-file` first for the
    /// serial), so a board file never has to repeat them.
    public init(board: BoardDefinition, configuration: AgentConfiguration, root: SystemRoot = .daemon) {
        self.init(board: board, stateDirectory: configuration.stateDirectory, serialFile: configuration.serialFile,
                  root: root)
    }

    /// The inputs of `board` with the daemon's state directory and `serial-file`.
    public init(board: BoardDefinition, stateDirectory: String, serialFile: String?, root: SystemRoot = .daemon) {
        var platform = KernelDevicePlatform.Configuration.generic(stateDirectory: stateDirectory, serialFile: serialFile)
        platform.root = root
        let identity = board.identity
        func prefer(_ source: BoardDefinition.ValueSource?, _ fallback: [KernelDevicePlatform.Source]) -> [KernelDevicePlatform.Source] {
            guard let source else { return fallback }
            if case .literal = source { return [source] }
            return [source] + fallback.filter { $0 != source }
        }
        platform.manufacturer = prefer(identity.manufacturer, platform.manufacturer)
        platform.modelNumber = prefer(identity.model, platform.modelNumber)
        platform.serialNumber = prefer(identity.serial, platform.serialNumber)
        platform.hardwareVersion = prefer(identity.hardwareVersion, platform.hardwareVersion)
        platform.deviceType = prefer(identity.deviceType, platform.deviceType)
        platform.supplies = board.power.supplies
        platform.input = board.power.input
        platform.clockSettable = board.clockSettable
        platform.timezone = board.timezone
        self.init(platform: platform, reboot: board.reboot)
    }
}

extension DeviceInputs {
    /// Every value the Device object would report with these inputs now, one line each
    /// (`/3/0/21 Memory Total = 3977302`), then how Reboot reboots and whether a Current Time
    /// write sets the clock: for `lwm2m-agent board show`.
    public func reportLines() -> [String] {
        let platform = KernelDevicePlatform(self.platform)
        var lines = DeviceObject(platform: platform, reboot: {}, factoryReset: {}).reportLines(escape: Logger.escaped)
        lines.append("Reboot (/3/0/4): \(reboot)")
        lines.append("UTC Offset / Timezone writes (/3/0/14, /3/0/15): " + (self.platform.timezone == .localtime
            ? "replace /etc/localtime (and /etc/timezone)" : "refused with 4.05 ([clock] timezone = none)"))
        lines.append("Current Time writes (/3/0/13): " + (self.platform.clockSettable
            ? "set CLOCK_REALTIME (needs CAP_SYS_TIME)" : "refused with 4.05 (clock not settable)"))
        return lines
    }
}
