import AgentCommon
import LwM2M

/// One board file (`board/NAME.conf`), parsed and checked: where each value the agent reports
/// comes from on that board and which hardware backs which object. The format is documented in
/// docs/boards.md; `BoardDefinition(parsing:file:)` reads it.
public struct BoardDefinition: Sendable, Equatable {
    /// Where an identity value comes from.
    public enum ValueSource: Hashable, Sendable, CustomStringConvertible {
        /// The text itself.
        case literal(String)
        /// The first line of a file (NULs stripped); an absent or unreadable file means the
        /// resource is absent.
        case file(String)

        public var description: String {
            switch self {
            case .literal(let text): quoted(text)
            case .file(let path): "file:\(path)"
            }
        }
    }

    /// A list of kernel objects to use: all of them, none, or the ones named.
    public enum Selection: Hashable, Sendable, CustomStringConvertible {
        case auto
        case none
        case names([String])

        public var description: String {
            switch self {
            case .auto: "auto"
            case .none: "none"
            case .names(let names): names.joined(separator: " ")
            }
        }
    }

    /// One `key:glob` pair of the `dmi` key, matched against `/sys/class/dmi/id/<key>`.
    public struct DMIPattern: Sendable, Equatable, CustomStringConvertible {
        /// An attribute of /sys/class/dmi/id (`board_vendor`).
        public let key: String
        /// A shell pattern (fnmatch) matched against its first line.
        public let glob: String

        public init(key: String, glob: String) {
            self.key = key
            self.glob = glob
        }

        public var description: String { "\(key):\(glob)" }
    }

    /// How the board reboots after /3/0/4.
    public enum RebootMethod: Hashable, Sendable, CustomStringConvertible {
        /// `systemctl reboot` (org.freedesktop.login1).
        case systemd
        /// `reboot(2)` with RB_AUTOBOOT (needs CAP_SYS_BOOT).
        case syscall
        /// A command: the executable's absolute path and its arguments (no shell).
        case command(path: String, arguments: [String])

        public var description: String {
            switch self {
            case .systemd: "systemd (systemctl reboot)"
            case .syscall: "syscall (reboot(2), CAP_SYS_BOOT)"
            case .command(let path, let arguments): "command \(([path] + arguments).joined(separator: " "))"
            }
        }
    }

    /// How the board's TPM is attached.
    public enum TPMInterface: String, Sendable, Equatable, CaseIterable {
        case spi, i2c, lpc, firmware, none
    }

    /// Identity resources of the Device object; nil: the resource is absent.
    public struct Identity: Sendable, Equatable {
        /// /3/0/0 Manufacturer.
        public var manufacturer: ValueSource?
        /// /3/0/1 Model Number.
        public var model: ValueSource?
        /// /3/0/2 Serial Number.
        public var serial: ValueSource?
        /// /3/0/18 Hardware Version.
        public var hardwareVersion: ValueSource?
        /// /3/0/17 Device Type.
        public var deviceType: ValueSource?

        public init() {}
    }

    /// `[power]`: which power supplies report voltage, current and battery state.
    public struct Power: Sendable, Equatable {
        /// The /sys/class/power_supply entries reported.
        public var supplies: Selection = .auto
        /// The fixed input reported as a source when no power_supply describes it.
        public var input: PowerSourceKind?

        public init(supplies: Selection = .auto, input: PowerSourceKind? = nil) {
            self.supplies = supplies
            self.input = input
        }
    }

    /// `[tpm]`: the TPM the agent's tpm-tcti uses on this board.
    public struct TPM: Sendable, Equatable {
        /// The device node (`/dev/tpmrm0`); nil when not named.
        public var device: String?
        /// How the TPM is attached; `.none`: not described by the board.
        public var interface: TPMInterface = .none

        public init(device: String? = nil, interface: TPMInterface = .none) {
            self.device = device
            self.interface = interface
        }
    }

    /// `[led NAME]`: an LED for Light Control (issue 13).
    public struct LED: Sendable, Equatable {
        public enum Source: Sendable, Equatable, CustomStringConvertible {
            /// A `/sys/class/leds` entry.
            case path(String)
            /// A GPIO line by name.
            case line(String)

