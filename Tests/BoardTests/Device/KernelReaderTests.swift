import Board
import Glibc
import LwM2M
import Testing

@Suite struct KernelReaderTests {
    @Test func meminfo() {
        let info = MemoryInfo.read(deviceFixture("device-pi4-no-supply"))
        #expect(info == MemoryInfo(totalKiB: 3_884_084, availableKiB: 3_190_432))
        // kilobytes of 1000 bytes (OMA): 3 884 084 KiB = 3 977 302 kB, 3 190 432 KiB = 3 267 002 kB.
        #expect(info?.deviceMemory == DeviceMemory(free: 3_267_002, total: 3_977_302))
        // Before Linux 3.14: MemFree + Buffers + Cached.
        #expect(MemoryInfo.parse("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 30 kB\n")
            == MemoryInfo(totalKiB: 1000, availableKiB: 150))
        #expect(MemoryInfo.read(deviceFixture("device-malformed")) == nil)  // "MemTotal: lots"
        #expect(MemoryInfo.parse("") == nil)
        #expect(MemoryInfo.read(SystemRoot("/nonexistent")) == nil)
        // The machine's own file parses.
        #expect((MemoryInfo.read(.live)?.totalKiB ?? 0) > 0)
    }

    /// The byte parser against the obvious one (split into lines and words, a dictionary), on
    /// well-formed, odd and hostile inputs and on this machine's file.
    @Test(arguments: [
        "MemTotal: 1000 kB\nMemAvailable: 400 kB\n",
        "MemTotal:1000 kB\nMemAvailable: 400 kB",                         // no space after the colon: not a line we read
        "  MemTotal:   2048 kB\n  MemFree:  10 kB\nCached: 5 kB\n",
        "MemTotal: lots\nMemAvailable: 5 kB\n",
        "MemTotal: 100\nMemTotal: 200\nMemAvailable: 300\n",                // last wins; available capped at total
        "MemTotal 100 kB\nMemAvailable: 5 kB\n",                          // no colon
        "MemTotal: -5 kB\nMemAvailable: 5 kB\n",
        "MemTotal: 99999999999999999999 kB\nMemAvailable: 5 kB\n",         // overflows Int64
        "MemTotal: 9223372036854775807 kB\nMemFree: 9223372036854775807 kB\nBuffers: 9 kB\n",
        "\n\n:\n: 5\nMemTotal: 7",
        "",
    ])
    func meminfoBytesParserAgreesWithTheObviousOne(text: String) {
        #expect(MemoryInfo.parse(bytes: Array(text.utf8)) == Self.obviousParse(text))
    }

    @Test func meminfoBytesParserOnThisMachine() throws {
        let bytes = try SystemRoot.live.bytes("/proc/meminfo")
        let parsed = try #require(MemoryInfo.parse(bytes: bytes))
        #expect(parsed == Self.obviousParse(String(decoding: bytes, as: UTF8.self)))
    }

    private static func obviousParse(_ text: String) -> MemoryInfo? {
        var values: [Substring: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasSuffix(":"), parts[0].count >= 2,
                  parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber), let value = Int64(parts[1]) else { continue }
            values[parts[0].dropLast()] = value
        }
        guard let total = values["MemTotal"] else { return nil }
        let sum = values["MemFree"].map { [$0, values["Buffers"] ?? 0, values["Cached"] ?? 0]
            .reduce(Int64(0)) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 } }
        guard let available = values["MemAvailable"] ?? sum else { return nil }
        return MemoryInfo(totalKiB: total, availableKiB: min(available, total))
    }

    @Test func laptopSupplies() {
        let root = deviceFixture("device-laptop")
        let supplies = PowerSupply.all(root)
        #expect(supplies.map(\.name) == ["AC", "BAT0"])  // the mouse battery (scope Device) is not the system's
        #expect(supplies.map(\.kind) == [.acMains, .internalBattery])
        let battery = supplies[1]
        #expect(battery.reading == PowerSourceReading(kind: .internalBattery, voltage: 11250, current: 1520, online: nil))
        #expect(battery.battery == BatteryReading(level: 7, status: .low))
        #expect(supplies[0].reading == PowerSourceReading(kind: .acMains, online: false))
    }

    @Test func upsHatSupplies() {
        let supplies = PowerSupply.all(deviceFixture("device-ups-hat"))
        #expect(supplies.map(\.name) == ["max17040_battery", "usb"])
        #expect(supplies.compactMap(\.reading) == [
            PowerSourceReading(kind: .internalBattery, voltage: 3981, current: -250),
            PowerSourceReading(kind: .usb, voltage: 5080, current: 912, online: true),
        ])
        #expect(supplies[0].battery == BatteryReading(level: 87, status: .charging))
    }

    @Test func malformedSupplyFilesGiveNoValue() {
        let root = deviceFixture("device-malformed")
        let supplies = PowerSupply.all(root)
        #expect(supplies.map(\.name) == ["BAT1", "BAT2", "wlc"])  // "notype" has no type
        let bat1 = supplies[0]
        #expect(bat1.capacity == nil && bat1.voltageMicrovolts == nil && bat1.currentMicroamps == nil)
        #expect(bat1.batteryStatus == nil)  // "Sideways"
        #expect(supplies[1].capacity == nil)  // 250 %
        #expect(supplies[2].kind == nil && supplies[2].reading == nil)  // Wireless: no Device-object kind
    }

    @Test func noSupplyDirectory() {
        #expect(PowerSupply.all(deviceFixture("device-pi4-no-supply")).isEmpty)
        #expect(PowerSupply.all(SystemRoot("/nonexistent")).isEmpty)
        #expect(PowerSupply.read(deviceFixture("device-laptop"), name: "../AC") == nil)
    }

    @Test func valuesChangeBetweenReads() {
        let directory = temporaryDirectory()
        let root = SystemRoot(directory)
        writeFile(directory + "/sys/class/power_supply/BAT0/type", "Battery\n")
        writeFile(directory + "/sys/class/power_supply/BAT0/capacity", "80\n")
        writeFile(directory + "/proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 600 kB\n")
        #expect(PowerSupply.read(root, name: "BAT0")?.capacity == 80)
        #expect(MemoryInfo.read(root)?.availableKiB == 600)
        writeFile(directory + "/sys/class/power_supply/BAT0/capacity", "79\n")
        writeFile(directory + "/proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 550 kB\n")
        #expect(PowerSupply.read(root, name: "BAT0")?.capacity == 79)
        #expect(MemoryInfo.read(root)?.availableKiB == 550)
    }

    /// An unreadable attribute (mode 000) is no value. As root (CAP_DAC_OVERRIDE) the kernel
    /// ignores the mode, so there the file IS read: the test checks whichever applies.
    @Test func unreadableFile() {
        let directory = temporaryDirectory()
        let root = SystemRoot(directory)
        writeFile(directory + "/sys/class/power_supply/BAT0/type", "Battery\n")
        writeFile(directory + "/sys/class/power_supply/BAT0/capacity", "42\n", mode: 0o000)
        let bypassesModes = access(directory + "/sys/class/power_supply/BAT0/capacity", R_OK) == 0
        let capacity = PowerSupply.read(root, name: "BAT0")?.capacity
        if bypassesModes {
            // Running as root: mode 000 does not deny; the value is read like any other.
            #expect(capacity == 42)
        } else {
            #expect(capacity == nil)
        }
        #expect(PowerSupply.read(root, name: "BAT0")?.type == "Battery")
    }

    @Test func osRelease() {
        let release = OSRelease.read(deviceFixture("device-pi4-no-supply"))
        #expect(release?.version == "12 (bookworm)")
        #expect(release?.fields["PRETTY_NAME"] == "Raspbian GNU/Linux 12 (bookworm)")
        let parsed = OSRelease.parse("NAME='Yocto'\nVERSION_ID=4.0.9\n# comment\nBROKEN=\"x\nBUILD_ID=\"a\\\"b\"\n")
        #expect(parsed.fields == ["NAME": "Yocto", "VERSION_ID": "4.0.9", "BUILD_ID": "a\"b"])
        #expect(parsed.version == "4.0.9")
        #expect(OSRelease.parse("ID=arch\n").version == nil)
        #expect(OSRelease.read(SystemRoot("/nonexistent")) == nil)
    }

    @Test func timezone() {
        let pi = deviceFixture("device-pi4-no-supply")
        #expect(SystemTimezone.name(pi) == "Europe/Berlin")
        #expect(SystemTimezone.exists("Europe/Berlin", in: pi))
        #expect(!SystemTimezone.exists("Europe/Paris", in: pi))
        #expect(!SystemTimezone.exists("Europe", in: SystemRoot("/")))  // a directory, not a zone
        #expect(!SystemTimezone.exists("../../../etc/passwd", in: SystemRoot("/")))
        // The /etc/localtime symlink (no /etc/timezone).
        let directory = temporaryDirectory()
        mkdir(directory + "/etc", 0o755)
        symlink("/usr/share/zoneinfo/America/St_Johns", directory + "/etc/localtime")
        #expect(SystemTimezone.name(SystemRoot(directory)) == "America/St_Johns")
        #expect(SystemTimezone.name(SystemRoot("/nonexistent")) == nil)
        #expect(UTCOffset.format(seconds: -12600) == "-03:30")
        #expect(SystemTimezone.currentOffset(at: 1_800_000_000)?.count == 6)
    }

    @Test func storage() {
        let space = StorageSpace.of("/tmp")
        #expect(space != nil && space!.totalBytes > 0 && space!.availableBytes <= space!.totalBytes)
        #expect(space?.isFull(minimumFreeBytes: 1) == false)
        #expect(space?.isFull(minimumFreeBytes: .max) == true)
        #expect(StorageSpace.of("/nonexistent/dir") == nil)
    }
}
