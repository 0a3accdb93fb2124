import Board
import LwM2M
import Testing
import Time

/// A monotonic clock the test moves by hand.
final class VirtualClock {
    var now = Instant(nanoseconds: 5_000_000_000)

    func advance(_ duration: Duration) { now += duration }

    var freshness: ReadingFreshness { ReadingFreshness(maxAge: .seconds(1), clock: { [unowned self] in now }) }
}

/// The Device object's readings with a freshness bound (the daemon's: 1 s): a Read returns
/// platform values at most 1 s old, the first Read of a window reads the platform once, a
/// sampling round and a setting the agent writes read afresh.
@Suite struct DeviceReadingFreshnessTests {
    /// A fixture tree with a battery, /proc/meminfo and /etc/timezone; the values the test changes.
    struct Tree {
        let root = temporaryDirectory()

        init() {
            memory(available: 400_000)
            writeFile(root + "/etc/timezone", "Europe/Berlin\n")
            writeFile(root + "/sys/class/power_supply/BAT0/type", "Battery\n")
            battery(level: 80, microvolts: 3_900_000)
        }

        func memory(available kib: Int) {
            writeFile(root + "/proc/meminfo", "MemTotal:        1000000 kB\nMemFree:          100000 kB\nMemAvailable:    \(kib) kB\n")
        }

        func battery(level: Int, microvolts: Int) {
            writeFile(root + "/sys/class/power_supply/BAT0/capacity", "\(level)\n")
            writeFile(root + "/sys/class/power_supply/BAT0/voltage_now", "\(microvolts)\n")
        }

        func zone(_ name: String) { writeFile(root + "/etc/timezone", name + "\n") }

        func platform(timezone: BoardDefinition.TimezoneControl = .none) -> KernelDevicePlatform {
            var configuration = KernelDevicePlatform.Configuration(stateDirectory: root)
            configuration.root = SystemRoot(root)
            configuration.timezone = timezone
            return KernelDevicePlatform(configuration)
        }
    }

    /// Memory Free, Battery Level, the first source's voltage and the Timezone of a Read of /3/0.
    func values(_ registry: ObjectRegistry) throws -> [String] {
        let records = try registry.records(at: LwM2MPath(3, 0))
        return [LwM2MPath(3, 0, 10), LwM2MPath(3, 0, 9), LwM2MPath(3, 0, 7, 0), LwM2MPath(3, 0, 15)].map { path in
            records.first { $0.path == path }.map { "\($0.value)" } ?? "absent"
        }
    }

    func registry(_ object: DeviceObject) -> ObjectRegistry {
        let registry = ObjectRegistry()
        registry.register(object)
        return registry
    }

