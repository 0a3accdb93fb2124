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

    private func boardFile(_ text: String) -> String {
        var template = Array("/tmp/lwm2m-board-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let path = directory + "/test.conf"
        let file = fopen(path, "w")!
        fputs(text, file)
        fclose(file)
        return path
    }

    @Test func genericBoard() throws {
        let inputs = try DeviceInputs.forConfiguration(try configuration())
        #expect(inputs.reboot == .systemd)
        #expect(!inputs.platform.clockSettable)
        #expect(inputs.platform.supplies == .auto && inputs.platform.input == nil)
        #expect(inputs.platform.deviceType == [.literal("Gateway")])
        #expect(inputs.platform.root == .live && inputs.platform.stateDirectory == "/tmp/state")
        // (LWM2M_SYSTEM_ROOT is process-wide: the Leshan interop tests cover it, not a parallel unit test.)
    }

    @Test func boardFileSections() throws {
        let path = boardFile("""
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
            [reboot]
            method = command
            command = /usr/local/sbin/board-reboot --now
            [tpm]
            device = /dev/tpmrm0
            """)
        let inputs = try DeviceInputs.forConfiguration(try configuration("board = \(path)"))
        #expect(inputs.platform.manufacturer == [.literal("Raspberry Pi Ltd")])
        #expect(inputs.platform.modelNumber == [.file("/proc/device-tree/model")])
        #expect(inputs.platform.supplies == .names(["usb", "max17040_battery"]))
        #expect(inputs.platform.input == .powerOverEthernet)
        #expect(inputs.platform.clockSettable)
        #expect(inputs.reboot == .command(path: "/usr/local/sbin/board-reboot", arguments: ["--now"]))
        #expect(inputs.reboot.description == "command /usr/local/sbin/board-reboot --now")
    }

    @Test func reportLinesListTheValues() throws {
        var inputs = try DeviceInputs.forConfiguration(try configuration())
        inputs.platform.softwareVersion = "9.9.9"
        let lines = inputs.reportLines()
        #expect(lines.contains("/3/0/19 Software Version = \"9.9.9\""))
        #expect(lines.contains("/3/0/17 Device Type = \"Gateway\""))
        #expect(lines.contains { $0.hasPrefix("/3/0/21 Memory Total = ") })
        #expect(lines.contains("Reboot (/3/0/4): systemd (systemctl reboot)"))
        #expect(lines.last == "Current Time writes (/3/0/13): refused with 4.05 (clock not settable)")
    }

    @Test func badBoardValuesNameTheLine() throws {
        for (text, message) in [
            ("[reboot]\nmethod = kexec\n", "line 2: method \"kexec\": expected systemd, syscall or command"),
            ("[reboot]\nmethod = command\ncommand = reboot\n", "line 3: method = command needs command = /absolute/path [arguments]"),
            ("[clock]\nsettable = maybe\n", "line 2: settable \"maybe\": expected yes or no"),
            ("[power]\ninput = mains\n", "line 2: input \"mains\": expected dc, usb, poe, ac, battery, external-battery, fuel-cell or solar"),
        ] {
            let path = boardFile(text)
            do {
                _ = try DeviceInputs.forConfiguration(try configuration("board = \(path)"))
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)" == "\(path): \(message)")
            }
        }
        #expect(throws: AgentLaunchError.self) {
            try DeviceInputs.forConfiguration(try configuration("board = /nonexistent/board.conf"))
        }
    }
}
