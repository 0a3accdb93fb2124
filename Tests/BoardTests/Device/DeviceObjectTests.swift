import Board
import LwM2M
import Testing

@Suite struct DeviceObjectTests {
    func device(_ platform: FakeDevicePlatform, factoryReset: (() -> Void)? = nil) -> DeviceObject {
        DeviceObject(platform: platform, reboot: {}, factoryReset: factoryReset)
    }

    func value(_ object: DeviceObject, _ resource: UInt16) throws -> ResourceContent {
        try object.read(LwM2MPath(3, 0, resource))
    }

    @Test func nothingKnownMeansAbsentNotInvented() throws {
        let platform = FakeDevicePlatform()
        platform.memoryReading = nil
        platform.offset = nil
        platform.zone = nil
        let object = device(platform)
        // Only what the object itself knows: Reboot, Error Code, Reset Error Code, Current Time, Binding.
        #expect(object.resourceIDs(in: 0) == [4, 11, 12, 13, 16])
        for absent: UInt16 in [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 14, 15, 17, 18, 19, 20, 21] {
            #expect(throws: LwM2MError.notFound) { try object.read(LwM2MPath(3, 0, absent)) }
        }
        #expect(try value(object, 11) == .multiple([0: .integer(0)]))
        #expect(try value(object, 13) == .single(.time(1_800_000_000)))
        #expect(object.resourceIDs(in: 1).isEmpty)
    }

    @Test func powerSourcesKeepTheirIndexAcrossResources() throws {
        let platform = FakeDevicePlatform()
        platform.sources = [PowerSourceReading(kind: .usb, voltage: 5080, current: 912, online: true),
                            PowerSourceReading(kind: .internalBattery, voltage: 3981),
                            PowerSourceReading(kind: .powerOverEthernet)]
        platform.batteryReading = BatteryReading(level: 87, status: .charging)
        let object = device(platform)
        #expect(try value(object, 6) == .multiple([0: .integer(5), 1: .integer(1), 2: .integer(4)]))
        #expect(try value(object, 7) == .multiple([0: .integer(5080), 1: .integer(3981)]))
        #expect(try value(object, 8) == .multiple([0: .integer(912)]))
        #expect(try value(object, 9) == .single(.integer(87)))
        #expect(try value(object, 20) == .single(.integer(1)))
    }

    @Test func readsAtReadTime() throws {
        let platform = FakeDevicePlatform()
        let object = device(platform)
        #expect(try value(object, 10) == .single(.integer(500_000)))
        platform.memoryReading = DeviceMemory(free: 400_000, total: 1_000_000)
        platform.time += 5
        #expect(try value(object, 10) == .single(.integer(400_000)))
        #expect(try value(object, 13) == .single(.time(1_800_000_005)))
    }

    @Test func sampleReportsOnlyWhatChanged() {
        let platform = FakeDevicePlatform()
        let object = device(platform)
        let changes = ChangeRecorder()
        changes.attach(object)
        object.sample(now: 100)
        #expect(changes.take().isEmpty)  // the first round is the baseline
        object.sample(now: 100)
        #expect(changes.take().isEmpty)  // nothing moved
        object.sample(now: 101)
        #expect(changes.take() == [LwM2MPath(3, 0, 13)])
        platform.memoryReading = DeviceMemory(free: 499_000, total: 1_000_000)
        platform.batteryReading = BatteryReading(level: 50, status: .normal)
        object.sample(now: 101)
        #expect(changes.take() == [LwM2MPath(3, 0, 9), LwM2MPath(3, 0, 10), LwM2MPath(3, 0, 20)])
        platform.batteryReading = nil  // the battery went away: its resources disappear, reported
        object.sample(now: 101)
        #expect(changes.take() == [LwM2MPath(3, 0, 9), LwM2MPath(3, 0, 20)])
    }

    @Test func aSamplingRoundReadsThePlatformOnce() {
        let platform = FakeDevicePlatform()
        let object = device(platform)
        object.sample(now: 1)
        #expect(platform.memoryReads == 1)  // Memory Free, Memory Total and Error Code share one reading
        _ = try? object.read(LwM2MPath(3, 0, 10))
        #expect(platform.memoryReads == 2)  // outside a round, a read asks the platform
    }

