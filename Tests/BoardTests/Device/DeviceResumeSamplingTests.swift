import Board
import LwM2M
import Testing

/// The Device object when sampling resumes after a pause (nothing observed it, so nothing
/// sampled it): what changed meanwhile is in the new observation's response, not news.
@Suite struct DeviceResumeSamplingTests {
    @Test func theFirstRoundAfterAPauseIsAReferenceNotAReport() throws {
        let platform = FakeDevicePlatform()
        let object = DeviceObject(platform: platform, reboot: {})
        let changes = ChangeRecorder()
        changes.attach(object)
        object.sample(now: 100)  // observed once, then the observation ended: sampling paused
        #expect(changes.take().isEmpty)

        // During the pause: memory, the battery and the clock moved; a Read sees it at once.
        platform.memoryReading = DeviceMemory(free: 300_000, total: 1_000_000)
        platform.batteryReading = BatteryReading(level: 40, status: .normal)
        platform.time = 1_800_000_500
        #expect(try object.read(LwM2MPath(3, 0, 10)) == .single(.integer(300_000)))
        #expect(try object.read(LwM2MPath(3, 0, 13)) == .single(.time(1_800_000_500)))

        // A new observation: its response carried those values; the resuming round reports none.
        object.resumeSampling(now: 500)
        #expect(changes.take().isEmpty)
        // From then on, changes are reported as before.
        object.sample(now: 501)
        #expect(changes.take() == [LwM2MPath(3, 0, 13)])
        platform.memoryReading = DeviceMemory(free: 299_000, total: 1_000_000)
        object.sample(now: 501)
        #expect(changes.take() == [LwM2MPath(3, 0, 10)])
    }
}
