import AgentCommon
import LwM2M

/// The text `lwm2m-agent board show` prints: the chosen board, why, and what its definition
/// says, identity values resolved on the machine under `root`.
public enum BoardReport {
    /// The report's lines (no trailing newline).
    public static func lines(_ choice: BoardChoice, root: SystemRoot) -> [String] {
        let board = choice.definition
        var lines = [
            "board: \(board.name)",
            "file: \(choice.file ?? "(compiled in)")",
            "chosen because: \(choice.reason)",
        ]
        if let description = board.description { lines.append("description: \(description)") }
        if !board.compatible.isEmpty { lines.append("compatible: \(board.compatible.joined(separator: " "))") }
        if !board.dmi.isEmpty { lines.append("dmi: \(board.dmi.map(\.description).joined(separator: " "))") }
        if !board.overlays.isEmpty { lines.append("overlays: \(board.overlays.joined(separator: " "))") }
        let compatible = BoardCatalog.deviceTreeCompatible(root)
        lines.append("this machine's device tree: " + (compatible.isEmpty ? "none" : compatible.joined(separator: " ")))

        lines.append("identity:")
        let identity: [(String, BoardDefinition.ValueSource?)] = [
            ("manufacturer", board.identity.manufacturer), ("model", board.identity.model),
            ("serial", board.identity.serial), ("hardware-version", board.identity.hardwareVersion),
            ("device-type", board.identity.deviceType),
        ]
        for (key, source) in identity {
            lines.append("  \(key): " + describe(source, root: root))
        }
        lines.append("power:")
        lines.append("  supplies: \(board.power.supplies)")
        lines.append("  input: \(board.power.input.map { "\($0.name) (power source \($0.rawValue))" } ?? "none")")
        lines.append("thermal zones: \(board.thermalZones)")
        lines.append("network interfaces: \(board.interfaces)\(board.interfaces == .auto ? " (the hardware-backed interfaces and the default route's, never lo)" : "")")
        lines.append("clock: " + (board.clockSettable ? "settable (a Current Time write sets CLOCK_REALTIME)"
                                                       : "not settable (a Current Time write is refused with 4.05)"))
        lines.append("time zone: " + (board.timezone == .localtime
            ? "localtime (a UTC Offset/Timezone write replaces /etc/localtime and /etc/timezone)"
            : "none (UTC Offset/Timezone writes are refused with 4.05)"))
        lines.append("reboot: \(board.reboot)")
        switch (board.tpm.interface, board.tpm.device) {
        case (.none, _): lines.append("tpm: not described by the board (agent.conf tpm-tcti applies)")
        case (let interface, let device): lines.append("tpm: \(device ?? "(device not named)") on \(interface.rawValue)")
        }
        for led in board.leds {
            lines.append("led \(led.name): \(led.source)")
        }
        for gpio in board.gpios {
            var facts = ["line \(gpio.line)"]
            if let chip = gpio.chip { facts.append("chip \(chip)") }
            facts.append(gpio.object.rawValue)
            if let type = gpio.applicationType { facts.append("application type \(quoted(type))") }
            if gpio.activeLow { facts.append("active-low") }
            if gpio.bias != .asIs { facts.append("bias \(gpio.bias.rawValue)") }
            if let initial = gpio.initial { facts.append("initial \(initial)") }
            if gpio.persist { facts.append("persisted") }
            if gpio.reserved { facts.append("reserved (never requested)") }
            lines.append("gpio \(gpio.name): \(facts.joined(separator: ", "))")
        }
        return lines
    }

    /// `source` and its value here.
    static func describe(_ source: BoardDefinition.ValueSource?, root: SystemRoot) -> String {
        switch source {
        case nil: "absent (not in the board file)"
        case .literal(let text)?: quoted(text)
        case .file(let path)?:
            if let value = source?.resolve(in: root) { "\(quoted(Logger.escaped(value))) (from \(path))" } else { "absent (\(path) unreadable or empty)" }
        }
    }
}
