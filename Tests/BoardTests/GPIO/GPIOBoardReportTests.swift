import Board
import Glibc
import Testing

/// The GPIO part of `board show` on a machine without the board's chip (the host): every line
/// says where it looked, a sysfs LED its brightness. The VM test covers lines that resolve.
@Suite struct GPIOBoardReportTests {
    @Test func linesNotFoundAndSysfsLEDs() {
        var board = BoardDefinition(name: "test")
        board.gpios = [BoardDefinition.GPIO(name: "relay1", line: "RELAY1", chip: "gw-gpio", object: .digitalOutput),
                       BoardDefinition.GPIO(name: "din1", line: "DIN1", object: .digitalInput)]
        board.gpios[1].reserved = true
        board.leds = [.init(name: "status", source: .path("/sys/class/leds/rgb:status")),
                      .init(name: "gone", source: .path("/sys/class/leds/gone")),
                      .init(name: "act", source: .line("LED_ACT"))]
        let devices = SensorFixtures.scratch(["/null": ""])  // a /dev without gpiochipN
        let lines = GPIOBoardReport.lines(board, devices: devices, root: SensorFixtures.root("leds-pwm"))
        #expect(lines == [
            "gpio lines on this machine (\(devices)):",
            "  gpio relay1: RELAY1 → not found (no chip gw-gpio)",
            "  gpio din1: DIN1 → not found on any chip (reserved: never requested)",
            "  led status: /sys/class/leds/rgb:status → max brightness 255, brightness 64",
            "  led gone: /sys/class/leds/gone → LED /sys/class/leds/gone not found",
            "  led act: LED_ACT → not found on any chip",
        ])
    }

    @Test func aBoardWithoutGPIOHasNoPart() {
        #expect(GPIOBoardReport.lines(BoardDefinition(name: "bare"), root: .live).isEmpty)
    }
}
