import Board
import Files
import Glibc
import LwM2M
import Testing

@Suite struct KernelDevicePlatformTests {
    func configuration(_ root: SystemRoot, state: String = temporaryDirectory()) -> KernelDevicePlatform.Configuration {
        var configuration = KernelDevicePlatform.Configuration(stateDirectory: state)
        configuration.root = root
        configuration.softwareVersion = "0.9.0"
        return configuration
    }

    /// Within a reading round the power supplies are listed once: power sources and battery
    /// are served from the first look (a supply that appears mid-round shows in the next round).
    @Test func aReadingRoundListsThePowerSuppliesOnce() throws {
        let root = temporaryDirectory()
        writeFile(root + "/sys/class/power_supply/BAT0/type", "Battery\n")
        writeFile(root + "/sys/class/power_supply/BAT0/capacity", "80\n")
        let platform = KernelDevicePlatform(configuration(SystemRoot(root)))
        platform.beginReading()
        #expect(platform.supplies().map(\.name) == ["BAT0"])
        writeFile(root + "/sys/class/power_supply/AC/type", "Mains\n")
        #expect(platform.supplies().map(\.name) == ["BAT0"])  // the round's first look
        #expect(platform.battery()?.level == 80)
        platform.endReading()
        #expect(platform.supplies().map(\.name) == ["AC", "BAT0"])  // outside a round: now
    }

    /// The identity files are read when the identity is first asked for (a Read of the Device
    /// object), not when the platform is made before the first Register; then kept.
    @Test func theIdentityIsReadOnFirstUseThenKept() {
        let root = temporaryDirectory()
        var inputs = configuration(SystemRoot(root))
        inputs.serialNumber = [.file("/proc/device-tree/serial-number")]
        inputs.firmwareVersion = [.literal("1.0")]
        let platform = KernelDevicePlatform(inputs)
        writeFile(root + "/proc/device-tree/serial-number", "SN-1\n")
        #expect(platform.identity.serialNumber == "SN-1")
        writeFile(root + "/proc/device-tree/serial-number", "SN-2\n")
        #expect(platform.identity.serialNumber == "SN-1")
    }

    @Test func raspberryPiWithoutSupplyReportsNoPower() throws {
        var inputs = configuration(deviceFixture("device-pi4-no-supply"))
        inputs.manufacturer = [.literal("Raspberry Pi Ltd")]
        inputs.modelNumber = [.file("/proc/device-tree/model")]
        inputs.serialNumber = [.file("/proc/device-tree/serial-number")]
        inputs.hardwareVersion = [.file("/proc/device-tree/nonexistent")]
        let platform = KernelDevicePlatform(inputs)
        #expect(platform.identity == DeviceIdentity(manufacturer: "Raspberry Pi Ltd", modelNumber: "Raspberry Pi 4 Model B Rev 1.4",
                                                    serialNumber: "10000000a3b4c5d6", firmwareVersion: "12 (bookworm)",
                                                    softwareVersion: "0.9.0"))
        let object = DeviceObject(platform: platform, reboot: {})
        let ids = object.resourceIDs(in: 0)
        for absent: UInt16 in [6, 7, 8, 9, 18, 20] { #expect(!ids.contains(absent), "\(absent)") }
        #expect(try object.read(LwM2MPath(3, 0, 21)) == .single(.integer(3_977_302)))
        #expect(try object.read(LwM2MPath(3, 0, 15)) == .single(.string("Europe/Berlin")))
        #expect(try object.read(LwM2MPath(3, 0, 11)) == .multiple([0: .integer(0)]))
    }

    @Test func fixedInputIsASourceWithoutVoltage() throws {
        var inputs = configuration(deviceFixture("device-pi4-no-supply"))
        inputs.input = .usb
        let object = DeviceObject(platform: KernelDevicePlatform(inputs), reboot: {})
        #expect(try object.read(LwM2MPath(3, 0, 6)) == .multiple([0: .integer(5)]))
        #expect(!object.resourceIDs(in: 0).contains(7))
    }

    @Test func laptopOnBatteryWithLowMemory() throws {
        let object = DeviceObject(platform: KernelDevicePlatform(configuration(deviceFixture("device-laptop"))), reboot: {})
        #expect(try object.read(LwM2MPath(3, 0, 6)) == .multiple([0: .integer(6), 1: .integer(1)]))
        #expect(try object.read(LwM2MPath(3, 0, 7)) == .multiple([1: .integer(11250)]))
        #expect(try object.read(LwM2MPath(3, 0, 9)) == .single(.integer(7)))
        #expect(try object.read(LwM2MPath(3, 0, 20)) == .single(.integer(4)))
        // Low battery, AC unplugged, MemAvailable 3.9 % of MemTotal.
        #expect(try object.read(LwM2MPath(3, 0, 11)) == .multiple([0: .integer(1), 1: .integer(2), 2: .integer(5)]))
    }

    @Test func namedSuppliesAndNone() throws {
        var inputs = configuration(deviceFixture("device-ups-hat"))
        inputs.supplies = .names(["usb", "missing"])
        #expect(KernelDevicePlatform(inputs).powerSources() == [PowerSourceReading(kind: .usb, voltage: 5080, current: 912, online: true)])
        #expect(KernelDevicePlatform(inputs).battery() == nil)
        inputs.supplies = .none
        #expect(KernelDevicePlatform(inputs).powerSources().isEmpty)
    }

    @Test func clockWritesRefusedOrInjected() throws {
        var inputs = configuration(deviceFixture("device-pi4-no-supply"))
        inputs.clockSettable = false
        var platform = KernelDevicePlatform(inputs)
        var set: [Int64] = []
        platform.setClock = { (seconds) throws(ClockError) in set.append(seconds) }
        #expect(throws: DeviceSettingError.notAllowed("this board's clock is not set by the agent ([clock] settable = no)")) {
            try platform.setCurrentTime(1_800_000_000)
        }
        inputs.clockSettable = true
        platform = KernelDevicePlatform(inputs)
        platform.setClock = { (seconds) throws(ClockError) in set.append(seconds) }
        try platform.setCurrentTime(1_800_000_000)
        #expect(set == [1_800_000_000])
        platform.setClock = { (_) throws(ClockError) in throw ClockError(errno: EPERM) }
        #expect(throws: DeviceSettingError.failed("cannot set the clock: clock_settime: Operation not permitted (the agent needs CAP_SYS_TIME)")) {
            try platform.setCurrentTime(1_800_000_000)
        }
    }

    @Test func storageFullAgainstTheStateDirectory() {
        var inputs = configuration(deviceFixture("device-pi4-no-supply"), state: "/tmp")
        inputs.storageMinimumFreeBytes = .max
        #expect(KernelDevicePlatform(inputs).storageFull() == true)
        inputs.storageMinimumFreeBytes = 1
        #expect(KernelDevicePlatform(inputs).storageFull() == false)
    }
}
