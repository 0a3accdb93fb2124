import AgentCommon
import AgentDaemon
import Board
import Glibc
import LwM2M
import Testing

@Suite struct DeviceInputsTests {
    private func configuration(_ extra: String = "") throws -> AgentConfiguration {
        try AgentConfiguration(parsing: "[agent]\nendpoint-name = gw-1\nstate-dir = /tmp/state\n\(extra)\n[server 1]\nuri = coap://127.0.0.1\n")
    }

    private func inputs(_ boardText: String) throws -> DeviceInputs {
        let board = try BoardDefinition(parsing: boardText, file: "/boards/test.conf", expectedName: nil)
        return DeviceInputs(board: board, configuration: try configuration(), root: .live)
    }

    @Test func genericBoard() throws {
        let choice = try BoardCatalog.select(nil, directory: "/nonexistent", root: SystemRoot("/nonexistent"))
        let inputs = DeviceInputs(board: choice.definition, configuration: try configuration(), root: .live)
        #expect(inputs.reboot == .systemd)
        #expect(!inputs.platform.clockSettable)
        #expect(inputs.platform.timezone == .none)
        #expect(inputs.platform.supplies == .auto && inputs.platform.input == nil)
        #expect(inputs.platform.deviceType == [.literal("Gateway")])
        #expect(inputs.platform.root == .live && inputs.platform.stateDirectory == "/tmp/state")
        // The board's file source first, then the generic candidates (device tree, DMI).
        #expect(inputs.platform.modelNumber == [.file("/proc/device-tree/model"), .file("/sys/class/dmi/id/product_name")])
    }

    @Test func boardFileSections() throws {
        let inputs = try inputs("""
            [board]
            name = test
            [identity]
            manufacturer = Raspberry Pi Ltd
            model = file:/proc/device-tree/model
            [power]
            supplies = usb max17040_battery
            input = poe
            [clock]
            settable = yes
            timezone = localtime
            [reboot]
            method = command
            command = /usr/local/sbin/board-reboot --now
            [tpm]
            device = /dev/tpmrm0
            interface = spi
            """)
        #expect(inputs.platform.manufacturer == [.literal("Raspberry Pi Ltd")])
        #expect(inputs.platform.modelNumber == [.file("/proc/device-tree/model"), .file("/sys/class/dmi/id/product_name")])
        #expect(inputs.platform.supplies == .names(["usb", "max17040_battery"]))
        #expect(inputs.platform.input == .powerOverEthernet)
        #expect(inputs.platform.clockSettable)
        #expect(inputs.platform.timezone == .localtime)
        #expect(inputs.reboot == .command(path: "/usr/local/sbin/board-reboot", arguments: ["--now"]))
        #expect(inputs.reboot.description == "command /usr/local/sbin/board-reboot --now")
    }

    @Test func reportLinesListTheValues() throws {
        var inputs = try inputs("[board]\nname = test\n")
        inputs.platform.softwareVersion = "9.9.9"
        let lines = inputs.reportLines()
        #expect(lines.contains("/3/0/19 Software Version = \"9.9.9\""))
        #expect(lines.contains("/3/0/17 Device Type = \"Gateway\""))
        #expect(lines.contains { $0.hasPrefix("/3/0/21 Memory Total = ") })
        #expect(lines.contains("Reboot (/3/0/4): systemd (systemctl reboot)"))
        #expect(lines.contains("UTC Offset / Timezone writes (/3/0/14, /3/0/15): refused with 4.05 ([clock] timezone = none)"))
        #expect(lines.last == "Current Time writes (/3/0/13): refused with 4.05 (clock not settable)")
    }
}
