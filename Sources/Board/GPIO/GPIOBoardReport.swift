import GPIO

/// The GPIO part of `lwm2m-agent board show`: where each `[gpio]` and `[led]` of the board
/// resolves on this machine, and whether it is free. Requests nothing.
public enum GPIOBoardReport {
    /// One line per `[gpio]` and `[led]` section (none when the board has neither). `devices`
    /// holds the gpiochipN devices; sysfs LEDs are read under `root`.
    public static func lines(_ board: BoardDefinition, devices: String = "/dev", root: SystemRoot) -> [String] {
        guard !board.gpios.isEmpty || !board.leds.isEmpty else { return [] }
        var lines = ["gpio lines on this machine (\(devices)):"]
        for gpio in board.gpios {
            var text = "  gpio \(gpio.name): " + resolve(line: gpio.line, chip: gpio.chip, devices: devices)
            if gpio.reserved { text += " (reserved: never requested)" }
            lines.append(text)
        }
        for led in board.leds {
            switch led.source {
            case .line(let line):
                lines.append("  led \(led.name): " + resolve(line: line, chip: nil, devices: devices))
            case .path(let path):
                do {
                    let light = try SysfsLED(path: path, root: root)
                    let now = (try? light.brightness()).map(String.init) ?? "unreadable"
                    lines.append("  led \(led.name): \(path) → max brightness \(light.maximumBrightness), brightness \(now)")
                } catch {
                    lines.append("  led \(led.name): \(path) → \(error.description)")
                }
            }
        }
        return lines
    }

    /// `RELAY1 → gpiochip0 (gw-gpio) line 0, free` / `…, busy: used by MODEM_PWR` / `not found`.
    static func resolve(line: String, chip: String?, devices: String) -> String {
        do {
            let info = try GPIOChips.find(line: line, chip: chip, devices: devices)
            var text = "\(line) → \(info.chipName) (\(info.chipLabel)) line \(info.offset), "
            if info.isUsed {
                text += "busy: used by " + (info.consumer ?? "an unnamed consumer")
            } else {
                text += "free"
            }
            return text
        } catch .lineNotFound(_, let chip) {
            return "\(line) → not found" + (chip.map { " on \($0)" } ?? " on any chip")
        } catch .chipNotFound(let chip) {
            return "\(line) → not found (no chip \(chip))"
        } catch {
            return "\(line) → \(error.description)"
        }
    }
}
