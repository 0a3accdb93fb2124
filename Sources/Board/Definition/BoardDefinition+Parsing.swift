import AgentCommon
import LwM2M

extension BoardDefinition {
    /// The keys each section may hold.
    static let keys: [String: [String]] = [
        "board": ["name", "description", "compatible", "dmi", "overlays"],
        "identity": ["manufacturer", "model", "serial", "hardware-version", "device-type"],
        "power": ["supplies", "input"],
        "thermal": ["zones"],
        "network": ["interfaces"],
        "clock": ["settable", "timezone"],
        "reboot": ["method", "command"],
        "tpm": ["device", "interface"],
        "led": ["path", "line"],
        "gpio": ["line", "chip", "object", "application-type", "active-low", "bias", "initial", "persist", "reserved",
                 "debounce"],
    ]

    /// The attributes of `/sys/class/dmi/id` a `dmi` pattern may name (Documentation/ABI/testing/sysfs-class-dmi).
    public static let dmiKeys: Set<String> = [
        "bios_date", "bios_release", "bios_vendor", "bios_version", "board_asset_tag", "board_name",
        "board_serial", "board_vendor", "board_version", "chassis_asset_tag", "chassis_serial", "chassis_type",
        "chassis_vendor", "chassis_version", "ec_firmware_release", "product_family", "product_name",
        "product_serial", "product_sku", "product_uuid", "product_version", "sys_vendor",
    ]

    /// Parses the board file `text`; `file` is its path, named in errors, and its base name
    /// without `.conf` must equal `[board] name` (pass `expectedName` nil to skip that check, for
    /// the compiled-in generic board).
    public init(parsing text: String, file: String, expectedName: String?) throws(BoardDefinitionError) {
        let config: ConfigFile
        do {
            config = try ConfigFile(parsing: text)
        } catch {
            throw BoardDefinitionError(file: file, line: error.line, error.message)
        }
        var parser = Parser(file: file)
        self = try parser.definition(config, expectedName: expectedName)
    }

    /// Whether `name` can be a board, overlay, LED or GPIO name: letters, digits, `.`, `_`, `-`,
    /// not starting with `.` (so never a path).
    public static func isPlainName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.first != "." && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// The checks of one board file, each error naming the file and line.
private struct Parser {
    let file: String

    func fail(_ line: Int, _ message: String) -> BoardDefinitionError {
        BoardDefinitionError(file: file, line: line, message)
    }

