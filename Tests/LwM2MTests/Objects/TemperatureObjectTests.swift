import CoAP
@testable import LwM2M
import Testing

/// A sensor whose reading the test sets.
final class ScriptedSensor: TemperatureSensor {
    var reading: Double?
    var applicationType: String?
    var rangeMinimum: Double?
    var rangeMaximum: Double?
    private(set) var reads = 0

    init(_ reading: Double?, type: String? = "cpu-thermal", rangeMaximum: Double? = nil) {
        self.reading = reading
        applicationType = type
        self.rangeMaximum = rangeMaximum
    }

    func celsius() -> Double? {
        reads += 1
        return reading
    }
}

@Suite struct TemperatureObjectTests {
    private let cpu = ScriptedSensor(48.5, rangeMaximum: 110)
    private let board = ScriptedSensor(nil, type: nil)
    private let object: TemperatureObject
    private let registry = ObjectRegistry()

    init() {
        object = TemperatureObject(sensors: [cpu, board])
        registry.register(object)
        _ = registry.takeChanges()
    }

    private func read(_ path: String, accept: UInt16 = ContentFormat.textPlain) -> CoAPResponse {
        RequestHandler().handle(request(.get, path, accept: accept), registry: registry)
    }

    private func value(_ path: String) -> String {
        let response = read(path)
        return response.code == .content ? response.text : "\(response.code)"
    }

    @Test func oneInstancePerSensorReadAtReadTime() throws {
        #expect(object.instanceIDs == [0, 1])
        #expect(cpu.reads == 0)  // nothing read before the first request
        #expect(value("/3303/0/5700") == "48.5")
        #expect(value("/3303/0/5701") == "Cel")
        #expect(value("/3303/0/5750") == "cpu-thermal")
        #expect(value("/3303/0/5604") == "110.0" || value("/3303/0/5604") == "110")
        cpu.reading = 50.25
        #expect(value("/3303/0/5700") == "50.25")
        let records = try registry.records(at: LwM2MPath(3303, 0))
        #expect(records.map(\.path.resourceID) == [5601, 5602, 5604, 5700, 5701, 5750])
    }

    @Test func anUnreadableSensorHasNoValueButTheInstanceStays() throws {
        #expect(read("/3303/1/5700").code == .notFound)
        #expect(read("/3303/1/5601").code == .notFound)
        #expect(read("/3303/1/5750").code == .notFound)  // no type known
        #expect(try registry.records(at: LwM2MPath(3303, 1)).map(\.path.resourceID) == [5701])
        #expect(read("/3303/1", accept: ContentFormat.senmlJSON).code == .content)
        board.reading = 30
        #expect(value("/3303/1/5700") == "30.0" || value("/3303/1/5700") == "30")
        board.reading = .nan
        #expect(read("/3303/1/5700").code == .notFound)  // NaN is no reading
        board.reading = .infinity
        #expect(read("/3303/1/5700").code == .notFound)
    }

    @Test func minAndMaxFollowReadsAndSamplesUntilReset() throws {
        _ = read("/3303/0/5700")  // 48.5
        cpu.reading = 61
        object.sample(now: 1)
        cpu.reading = 40
        _ = read("/3303/0")
        cpu.reading = 45
        object.sample(now: 2)
        #expect(try object.read(LwM2MPath(3303, 0, 5601)) == .single(.float(40)))
        #expect(try object.read(LwM2MPath(3303, 0, 5602)) == .single(.float(61)))

        let reset = RequestHandler().handle(request(.post, "/3303/0/5605"), registry: registry)
        #expect(reset.code == .changed)
        #expect(try object.read(LwM2MPath(3303, 0, 5601)) == .single(.float(45)))
        #expect(try object.read(LwM2MPath(3303, 0, 5602)) == .single(.float(45)))

        // Reset while the sensor cannot be read: no extremes at all until the next reading.
        cpu.reading = nil
        #expect(RequestHandler().handle(request(.post, "/3303/0/5605"), registry: registry).code == .changed)
        #expect(read("/3303/0/5601").code == .notFound && read("/3303/0/5602").code == .notFound)
        cpu.reading = 47
        object.sample(now: 3)
        #expect(try object.read(LwM2MPath(3303, 0, 5601)) == .single(.float(47)))
    }

    @Test func changesAreReportedOncePerResourceThatMoved() {
        object.sample(now: 1)
        #expect(registry.takeChanges() == [LwM2MPath(3303, 0, 5700), LwM2MPath(3303, 0, 5601), LwM2MPath(3303, 0, 5602)])
        object.sample(now: 2)
        #expect(registry.takeChanges().isEmpty)
        cpu.reading = 49
        object.sample(now: 3)
        #expect(registry.takeChanges() == [LwM2MPath(3303, 0, 5700), LwM2MPath(3303, 0, 5602)])
        // Turning unreadable is not reported (an observation would end with 4.04 on one failed read).
        cpu.reading = nil
        object.sample(now: 4)
        #expect(registry.takeChanges().isEmpty)
        cpu.reading = 49
        object.sample(now: 5)
        #expect(registry.takeChanges() == [LwM2MPath(3303, 0, 5700)])
    }

    @Test func serverOperations() {
        let handler = RequestHandler()
        // Application Type is writable (kept in memory); the readings are not.
        let write = handler.handle(request(.put, "/3303/0/5750", format: ContentFormat.textPlain,
                                           payload: utf8("SoC")), registry: registry)
        #expect(write.code == .changed)
        #expect(value("/3303/0/5750") == "SoC")
        #expect(handler.handle(request(.put, "/3303/0/5700", format: ContentFormat.textPlain, payload: utf8("1")),
                               registry: registry).code == .methodNotAllowed)
        #expect(handler.handle(request(.post, "/3303/0/5700"), registry: registry).code == .methodNotAllowed)
        #expect(read("/3303/2/5700").code == .notFound)
        #expect(read("/3303/0/5518").code == .notFound)
        #expect(handler.handle(request(.post, "/3303"), registry: registry).code == .methodNotAllowed)  // no Create
        let discover = handler.handle(request(.get, "/3303/0", accept: ContentFormat.linkFormat), registry: registry)
        #expect(discover.text.contains("</3303/0/5605>"))
    }
}
