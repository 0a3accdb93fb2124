import Board
@testable import CoAP
import LwM2M
import Testing

/// A Temperature object over a thermal zone whose `temp` file the test rewrites, observed with
/// Write-Attributes `st` through the reporting engine, sampled as the daemon's timer does.
@Suite struct TemperatureObservationTests {
    @Test func stepNotifiesOnlyWhenTheZoneMovesByMoreThanTheStep() throws {
        let tree = SensorFixtures.scratch(["/sys/class/thermal/thermal_zone0/type": "cpu-thermal\n",
                                           "/sys/class/thermal/thermal_zone0/temp": "45000\n"])
        defer { SensorFixtures.remove(tree) }
        let root = SystemRoot(tree)
        let object = TemperatureObject(sensors: ThermalZones.all(in: root).map { ThermalZoneSensor(zone: $0, root: root) })
        let registry = ObjectRegistry()
        registry.register(object)
        let path = LwM2MPath(3303, 0, 5700)
        var attributes = AttributeStore()
        attributes.setAttributes(NotificationAttributes(st: 2), at: path)
        var engine = ReportingEngine()
        let t0 = Instant(nanoseconds: 1_000_000_000)
        engine.observe(path: path, observation: ObservationID(rawValue: 1), format: ContentFormat.textPlain,
                       registry: registry, attributes: attributes, at: t0)
        _ = registry.takeChanges()

        var second = 0
        func sample(_ millidegrees: String) -> [String] {
            SensorFixtures.write(tree + "/sys/class/thermal/thermal_zone0/temp", millidegrees + "\n")
            second += 1
            object.sample(now: Int64(second))
            return engine.update(changed: registry.takeChanges(), registry: registry, attributes: attributes,
                                 at: t0 + .seconds(Int64(second))).map { String(decoding: $0.response.payload, as: UTF8.self) }
        }
        #expect(sample("45000") == [])       // no change
        #expect(sample("46500") == [])       // moved 1.5 from the last notified 45
        #expect(sample("47500") == ["47.5"]) // 2.5 from 45: notified
        #expect(sample("46000") == [])       // 1.5 from 47.5
        #expect(sample("45400") == ["45.4"]) // 2.1 from 47.5
        #expect(sample("garbage") == [])     // unreadable: 5700 absent, no value to compare
        #expect(sample("45400") == [])
        // Min / Max Measured followed every sample, the unreadable one aside.
        #expect(try object.read(LwM2MPath(3303, 0, 5601)) == .single(.float(45)))
        #expect(try object.read(LwM2MPath(3303, 0, 5602)) == .single(.float(47.5)))
    }
}
