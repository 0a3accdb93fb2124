import AgentDaemon
import Board
import Glibc
import LwM2M
import Testing

/// The daemon's sensor objects built from plain inputs over the BoardTests fixture trees.
@Suite struct SensorObjectsTests {
    private func fixture(_ name: String, file: String = #filePath) -> SystemRoot {
        var directory = file
        while let slash = directory.lastIndex(of: "/"), !directory.hasSuffix("/Tests") {
            directory = String(directory[..<slash])
        }
        return SystemRoot(directory + "/BoardTests/Fixtures/" + name)
    }

    @Test func oneTemperatureInstancePerZoneAndConnectivity() {
        let made = SensorObjects.make(SensorInputs(root: fixture("sensors-x86-ipv6")))
        #expect(made.objects.map(\.definition.id) == [3303, 4])
        #expect(made.objects[0].instanceIDs == [0, 1, 2, 3])
        #expect(made.warnings.isEmpty)
    }

    @Test func noZoneNoTemperatureObjectAndMissingNamesWarned() {
        let made = SensorObjects.make(SensorInputs(thermalZones: .names(["cpu-thermal"]), interfaces: .names(["eth0", "wwan0"]),
                                                   root: fixture("sensors-no-network")))
        #expect(made.objects.map(\.definition.id) == [4])
        #expect(made.warnings.count == 2)
        #expect(made.warnings[0].contains("cpu-thermal") && made.warnings[1].contains("eth0, wwan0"))
        let none = SensorObjects.make(SensorInputs(thermalZones: .none, interfaces: .none, root: fixture("sensors-pi4-wifi")))
        #expect(none.objects.isEmpty)
    }

    @Test func inputsComeFromTheBoardDefinition() throws {
        var board = BoardDefinition(name: "test")
        board.thermalZones = .names(["acpitz", "thermal_zone3"])
        board.interfaces = .none
        let inputs = SensorInputs(board: board, root: fixture("sensors-x86-ipv6"))
        #expect(inputs.thermalZones == .names(["acpitz", "thermal_zone3"]))
        #expect(inputs.interfaces == .none)
        #expect(SensorObjects.make(inputs).objects.map(\.definition.id) == [3303])
    }

    @Test func valueLinesListEveryValue() {
        let lines = SensorObjects.valueLines(SensorInputs(interfaces: .names(["eth0", "wlan0"]), root: fixture("sensors-pi4-wifi")))
        #expect(lines.contains("/3303/0/5700 Sensor Value = 48.312"))
        #expect(lines.contains("/3303/0/5604 Max Range Value = 110.0"))
        #expect(lines.contains("/3303/0/5750 Application Type = \"cpu-thermal\""))
        #expect(lines.contains("/4/0/0 Network Bearer = 41"))
        #expect(lines.contains("/4/0/1/1 Available Network Bearer = 21"))
        #expect(lines.contains("/4/0/5/0 Router IP Addresses = \"192.168.1.1\""))
        #expect(!lines.contains { $0.contains("5605") })  // executable: no value

        // A zone type with a terminal escape in it is printed escaped.
        let tree = "/tmp/lwm2m-sensor-lines-\(getpid())"
        defer { _ = system("rm -rf '\(tree)'") }
        for directory in ["", "/sys", "/sys/class", "/sys/class/thermal", "/sys/class/thermal/thermal_zone0"] {
            mkdir(tree + directory, 0o755)
        }
        for (name, content) in [("type", "cpu\u{1B}[2J\n"), ("temp", "1000\n")] {
            let file = fopen(tree + "/sys/class/thermal/thermal_zone0/" + name, "w")!
            fputs(content, file)
            fclose(file)
        }
        let escaped = SensorObjects.valueLines(SensorInputs(interfaces: .none, root: SystemRoot(tree)))
        #expect(escaped.contains("/3303/0/5750 Application Type = \"cpu\\x1b[2J\""))
        #expect(!escaped.joined().contains("\u{1B}"))

        let bare = SensorObjects.valueLines(SensorInputs(root: fixture("sensors-no-network")))
        #expect(bare.first == "/3303 Temperature: absent (thermal zones = auto)")
    }
}
