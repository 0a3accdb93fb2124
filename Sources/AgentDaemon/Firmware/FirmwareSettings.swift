import AgentCommon

/// The `[firmware]` section of agent.conf (docs/firmware-update.md, "Configuration"): whether
/// the agent serves the Firmware Update object (5), where images go and how large they may be,
/// which installer runs them, and whether packages must be signed.
public struct FirmwareSettings: Sendable, Equatable {
    /// The program that installs an image.
    public enum Installer: Sendable, Equatable {
        /// `HOOK install IMAGE VERSION`, `HOOK confirm VERSION` (`script = PATH`).
        case script(path: String)
        /// `rauc install` (`rauc-command`, default `rauc`).
        case rauc(command: [String])
        /// `swupdate OPTIONS -i IMAGE` (`swupdate-command`, `swupdate-options`,
        /// `swupdate-reboot`, `confirm-hook`).
        case swupdate(command: [String], rebootRequired: Bool, confirmHook: String?)
    }

    /// Serve object 5 (default yes).
    public var enabled = true
    /// The largest image accepted, in bytes (default 512 MiB).
    public var maximumSize: Int64 = 512 << 20
    /// Bytes kept free on the state directory's file system (default 1 MiB).
    public var reserve: Int64 = 1 << 20
    /// Nil: no installer configured (Update ends with result 8, said in the log).
    public var installer: Installer?
    /// How long an installer may run before it is stopped (default 30 min).
    public var installerTimeout: Duration = .seconds(1800)
    /// How long to wait before asking the installer again when it cannot tell yet whether an
    /// install took after the reboot (its service not up yet; default 30 s).
    public var confirmRetry: Duration = .seconds(30)
    /// Only packages signed by `vendorKey` for `boardName` are accepted (docs, "Package format").
    public var requireSignature = false
    /// PEM public key of the vendor (required with `requireSignature`).
    public var vendorKey: String?
    /// The board name a package's manifest must carry (required with `requireSignature`).
    public var boardName: String?
    /// PEM CA file for https Package URIs (default: the system trust store).
    public var httpCA: String?

    public init() {}

    static let keys = ["enabled", "maximum-size", "reserve", "installer", "script", "rauc-command",
                       "swupdate-command", "swupdate-options", "swupdate-reboot", "confirm-hook",
                       "installer-timeout", "confirm-retry", "require-signature", "vendor-key", "board-name", "http-ca"]

    /// The settings of `section` (nil: the defaults), checked.
    init(section: ConfigFile.Section?) throws(ConfigFileError) {
        guard let section else { return }
        for entry in section.entries where !Self.keys.contains(entry.key) {
            throw ConfigFileError(line: entry.line, "[firmware]: unknown key \"\(entry.key)\"")
        }
        func error(_ key: String, _ text: String) -> ConfigFileError {
            ConfigFileError(line: section.line(of: key), "[firmware] \(key): \(text)")
        }
        func bool(_ key: String) throws(ConfigFileError) -> Bool? {
            switch section.value(key) {
            case nil: return nil
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            case let text?: throw error(key, "\"\(text)\": expected yes or no")
            }
        }
        func path(_ key: String) throws(ConfigFileError) -> String? {
            guard let text = section.value(key) else { return nil }
            guard text.hasPrefix("/") else { throw error(key, "\"\(text)\": expected an absolute path") }
            return text
        }
        func words(_ key: String) throws(ConfigFileError) -> [String]? {
            guard let text = section.value(key) else { return nil }
            let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard !words.isEmpty else { throw error(key, "empty") }
            return words
        }
        enabled = try bool("enabled") ?? true
        if let text = section.value("maximum-size") {
            guard let value = Self.byteCount(text), value > 0 else {
                throw error("maximum-size", "\"\(text)\": expected a positive number of bytes (suffix K, M or G allowed)")
            }
            maximumSize = value
        }
        if let text = section.value("reserve") {
            guard let value = Self.byteCount(text) else {
                throw error("reserve", "\"\(text)\": expected a number of bytes (suffix K, M or G allowed)")
            }
            reserve = value
        }
        if let text = section.value("installer-timeout") {
            guard let value = Double(text), value >= 1, value <= 86_400 else {
                throw error("installer-timeout", "\"\(text)\": expected 1…86400 seconds")
            }
            installerTimeout = .milliseconds(Int64((value * 1000).rounded()))
        }
        if let text = section.value("confirm-retry") {
            guard let value = Double(text), value >= 1, value <= 3600 else {
                throw error("confirm-retry", "\"\(text)\": expected 1…3600 seconds")
            }
            confirmRetry = .milliseconds(Int64((value * 1000).rounded()))
        }
        switch section.value("installer") {
        case nil:
            for key in ["script", "rauc-command", "swupdate-command", "swupdate-options", "swupdate-reboot"]
            where section.value(key) != nil {
                throw error(key, "set installer = script, rauc or swupdate too")
            }
        case "script":
            guard let hook = try path("script") else { throw error("installer", "installer = script needs script = PATH") }
            installer = .script(path: hook)
        case "rauc":
            installer = .rauc(command: try words("rauc-command") ?? ["rauc"])
        case "swupdate":
            let command = (try words("swupdate-command") ?? ["swupdate"]) + (try words("swupdate-options") ?? [])
            installer = .swupdate(command: command, rebootRequired: try bool("swupdate-reboot") ?? true,
                                  confirmHook: try path("confirm-hook"))
        case let other?:
            throw error("installer", "\"\(other)\": expected script, rauc or swupdate")
        }
        requireSignature = try bool("require-signature") ?? false
        vendorKey = try path("vendor-key")
        boardName = section.value("board-name")
        if let name = boardName {
            guard (1...128).contains(name.utf8.count),
                  name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") }) else {
                throw error("board-name", "\"\(name)\": 1–128 printable ASCII characters without spaces or '='")
            }
        }
        if requireSignature {
            guard vendorKey != nil else { throw error("require-signature", "needs vendor-key = PATH (PEM public key)") }
            guard boardName != nil else { throw error("require-signature", "needs board-name = NAME (the manifest's board)") }
        }
        httpCA = try path("http-ca")
    }

    /// "1048576", "512K", "64M", "2G" (binary multiples) → bytes; nil when not a count.
    static func byteCount(_ text: String) -> Int64? {
        var digits = Substring(text)
        var shift: Int64 = 0
        switch text.last {
        case "K", "k": shift = 10
        case "M", "m": shift = 20
        case "G", "g": shift = 30
        default: break
        }
        if shift > 0 { digits = digits.dropLast() }
        guard let value = Int64(digits), value >= 0, value <= (Int64.max >> shift) else { return nil }
        return value << shift
    }
}
