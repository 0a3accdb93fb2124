import AgentCommon
import Board
import Files
import Glibc
import LwM2M

/// The plain inputs of the Device object (/3/0) and of Reboot: where identity, power and clock
/// come from, and how the board reboots. `generic` is the generic Linux board; `init(boardFile:)`
/// reads the Device-related sections of a board file (`[identity]`, `[power]`, `[clock]`,
/// `[reboot]`, docs/boards.md) — an interim reader until the board definitions
/// (`BoardDefinition`) are wired in, which then fill these inputs instead.
public struct DeviceInputs: Sendable {
    public var platform: KernelDevicePlatform.Configuration
    public var reboot: SystemReboot.Method

    /// The generic Linux board: identity from the device tree or DMI, device type "Gateway",
    /// every power supply, clock not set by the agent (NTP owns it; a board file says
    /// `settable = yes`), reboot through systemd.
    public static func generic(_ configuration: AgentConfiguration) -> DeviceInputs {
        var platform = KernelDevicePlatform.Configuration.generic(stateDirectory: configuration.stateDirectory,
                                                                  serialFile: configuration.serialFile)
        platform.root = defaultRoot
        return DeviceInputs(platform: platform, reboot: .systemd)
    }

    /// `/`, or the directory in the environment variable `LWM2M_SYSTEM_ROOT`: a test-only seam
    /// (the same as the sensor objects') that lets the interop tests run the real daemon over a
    /// tree of /sys, /proc and /etc. Not for operators; a deployed board never sets it.
    public static var defaultRoot: SystemRoot {
        guard let value = getenv("LWM2M_SYSTEM_ROOT").map({ String(cString: $0) }), !value.isEmpty else { return .live }
        return SystemRoot(value)
    }

    public init(platform: KernelDevicePlatform.Configuration, reboot: SystemReboot.Method) {
        self.platform = platform
        self.reboot = reboot
    }

    /// The inputs `configuration` names: its `board` file when it is a path, else generic.
    public static func forConfiguration(_ configuration: AgentConfiguration) throws(AgentLaunchError) -> DeviceInputs {
        var inputs = generic(configuration)
        guard let board = configuration.board, board.hasPrefix("/") else { return inputs }
        let text: String
        do {
            text = String(decoding: try FileReader.read(board, maximumSize: 1 << 20), as: UTF8.self)
        } catch {
            throw .unreadableConfiguration(path: board, error)
        }
        do {
            try inputs.apply(try ConfigFile(parsing: text))
        } catch {
            throw .configuration(path: board, error)
        }
        return inputs
    }

    /// Applies the Device-related sections of a board file.
    mutating func apply(_ file: ConfigFile) throws(ConfigFileError) {
        func sources(_ text: String) -> [KernelDevicePlatform.Source] {
            text.hasPrefix("file:") ? [.file(String(text.dropFirst(5)))] : [.literal(text)]
        }
        if let identity = file.sections("identity").first {
            for (key, value, _) in identity.entries {
                switch key {
                case "manufacturer": platform.manufacturer = sources(value)
                case "model": platform.modelNumber = sources(value)
                case "serial": platform.serialNumber = sources(value)
                case "hardware-version": platform.hardwareVersion = sources(value)
                case "device-type": platform.deviceType = sources(value)
                case "firmware-version": platform.firmwareVersion = sources(value)
                default: break
                }
            }
        }
        if let power = file.sections("power").first {
            switch power.value("supplies") {
            case nil, "auto"?: platform.supplies = .auto
            case "none"?: platform.supplies = .none
            case let names?: platform.supplies = .names(names.split(separator: " ").map(String.init))
            }
            if let input = power.value("input") {
                guard let kind = PowerSourceKind(name: input) else {
                    throw ConfigFileError(line: power.line(of: "input"), "input \(quoted(input)): expected dc, usb, poe, ac, battery, external-battery, fuel-cell or solar")
                }
                platform.input = kind
            }
        }
        if let clock = file.sections("clock").first, let settable = clock.value("settable") {
            guard settable == "yes" || settable == "no" else {
                throw ConfigFileError(line: clock.line(of: "settable"), "settable \(quoted(settable)): expected yes or no")
            }
            platform.clockSettable = settable == "yes"
        }
        if let section = file.sections("reboot").first {
            switch section.value("method") ?? "systemd" {
            case "systemd": reboot = .systemd
            case "syscall": reboot = .syscall
            case "command":
                let words = (section.value("command") ?? "").split(separator: " ").map(String.init)
                guard let path = words.first, path.hasPrefix("/") else {
                    throw ConfigFileError(line: section.line(of: "command"), "method = command needs command = /absolute/path [arguments]")
                }
                reboot = .command(path: path, arguments: Array(words.dropFirst()))
            case let other:
                throw ConfigFileError(line: section.line(of: "method"), "method \(quoted(other)): expected systemd, syscall or command")
            }
        }
    }
}

extension DeviceInputs {
    /// Every value the Device object would report with these inputs now, one line each
    /// (`/3/0/21 Memory Total = 3977302`), then how Reboot reboots and whether a Current Time
    /// write sets the clock: for `lwm2m-agent board show`.
    public func reportLines() -> [String] {
        let platform = KernelDevicePlatform(self.platform)
        var lines = DeviceObject(platform: platform, reboot: {}, factoryReset: {}).reportLines()
        lines.append("Reboot (/3/0/4): \(reboot)")
        lines.append("Current Time writes (/3/0/13): " + (self.platform.clockSettable
            ? "set CLOCK_REALTIME (needs CAP_SYS_TIME)" : "refused with 4.05 (clock not settable)"))
        if let problem = platform.timeSettingsProblem { lines.append("ignored: \(problem)") }
        return lines
    }
}
