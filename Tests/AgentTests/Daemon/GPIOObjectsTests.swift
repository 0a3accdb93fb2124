import AgentDaemon
import Board
import LwM2M
import TestSupport
import Testing

/// The board's lines and LEDs as objects, on this machine (no GPIO chip here: the error paths,
/// reserved lines and sysfs LEDs; the lines themselves are proven in the VM, test_vm_gpio.py).
@Suite struct GPIOObjectsTests {
    private func board(_ sections: String) throws -> BoardDefinition {
        try BoardDefinition(parsing: "[board]\nname = test\n" + sections, file: "/boards/test.conf", expectedName: nil)
    }

    @Test func aLineOnAMissingChipIsAProblemAndNoInstance() throws {
        let state = try TemporaryDirectory(prefix: "gpio-objects")
        let objects = GPIOObjects(board: try board("""
            [gpio relay1]
            line = RELAY1
            chip = no-such-chip
            object = digital-output
            """), stateDirectory: state.path)
        #expect(objects.objects.isEmpty)
        #expect(objects.problems.count == 1)
        #expect(objects.problems.first?.hasPrefix("[gpio relay1] ") == true)
        #expect(objects.problems.first?.contains("no-such-chip") == true, "\(objects.problems)")
    }

    @Test func aReservedLineIsNeverRequested() throws {
        let state = try TemporaryDirectory(prefix: "gpio-objects")
        let objects = GPIOObjects(board: try board("""
            [gpio modem]
            line = MODEM_PWR
            chip = no-such-chip
            object = digital-output
            reserved = yes
            """), stateDirectory: state.path)
        // Requesting it would have failed (no such chip): it was not requested at all.
        #expect(objects.problems.isEmpty && objects.objects.isEmpty)
        #expect(objects.summary == ["[gpio modem] MODEM_PWR: reserved, not requested"])
    }

    @Test func aSysfsLEDBecomesALightControlInstance() throws {
        let root = try TemporaryDirectory(prefix: "gpio-objects-root")
        try writeFile(root.file("sys/class/leds/ACT/brightness"), Array("0\n".utf8))
        try writeFile(root.file("sys/class/leds/ACT/max_brightness"), Array("255\n".utf8))
        let state = try TemporaryDirectory(prefix: "gpio-objects")
        let objects = GPIOObjects(board: try board("""
            [led act]
            path = /sys/class/leds/ACT
            [led gone]
            path = /sys/class/leds/GONE
            """), stateDirectory: state.path, root: SystemRoot(root.path))
        #expect(objects.objects.count == 1)
        let light = try #require(objects.objects.first)
        #expect(light.definition.id == 3311 && light.instanceIDs == [0])
        #expect(try light.read(LwM2MPath(3311, 0, 5750)) == .single(.string("act")))
        #expect(light.resourceIDs(in: 0).contains(5851))  // 255 levels: Dimmer
        try light.write(LwM2MPath(3311, 0, 5850), .single(.boolean(true)))
        #expect(try readTextFile(root.file("sys/class/leds/ACT/brightness")).hasPrefix("255"))
        #expect(objects.problems.count == 1 && objects.problems[0].hasPrefix("[led gone] "), "\(objects.problems)")
    }
}