    mutating func definition(_ config: ConfigFile, expectedName: String?) throws(BoardDefinitionError) -> BoardDefinition {
        for section in config.sections {
            guard let allowed = BoardDefinition.keys[section.kind] else {
                throw fail(section.line, "unknown section [\(shortened(section.kind))]")
            }
            let named = section.kind == "led" || section.kind == "gpio"
            if named && section.name == nil {
                throw fail(section.line, "[\(section.kind)] needs a name: [\(section.kind) NAME]")
            }
            if let name = section.name {
                guard named else { throw fail(section.line, "[\(section.kind)] takes no name") }
                guard BoardDefinition.isPlainName(name) else {
                    throw fail(section.line, "\(section.kind) name \(quoted(name)): use letters, digits, '.', '_' or '-'")
                }
            }
            for entry in section.entries where !allowed.contains(entry.key) {
                throw fail(entry.line, "unknown key \(quoted(entry.key)) in [\(section.kind)]")
            }
        }
        guard let board = config.sections("board").first else { throw fail(0, "missing [board] section") }
        guard let name = board.value("name") else { throw fail(board.line, "[board] needs a name") }
        guard BoardDefinition.isPlainName(name) else {
            throw fail(board.line(of: "name"), "name \(quoted(name)): use letters, digits, '.', '_' or '-'")
        }
        if let expectedName, name != expectedName {
            throw fail(board.line(of: "name"), "name \(quoted(name)) differs from the file name \(quoted(expectedName + ".conf"))")
        }
        var definition = BoardDefinition(name: name)
        definition.description = board.value("description").flatMap { $0.isEmpty ? nil : $0 }
        definition.compatible = words(board, "compatible")
        definition.dmi = try dmi(board)
        definition.overlays = words(board, "overlays")
        for overlay in definition.overlays where !BoardDefinition.isPlainName(overlay) {
            throw fail(board.line(of: "overlays"), "overlay \(quoted(overlay)): a name in overlays/ (without .dts)")
        }
        if let section = config.sections("identity").first {
            definition.identity.manufacturer = try source(section, "manufacturer")
            definition.identity.model = try source(section, "model")
            definition.identity.serial = try source(section, "serial")
            definition.identity.hardwareVersion = try source(section, "hardware-version")
            definition.identity.deviceType = try source(section, "device-type")
        }
        if let section = config.sections("power").first {
            definition.power.supplies = try selection(section, "supplies", allowNone: true) ?? .auto
            if let input = section.value("input") {
                guard let value = PowerSourceKind(name: input) else {
                    throw fail(section.line(of: "input"), "input \(quoted(input)): expected "
                               + PowerSourceKind.allCases.map(\.name).joined(separator: ", "))
                }
                definition.power.input = value
            }
        }
        if let section = config.sections("thermal").first {
            definition.thermalZones = try selection(section, "zones", allowNone: true) ?? .auto
        }
        if let section = config.sections("network").first {
            definition.interfaces = try selection(section, "interfaces", allowNone: false) ?? .auto
        }
        if let section = config.sections("clock").first {
            definition.clockSettable = try bool(section, "settable") ?? false
            if let text = section.value("timezone") {
                guard let value = BoardDefinition.TimezoneControl(rawValue: text) else {
                    throw fail(section.line(of: "timezone"), "timezone \(quoted(text)): expected "
                               + BoardDefinition.TimezoneControl.allCases.map(\.rawValue).joined(separator: " or "))
                }
                definition.timezone = value
            }
        }
        if let section = config.sections("reboot").first {
            definition.reboot = try reboot(section)
        }
        if let section = config.sections("tpm").first {
            definition.tpm = try tpm(section)
        }
        var claimed: [(chip: String?, line: String, owner: String, at: Int)] = []
        func claim(_ chip: String?, _ line: String, owner: String, at: Int) throws(BoardDefinitionError) {
            if let other = claimed.first(where: { $0.line == line && ($0.chip == nil || chip == nil || $0.chip == chip) }) {
                throw fail(at, "line \(quoted(line)) is already used by \(other.owner) (line \(other.at))")
            }
            claimed.append((chip, line, owner, at))
        }
        for section in config.sections("led") {
            let led = try led(section)
            if case .line(let line) = led.source { try claim(nil, line, owner: "[led \(led.name)]", at: section.line(of: "line")) }
            definition.leds.append(led)
        }
        for section in config.sections("gpio") {
            let gpio = try gpio(section)
            try claim(gpio.chip, gpio.line, owner: "[gpio \(gpio.name)]", at: section.line(of: "line"))
            definition.gpios.append(gpio)
        }
        return definition
    }

    // MARK: - Values