            public var description: String {
                switch self {
                case .path(let path): path
                case .line(let line): "GPIO line \(line)"
                }
            }
        }

        /// The section name (`[led NAME]`).
        public let name: String
        /// What drives it.
        public var source: Source

        public init(name: String, source: Source) {
            self.name = name
            self.source = source
        }
    }

    /// `[gpio NAME]`: a GPIO line for the IPSO Digital Input/Output objects (issue 13).
    public struct GPIO: Sendable, Equatable {
        public enum ObjectKind: String, Sendable, Equatable, CaseIterable {
            case digitalInput = "digital-input"
            case digitalOutput = "digital-output"
            case pushButton = "push-button"

            /// Whether the agent drives the line.
            public var isOutput: Bool { self == .digitalOutput }
        }

        public enum Bias: String, Sendable, Equatable, CaseIterable {
            case asIs = "as-is"
            case disable
            case pullUp = "pull-up"
            case pullDown = "pull-down"
        }

        /// The section name (`[gpio NAME]`).
        public let name: String
        /// The line's name (gpio-line-names, from the board's device tree or an overlay).
        public var line: String
        /// Restricts the search to one chip (label or gpiochipN).
        public var chip: String?
        /// The IPSO object the line backs.
        public var object: ObjectKind
        /// The object's Application Type resource.
        public var applicationType: String?
        /// Whether the line is active low.
        public var activeLow = false
        /// The bias requested with the line.
        public var bias = Bias.asIs
        /// Outputs: the value requested at start (0 or 1).
        public var initial: Int?
        /// Outputs: the state survives an agent restart.
        public var persist = false
        /// Never requested (hogged or owned by the system).
        public var reserved = false
        /// Inputs: the debounce period in milliseconds (Digital Input's initial 5503; a Push
        /// Button's fixed one).
        public var debounceMilliseconds = 0
        /// The longest debounce period a board or a server may set (one minute).
        public static let maximumDebounceMilliseconds = 60_000

        public init(name: String, line: String, chip: String? = nil, object: ObjectKind) {
            self.name = name
            self.line = line
            self.chip = chip
            self.object = object
        }
    }

    /// The board's name (the file name without `.conf`).
    public var name: String
    /// One line for people.
    public var description: String?
    /// Matched against the entries of `/proc/device-tree/compatible`.
    public var compatible: [String] = []
    /// Matched against /sys/class/dmi/id on machines without a device tree; all must match.
    public var dmi: [DMIPattern] = []
    /// Overlay sources (`overlays/NAME.dts`) the board needs.
    public var overlays: [String] = []
    /// `[identity]`.
    public var identity = Identity()
    /// `[power]`.
    public var power = Power()
    /// `[thermal] zones`: thermal_zoneN names or their types, one Temperature instance each.
    public var thermalZones: Selection = .auto
    /// `[network] interfaces`: the Connectivity Monitoring bearers (`.auto`: the hardware-backed
    /// interfaces and whichever carries the default route, never lo).
    public var interfaces: Selection = .auto
    /// Whether a write of Current Time sets CLOCK_REALTIME; no: refused with 4.05.
    public var clockSettable = false
    /// `[clock] timezone`: whether a UTC Offset/Timezone write changes the system's zone.
    public var timezone: TimezoneControl = .none

    /// Who may change the system's time zone.
    public enum TimezoneControl: String, CaseIterable, Hashable, Sendable {
        /// Not the agent (a systemd unit with a read-only /etc; timedatectl would be the way):
        /// UTC Offset/Timezone writes are refused with 4.05.
        case none
        /// The agent, by replacing the /etc/localtime symlink (and /etc/timezone).
        case localtime
    }
    /// `[reboot]`.
    public var reboot: RebootMethod = .systemd
    /// `[tpm]`.
    public var tpm = TPM()
    /// In file order.
    public var leds: [LED] = []
    /// In file order.
    public var gpios: [GPIO] = []

    /// A definition with every default (auto / none / systemd) and nothing else.
    public init(name: String) { self.name = name }
}