    @Test func aReadReturnsValuesAtMostTheBoundOld() throws {
        let tree = Tree(), clock = VirtualClock()
        let registry = registry(DeviceObject(platform: tree.platform(), freshness: clock.freshness, reboot: {}))
        let old = try values(registry)
        #expect(old == ["\(ResourceValue.integer(409_600))", "\(ResourceValue.integer(80))",
                        "\(ResourceValue.integer(3900))", "\(ResourceValue.string("Europe/Berlin"))"])

        // The machine changes; within 1 s of the first Read the readings are served again.
        tree.memory(available: 200_000)
        tree.battery(level: 79, microvolts: 3_800_000)
        tree.zone("America/St_Johns")
        clock.advance(.milliseconds(500))
        #expect(try values(registry) == old)
        clock.advance(.milliseconds(499))
        #expect(try values(registry) == old)

        // 1 s after the window began: read afresh, and a new window begins.
        clock.advance(.milliseconds(1))
        let new = try values(registry)
        #expect(new == ["\(ResourceValue.integer(204_800))", "\(ResourceValue.integer(79))",
                        "\(ResourceValue.integer(3800))", "\(ResourceValue.string("America/St_Johns"))"])
        tree.memory(available: 300_000)
        clock.advance(.milliseconds(999))
        #expect(try values(registry) == new)
        clock.advance(.seconds(5))
        #expect(try values(registry)[0] == "\(ResourceValue.integer(307_200))")
    }

    @Test func theFirstReadOfAWindowReadsThePlatformOnce() throws {
        let platform = FakeDevicePlatform(), clock = VirtualClock()
        let registry = registry(DeviceObject(platform: platform, freshness: clock.freshness, reboot: {}))
        _ = try registry.records(at: LwM2MPath(3, 0))
        #expect(platform.memoryReads == 1)
        for _ in 0..<100 {
            _ = try registry.records(at: LwM2MPath(3, 0))
            _ = try registry.records(at: LwM2MPath(3, 0, 10))
            clock.advance(.milliseconds(5))
        }
        #expect(platform.memoryReads == 1)  // 200 Reads in 0.5 s
        clock.advance(.milliseconds(500))
        _ = try registry.records(at: LwM2MPath(3, 0))
        #expect(platform.memoryReads == 2)
        // Outside a Read (no round) the object asks the platform, as without a bound.
        _ = try (registry.object(3) as! DeviceObject).read(LwM2MPath(3, 0, 10))
        #expect(platform.memoryReads == 3)
    }

    @Test func aSamplingRoundReadsAfreshAndItsReadingsServeTheReads() throws {
        let platform = FakeDevicePlatform(), clock = VirtualClock()
        let object = DeviceObject(platform: platform, freshness: clock.freshness, reboot: {})
        let registry = registry(object)
        let changes = ChangeRecorder()
        changes.attach(object)
        object.sample(now: 100)
        _ = try registry.records(at: LwM2MPath(3, 0))
        #expect(platform.memoryReads == 1)  // the Read is served from the sampling round
        platform.memoryReading = DeviceMemory(free: 300_000, total: 1_000_000)
        clock.advance(.milliseconds(100))
        object.sample(now: 100)  // within the window, yet the change is seen
        #expect(changes.take() == [LwM2MPath(3, 0, 10)])
        #expect(try registry.records(at: LwM2MPath(3, 0, 10)) == [LwM2MRecord(LwM2MPath(3, 0, 10), .integer(300_000))])
        #expect(platform.memoryReads == 2)
    }

    @Test func aSettingTheAgentWritesIsReadBackAtOnce() throws {
        let tree = Tree(), clock = VirtualClock()
        writeFile(tree.root + "/usr/share/zoneinfo/America/St_Johns", "TZif")
        let registry = registry(DeviceObject(platform: tree.platform(timezone: .localtime), freshness: clock.freshness,
                                             reboot: {}))
        #expect(try values(registry)[3] == "\(ResourceValue.string("Europe/Berlin"))")
        let object = registry.object(3)!
        try object.write(LwM2MPath(3, 0, 15), .single(.string("America/St_Johns")))
        clock.advance(.milliseconds(10))
        #expect(try values(registry)[3] == "\(ResourceValue.string("America/St_Johns"))")
        // A refused write drops the readings too (the next Read reads the platform).
        tree.zone("Asia/Tokyo")
        #expect(throws: LwM2MError.self) { try object.write(LwM2MPath(3, 0, 15), .single(.string("Mars/Olympus_Mons"))) }
        #expect(try values(registry)[3] == "\(ResourceValue.string("Asia/Tokyo"))")
    }

    @Test func everyReadIsTheDefault() throws {
        let platform = FakeDevicePlatform()
        let registry = registry(DeviceObject(platform: platform, reboot: {}))
        for _ in 0..<3 { _ = try registry.records(at: LwM2MPath(3, 0)) }
        #expect(platform.memoryReads == 3)
        #expect(!ReadingFreshness.everyRead.reuses)
        #expect(!ReadingFreshness(maxAge: .seconds(-1), clock: { .zero }).reuses)
        let bound = ReadingFreshness(maxAge: .seconds(1), clock: { .zero })
        #expect(bound.isFresh(takenAt: .zero, now: Instant(nanoseconds: 999_999_999)))
        #expect(!bound.isFresh(takenAt: .zero, now: Instant(nanoseconds: 1_000_000_000)))
        #expect(!bound.isFresh(takenAt: Instant(nanoseconds: 10), now: .zero))  // backwards: stale
    }
}