    @Test func currentTimeWriteSetsTheClockOrFailsClearly() throws {
        let platform = FakeDevicePlatform()
        let object = device(platform)
        let changes = ChangeRecorder()
        changes.attach(object)
        try object.write(LwM2MPath(3, 0, 13), .single(.time(1_900_000_000)))
        #expect(platform.timesSet == [1_900_000_000])
        #expect(try value(object, 13) == .single(.time(1_900_000_000)))
        #expect(changes.take() == [LwM2MPath(3, 0, 13)])

        platform.clockError = .notAllowed("this board's clock is not set by the agent")
        #expect(throws: LwM2MError.notAllowed("this board's clock is not set by the agent")) {
            try object.write(LwM2MPath(3, 0, 13), .single(.time(5)))
        }
        #expect(LwM2MError.notAllowed("x").code == .methodNotAllowed)
        platform.clockError = .failed("cannot set the clock: clock_settime: Operation not permitted (the agent needs CAP_SYS_TIME)")
        #expect(throws: LwM2MError.internalError("cannot set the clock: clock_settime: Operation not permitted (the agent needs CAP_SYS_TIME)")) {
            try object.write(LwM2MPath(3, 0, 13), .single(.time(5)))
        }
        #expect(platform.timesSet == [1_900_000_000])
        #expect(changes.take().isEmpty)
        // Wrong type and read-only resources.
        #expect(throws: LwM2MError.self) { try object.write(LwM2MPath(3, 0, 13), .single(.string("now"))) }
        #expect(throws: LwM2MError.methodNotAllowed) { try object.write(LwM2MPath(3, 0, 10), .single(.integer(1))) }
    }

    @Test func utcOffsetAndTimezoneWritesAreValidated() throws {
        let platform = FakeDevicePlatform()
        let object = device(platform)
        try object.write(LwM2MPath(3, 0, 14), .single(.string("+0530")))
        #expect(try value(object, 14) == .single(.string("+05:30")))
        for bad in ["05:30", "+5:30", "+15:00", "+01:60", "UTC+1", "", "+01:00:00"] {
            #expect(throws: LwM2MError.self, "\(bad)") { try object.write(LwM2MPath(3, 0, 14), .single(.string(bad))) }
        }
        do {
            try object.write(LwM2MPath(3, 0, 14), .single(.string("+25:00")))
            Issue.record("accepted +25:00")
        } catch {
            #expect(error.code == .badRequest && error.description.contains("ISO 8601"))
        }
        #expect(try value(object, 14) == .single(.string("+05:30")))

        try object.write(LwM2MPath(3, 0, 15), .single(.string("Europe/Berlin")))
        #expect(try value(object, 15) == .single(.string("Europe/Berlin")))
        #expect(throws: LwM2MError.badRequest("no time zone \"Mars/Olympus_Mons\"")) {
            try object.write(LwM2MPath(3, 0, 15), .single(.string("Mars/Olympus_Mons")))
        }
        for bad in ["../../etc/passwd", "/etc/localtime", "Europe//Berlin", "Europe/Ber lin", ""] {
            #expect(throws: LwM2MError.self, "\(bad)") { try object.write(LwM2MPath(3, 0, 15), .single(.string(bad))) }
        }
        #expect(try value(object, 15) == .single(.string("Europe/Berlin")))
    }

    @Test func errorCodesFollowConditionsAndReset() throws {
        let platform = FakeDevicePlatform()
        let object = device(platform)
        #expect(try value(object, 11) == .multiple([0: .integer(0)]))
        platform.sources = [PowerSourceReading(kind: .acMains, online: false),
                            PowerSourceReading(kind: .internalBattery, online: false)]
        platform.batteryReading = BatteryReading(level: 5, status: .normal)
        platform.memoryReading = DeviceMemory(free: 40_000, total: 1_000_000)
        platform.storageIsFull = true
        #expect(object.conditions() == [.lowBattery, .externalPowerOff, .outOfMemory, .storageFull])
        #expect(try value(object, 11) == .multiple([0: .integer(1), 1: .integer(2), 2: .integer(5), 3: .integer(16)]))

        // Reset acknowledges what is present now: [0] while those conditions last.
        let changes = ChangeRecorder()
        changes.attach(object)
        try object.execute(LwM2MPath(3, 0, 12), arguments: [])
        #expect(changes.take() == [LwM2MPath(3, 0, 11)])
        #expect(try value(object, 11) == .multiple([0: .integer(0)]))
        // Memory recovers, then runs low again: reported anew. The others stay acknowledged.
        platform.memoryReading = DeviceMemory(free: 500_000, total: 1_000_000)
        #expect(try value(object, 11) == .multiple([0: .integer(0)]))
        platform.memoryReading = DeviceMemory(free: 10_000, total: 1_000_000)
        #expect(try value(object, 11) == .multiple([0: .integer(5)]))
        // A new condition with the status "low" (level above the threshold).
        platform.batteryReading = BatteryReading(level: 50, status: .low)
        #expect(object.conditions().contains(.lowBattery))
    }

    @Test func executesSchedule() throws {
        var reboots = 0, resets = 0
        let platform = FakeDevicePlatform()
        let object = DeviceObject(platform: platform, reboot: { reboots += 1 }, factoryReset: { resets += 1 })
        try object.execute(LwM2MPath(3, 0, 4), arguments: [])
        try object.execute(LwM2MPath(3, 0, 5), arguments: [])
        #expect(reboots == 1 && resets == 1)
        #expect(object.resourceIDs(in: 0).contains(5))
        #expect(throws: LwM2MError.notFound) { try device(platform).execute(LwM2MPath(3, 0, 5), arguments: []) }
        #expect(throws: LwM2MError.methodNotAllowed) { try object.execute(LwM2MPath(3, 0, 13), arguments: []) }
    }

    /// A Read through the registry is one round: /proc/meminfo (here the fake's memory()) is
    /// read once for the whole of /3/0 — Memory Free, Memory Total, Error Code and the presence
    /// checks — and once for a single resource, where it was read once per use (9 times for
    /// /3/0) before; the next Read takes a fresh reading.
    @Test func aReadThroughTheRegistryReadsThePlatformOnce() throws {
        let platform = FakeDevicePlatform()
        let registry = ObjectRegistry()
        registry.register(DeviceObject(platform: platform, reboot: {}))
        _ = try registry.records(at: LwM2MPath(3, 0))
        #expect(platform.memoryReads == 1)
        _ = try registry.records(at: LwM2MPath(3, 0, 10))
        #expect(platform.memoryReads == 2)
        platform.memoryReading = DeviceMemory(free: 400_000, total: 1_000_000)
        #expect(try registry.records(at: LwM2MPath(3, 0, 10)) == [LwM2MRecord(LwM2MPath(3, 0, 10), .integer(400_000))])
    }

    @Test func throughTheRegistryAndResponder() throws {
        let platform = FakeDevicePlatform()
        platform.identity = DeviceIdentity(manufacturer: "Raspberry Pi Ltd", softwareVersion: "0.9.0")
        let registry = ObjectRegistry()
        registry.register(DeviceObject(platform: platform, reboot: {}))
        let records = try registry.records(at: LwM2MPath(3, 0))
        #expect(records.map(\.path) == [LwM2MPath(3, 0, 0), LwM2MPath(3, 0, 10), LwM2MPath(3, 0, 11, 0),
                                         LwM2MPath(3, 0, 13), LwM2MPath(3, 0, 14), LwM2MPath(3, 0, 15),
                                         LwM2MPath(3, 0, 16), LwM2MPath(3, 0, 19), LwM2MPath(3, 0, 21)])
        #expect(records.first == LwM2MRecord(LwM2MPath(3, 0, 0), .string("Raspberry Pi Ltd")))
        let lines = (registry.object(3) as! DeviceObject).reportLines()
        #expect(lines.contains("/3/0/0 Manufacturer = \"Raspberry Pi Ltd\""))
        #expect(lines.contains("/3/0/4 Reboot (execute)"))
        #expect(lines.contains("/3/0/11/0 Error Code = 0"))
        #expect(lines.contains("/3/0/13 Current Time = 1800000000 (Unix time)"))
    }
}