    func words(_ section: ConfigFile.Section, _ key: String) -> [String] {
        (section.value(key) ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    func dmi(_ section: ConfigFile.Section) throws(BoardDefinitionError) -> [BoardDefinition.DMIPattern] {
        var patterns: [BoardDefinition.DMIPattern] = []
        for word in words(section, "dmi") {
            guard let colon = word.firstIndex(of: ":") else {
                throw fail(section.line(of: "dmi"), "dmi \(quoted(word)): expected key:glob (board_vendor:Intel*)")
            }
            let key = String(word[..<colon]), glob = String(word[word.index(after: colon)...])
            guard BoardDefinition.dmiKeys.contains(key) else {
                throw fail(section.line(of: "dmi"), "dmi key \(quoted(key)) is not an attribute of /sys/class/dmi/id")
            }
            guard !glob.isEmpty else { throw fail(section.line(of: "dmi"), "dmi \(quoted(word)): empty pattern") }
            guard !patterns.contains(where: { $0.key == key }) else {
                throw fail(section.line(of: "dmi"), "dmi key \(quoted(key)) given twice")
            }
            patterns.append(.init(key: key, glob: glob))
        }
        return patterns
    }

    func source(_ section: ConfigFile.Section, _ key: String) throws(BoardDefinitionError) -> BoardDefinition.ValueSource? {
        guard let value = section.value(key) else { return nil }
        if value.hasPrefix("file:") {
            let path = String(value.dropFirst(5)).trimmingSpaces()
            guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw fail(section.line(of: key), "\(key) \(quoted(value)): file: needs an absolute path without ..")
            }
            return .file(path)
        }
        guard !value.isEmpty else { throw fail(section.line(of: key), "\(key) is empty (leave the key out for an absent resource)") }
        guard value.utf8.count <= 255 else { throw fail(section.line(of: key), "\(key) \(quoted(value)): longer than 255 bytes") }
        return .literal(value)
    }

    func selection(_ section: ConfigFile.Section, _ key: String,
                   allowNone: Bool) throws(BoardDefinitionError) -> BoardDefinition.Selection? {
        guard section.value(key) != nil else { return nil }
        let names = words(section, key)
        let keywords = allowNone ? "auto, none" : "auto"
        switch names {
        case []: throw fail(section.line(of: key), "\(key) is empty: expected \(keywords) or names")
        case ["auto"]: return .auto
        case ["none"] where allowNone: return BoardDefinition.Selection.none
        default:
            for name in names {
                guard name != "auto" && name != "none" else {
                    throw fail(section.line(of: key), "\(key): \(quoted(name)) cannot be mixed with names (expected \(keywords) or names)")
                }
                guard BoardDefinition.isPlainName(name) else {
                    throw fail(section.line(of: key), "\(key): \(quoted(name)) is not a kernel object name")
                }
            }
            if let repeated = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) }) {
                throw fail(section.line(of: key), "\(key): \(quoted(repeated.element)) listed twice")
            }
            return .names(names)
        }
    }

    func bool(_ section: ConfigFile.Section, _ key: String) throws(BoardDefinitionError) -> Bool? {
        switch section.value(key) {
        case nil: return nil
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        case let text?: throw fail(section.line(of: key), "\(key) \(quoted(text)): expected yes or no")
        }
    }

    func reboot(_ section: ConfigFile.Section) throws(BoardDefinitionError) -> BoardDefinition.RebootMethod {
        let method = section.value("method") ?? "systemd"
        let command = words(section, "command")
        if method != "command", section.value("command") != nil {
            throw fail(section.line(of: "command"), "command is only for method = command (method is \(quoted(method)))")
        }
        switch method {
        case "systemd": return .systemd
        case "syscall": return .syscall
        case "command":
            guard let path = command.first else { throw fail(section.line(of: "method"), "method = command needs a command") }
            guard path.hasPrefix("/") else {
                throw fail(section.line(of: "command"), "command \(quoted(path)): give the program's absolute path (no shell, no PATH search)")
            }
            return .command(path: path, arguments: Array(command.dropFirst()))
        default:
            throw fail(section.line(of: "method"), "method \(quoted(method)): expected systemd, syscall or command")
        }
    }

    func tpm(_ section: ConfigFile.Section) throws(BoardDefinitionError) -> BoardDefinition.TPM {
        var tpm = BoardDefinition.TPM()
        let name = section.value("interface") ?? "none"
        guard let interface = BoardDefinition.TPMInterface(rawValue: name) else {
            throw fail(section.line(of: "interface"), "interface \(quoted(name)): expected "
                       + BoardDefinition.TPMInterface.allCases.map(\.rawValue).joined(separator: ", "))
        }
        tpm.interface = interface
        if let device = section.value("device") {
            guard device.hasPrefix("/dev/"), !device.split(separator: "/").contains("..") else {
                throw fail(section.line(of: "device"), "device \(quoted(device)): expected a path under /dev (/dev/tpmrm0)")
            }
            guard interface != .none else {
                throw fail(section.line(of: "device"), "device \(quoted(device)) needs interface = spi, i2c, lpc or firmware")
            }
            tpm.device = device
        }
        return tpm
    }

    func led(_ section: ConfigFile.Section) throws(BoardDefinitionError) -> BoardDefinition.LED {
        let name = section.name!
        switch (section.value("path"), section.value("line")) {
        case (let path?, nil):
            let leaf = path.hasPrefix("/sys/class/leds/") ? String(path.dropFirst("/sys/class/leds/".count)) : ""
            guard !leaf.isEmpty, !leaf.contains("/"), leaf != "..", leaf != "." else {
                throw fail(section.line(of: "path"), "path \(quoted(path)): expected /sys/class/leds/NAME")
            }
            return .init(name: name, source: .path(path))
        case (nil, let line?):
            guard !line.isEmpty else { throw fail(section.line(of: "line"), "line is empty") }
            return .init(name: name, source: .line(line))
        case (nil, nil):
            throw fail(section.line, "[led \(name)] needs a path (/sys/class/leds/NAME) or a line (GPIO line name)")
        case (_?, _?):
            throw fail(section.line(of: "line"), "[led \(name)]: give a path or a line, not both")
        }
    }

    func gpio(_ section: ConfigFile.Section) throws(BoardDefinitionError) -> BoardDefinition.GPIO {
        let name = section.name!
        guard let line = section.value("line"), !line.isEmpty else {
            throw fail(section.line, "[gpio \(name)] needs a line (its gpio-line-names name)")
        }
        guard let kindName = section.value("object") else {
            throw fail(section.line, "[gpio \(name)] needs an object: "
                       + BoardDefinition.GPIO.ObjectKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let kind = BoardDefinition.GPIO.ObjectKind(rawValue: kindName) else {
            throw fail(section.line(of: "object"), "object \(quoted(kindName)): expected "
                       + BoardDefinition.GPIO.ObjectKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var gpio = BoardDefinition.GPIO(name: name, line: line, object: kind)
        if let chip = section.value("chip") {
            guard BoardDefinition.isPlainName(chip) else { throw fail(section.line(of: "chip"), "chip \(quoted(chip)): a chip label or gpiochipN") }
            gpio.chip = chip
        }
        gpio.applicationType = section.value("application-type").flatMap { $0.isEmpty ? nil : $0 }
        gpio.activeLow = try bool(section, "active-low") ?? false
        if let biasName = section.value("bias") {
            guard let bias = BoardDefinition.GPIO.Bias(rawValue: biasName) else {
                throw fail(section.line(of: "bias"), "bias \(quoted(biasName)): expected "
                           + BoardDefinition.GPIO.Bias.allCases.map(\.rawValue).joined(separator: ", "))
            }
            gpio.bias = bias
        }
        gpio.reserved = try bool(section, "reserved") ?? false
        for key in ["initial", "persist"] where section.value(key) != nil {
            guard kind.isOutput else {
                throw fail(section.line(of: key), "\(key) is for outputs; [gpio \(name)] is a \(kind.rawValue)")
            }
            guard !gpio.reserved else {
                throw fail(section.line(of: key), "\(key) on a reserved line (never requested)")
            }
        }
        if let initial = section.value("initial") {
            guard initial == "0" || initial == "1" else {
                throw fail(section.line(of: "initial"), "initial \(quoted(initial)): expected 0 or 1")
            }
            gpio.initial = initial == "1" ? 1 : 0
        }
        gpio.persist = try bool(section, "persist") ?? false
        if let debounce = section.value("debounce") {
            guard !kind.isOutput else {
                throw fail(section.line(of: "debounce"), "debounce is for inputs; [gpio \(name)] is a \(kind.rawValue)")
            }
            guard let milliseconds = Int(debounce), (0...BoardDefinition.GPIO.maximumDebounceMilliseconds).contains(milliseconds) else {
                throw fail(section.line(of: "debounce"), "debounce \(quoted(debounce)): expected milliseconds, 0 to \(BoardDefinition.GPIO.maximumDebounceMilliseconds)")
            }
            gpio.debounceMilliseconds = milliseconds
        }
        return gpio
    }
}
