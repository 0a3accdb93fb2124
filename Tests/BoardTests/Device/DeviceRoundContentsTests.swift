// A Read of /3/0 asks the Device object for each optional resource's content twice: whether
// it is present (`resourceIDs`), then its value (`read`). Within one Read (a round) each is
// computed once; nothing computed in one Read is served to the next.
import Board
@testable import LwM2M
import Testing
import Time

@Suite struct DeviceRoundContentsTests {
    /// The resources whose presence depends on the platform's readings (`resourceIDs` computes
    /// their contents to know).
    static let optional: Set<UInt16> = [6, 7, 8, 9, 10, 14, 15, 20, 21]

    @Test func aReadComputesEachResourceOnce() throws {
        let platform = FakeDevicePlatform()
        platform.sources = [PowerSourceReading(kind: .dc, voltage: 5000, current: 120)]
        let device = DeviceObject(platform: platform, reboot: {})
        let registry = ObjectRegistry()
        registry.register(device)
        let records = try registry.records(at: LwM2MPath(3, 0))
        let read = Set(records.compactMap(\.path.resourceID))
        #expect(read.isSuperset(of: [6, 7, 8, 10, 14, 15, 21]), "present optional resources: \(read.sorted())")
        // Before: each present optional resource was computed twice (presence, then value).
        #expect(device.contentsComputed == read.union(Self.optional).count)
    }

    @Test func aReadDoesNotServeTheContentsOfThePreviousRead() throws {
        var now = Instant.zero
        let platform = FakeDevicePlatform()
        // Readings reused for 1 s: the platform's memory is read once in the window, but Current
        // Time and what depends on the object's own state are computed again for each Read.
        let device = DeviceObject(platform: platform, freshness: ReadingFreshness(maxAge: .seconds(1), clock: { now }),
                                  reboot: {})
        let registry = ObjectRegistry()
        registry.register(device)
        #expect(try registry.records(at: LwM2MPath(3, 0)).contains(LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_800_000_000))))
        platform.time += 1
        now = now + .milliseconds(10)
        #expect(try registry.records(at: LwM2MPath(3, 0)).contains(LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_800_000_001))))
        #expect(platform.memoryReads == 1)
    }

    @Test func resetErrorCodeIsSeenByTheNextRead() throws {
        let platform = FakeDevicePlatform()
        platform.memoryReading = DeviceMemory(free: 1, total: 1_000_000)  // out of memory: Error Code 5
        let device = DeviceObject(platform: platform, reboot: {})
        let registry = ObjectRegistry()
        registry.register(device)
        #expect(try registry.records(at: LwM2MPath(3, 0, 11)) == [LwM2MRecord(LwM2MPath(3, 0, 11, 0), .integer(5))])
        try device.execute(LwM2MPath(3, 0, 12), arguments: [])
        #expect(try registry.records(at: LwM2MPath(3, 0, 11)) == [LwM2MRecord(LwM2MPath(3, 0, 11, 0), .integer(0))])
    }

    /// `resourceIDs` lists the present resources in ascending order: all 22 with every identity
    /// string, a power source with voltage and current, a battery and Factory Reset; only the
    /// fixed ones and what the platform has otherwise.
    @Test func theResourceIDsAreThePresentOnesAscending() {
        let full = FakeDevicePlatform()
        full.identity = DeviceIdentity(manufacturer: "m", modelNumber: "n", serialNumber: "s", firmwareVersion: "f",
                                       deviceType: "d", hardwareVersion: "h", softwareVersion: "v")
        full.sources = [PowerSourceReading(kind: .internalBattery, voltage: 3700, current: 80)]
        full.batteryReading = BatteryReading(level: 80, status: .normal)
        #expect(DeviceObject(platform: full, reboot: {}, factoryReset: {}).resourceIDs(in: 0) == Array(0...21))
        let bare = FakeDevicePlatform()
        bare.memoryReading = nil
        bare.offset = nil
        bare.zone = nil
        #expect(DeviceObject(platform: bare, reboot: {}).resourceIDs(in: 0) == [4, 11, 12, 13, 16])
        #expect(DeviceObject(platform: bare, reboot: {}).resourceIDs(in: 1) == [])
    }
}
