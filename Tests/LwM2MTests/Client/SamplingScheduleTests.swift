@testable import CoAP
@testable import LwM2M
import Testing

/// A registered client with a Temperature object over a scripted sensor, and the sampling
/// schedule the daemon's runtime keeps, on the harness's virtual clock: what the runtime does
/// on every turn of its loop (`ClientRuntime.sampleIfDue`), without sockets.
private struct SampledWorld {
    var world: ClientHarness
    let server = FakeManagementServer()
    let sensor = ScriptedSensor(21.5)
    var schedule: SamplingSchedule
    /// Sampling rounds seen at each turn's end, for "no round without an observation".
    var wallClockReads = 0

    init() {
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: Accounts.serverRecords(instance: 0, ssid: 201, lifetime: 86_400))
        world = ClientHarness(factory: factory)
        world.client.registry.register(TemperatureObject(sensors: [sensor]))
        world.servers = [factoryServerURI: server]
        schedule = SamplingSchedule(registry: world.client.registry)
        world.start()
        #expect(world.client.registeredServers == [201])
    }

    /// Turns of the loop every 250 ms for `seconds`: time passes for the client and the server,
    /// then the schedule follows what is observed, then the client reports what changed.
    mutating func run(seconds: Int) {
        for _ in 0..<(seconds * 4) {
            world.run(for: .milliseconds(250))
            turn()
        }
    }

    /// One turn of the runtime's loop at the current time.
    mutating func turn() {
        let client = world.client
        schedule.advance(to: world.now, wallClock: { wallClockReads += 1; return 1_700_000_000 },
                         isObserved: { client.isObserving(object: $0) })
        world.client.advance(to: world.now)
        world.pump()
    }

    /// The server sends GET `path` with Observe `observe` (0 registers, 1 cancels); the client
    /// answers in the same turn.
    mutating func get(_ path: [String], observe: UInt32, accept: UInt32 = 0) {
        _ = server.send(CoAPRequest(.get, options: [CoAPOption(.observe, uint: observe)]
                            + path.map { CoAPOption(.uriPath, string: $0) } + [CoAPOption(.accept, uint: accept)]),
                        at: world.now)
        world.pump()
        turn()
    }

    /// The notifications (2.05 with Observe, after the registration's response) the client sent.
    var notifications: [String] {
        world.sentByClient.map(\.1).filter { $0.code == .content && $0.observe != nil && $0.observe! > 0 }
            .map { String(decoding: $0.payload, as: UTF8.self) }
    }
}

@Suite struct SamplingScheduleTests {
    @Test func nothingObservedMeansNoSamplingAndNoTimer() {
        var world = SampledWorld()
        world.run(seconds: 10)
        #expect(world.sensor.reads == 0)
        #expect(world.schedule.rounds == 0)
        #expect(world.schedule.nextRound == nil)
        #expect(world.wallClockReads == 0)
        #expect(world.schedule.sampledObjectIDs.isEmpty)
    }

    @Test func anObservationStartsSamplingAndItsCancellationStopsIt() throws {
        var world = SampledWorld()
        world.run(seconds: 3)
        #expect(world.sensor.reads == 0)

        world.get(["3303", "0", "5700"], observe: 0)
        #expect(world.schedule.sampledObjectIDs == [3303])
        let observedAt = world.world.now
        #expect(world.schedule.nextRound == observedAt + .seconds(1))
        let readsAtStart = world.sensor.reads  // the response's read, and the resuming sample
        #expect(readsAtStart >= 2)
        #expect(world.notifications.isEmpty)  // nothing new since the response

        world.run(seconds: 5)
        #expect(world.schedule.rounds >= 4 && world.schedule.rounds <= 5)
        #expect(world.sensor.reads >= readsAtStart + 4)
        #expect(world.notifications.isEmpty)  // the value did not move

        world.sensor.reading = 23.0
        world.run(seconds: 2)
        #expect(world.notifications == ["23.0"])

        world.get(["3303", "0", "5700"], observe: 1)  // a Read that ends the observation
        #expect(world.world.client.isObserving(object: 3303) == false)
        #expect(world.schedule.nextRound == nil)
        #expect(world.schedule.sampledObjectIDs.isEmpty)
        let rounds = world.schedule.rounds
        let reads = world.sensor.reads
        world.sensor.reading = 30.0
        world.run(seconds: 10)
        #expect(world.schedule.rounds == rounds)
        #expect(world.sensor.reads == reads)
        #expect(world.notifications == ["23.0"])
    }

    @Test func anObservationOfTheWholeObjectCountsAndOnlyTheObservedObjectIsSampled() throws {
        var world = SampledWorld()
        world.get(["3303"], observe: 0, accept: UInt32(ContentFormat.senmlJSON))
        #expect(world.world.client.isObserving(object: 3303))
        #expect(world.world.client.isObserving(object: 3) == false)
        world.run(seconds: 3)
        #expect(world.schedule.rounds >= 2)
        world.get(["3303"], observe: 1, accept: UInt32(ContentFormat.senmlJSON))
        #expect(world.schedule.nextRound == nil)
    }

    @Test func aReadOfAnUnobservedSampledObjectIsFresh() throws {
        var world = SampledWorld()
        world.run(seconds: 2)
        world.sensor.reading = 19.25
        let id = world.server.send(CoAPRequest(.get, options: [
            CoAPOption(.uriPath, string: "3303"), CoAPOption(.uriPath, string: "0"), CoAPOption(.uriPath, string: "5700"),
            CoAPOption(.accept, uint: 0),
        ]), at: world.world.now)
        world.world.pump()
        world.turn()
        #expect(world.server.answers[id].map { String(decoding: $0.payload, as: UTF8.self) } == "19.25")
        #expect(world.schedule.rounds == 0 && world.schedule.nextRound == nil)
    }
}

/// The objects' `resumeSampling(now:)`: what changed while nothing sampled them is in the new
/// observation's response, so the first round reports nothing of it.
@Suite struct ResumeSamplingTests {
    @Test func lightControlOnTimeIsNotReportedAgainWhenSamplingResumes() throws {
        var reporting = try ReportingRig()
        let clock = VirtualClock(reporting.at(0))
        let object = LightControlObject(lights: [.init(driver: FakeLED(maximum: 1))], clock: { clock.now })
        reporting.registry.register(object)
        #expect(RequestHandler().handle(request(.put, "/3311/0/5850", format: ContentFormat.textPlain, payload: utf8("1")),
                                        registry: reporting.registry).code == .changed)
        _ = reporting.registry.takeChanges()
        clock.now = reporting.at(100.2)  // nothing sampled On Time for 100 s
        _ = reporting.observe(LwM2MPath(3311, 0, 5852), at: 100.2)
        object.resumeSampling(now: 0)
        #expect(reporting.registry.changedPaths.isEmpty)
        #expect(reporting.update(at: 100.2).isEmpty)
        clock.now = reporting.at(101.3)
        object.sample(now: 0)
        #expect(reporting.update(at: 101.3).map(\.response.text) == ["101"])
        // A Read computes On Time from the switch-on time, sampled or not.
        #expect(try reporting.registry.records(at: LwM2MPath(3311, 0, 5852)).first?.value == .integer(101))
    }
}

/// `ReportingEngine.isObserving(object:)` and the changes queued when an observation starts.
@Suite struct ReportingObservedObjectsTests {
    @Test func observationsCountForTheirObjectUntilTheyEnd() throws {
        var rig = try ReportingRig()
        #expect(rig.engine.isObserving(object: 3) == false)
        let battery = rig.observe(LwM2MPath(3, 0, 9))
        let instance = rig.observe(LwM2MPath(3, 0))
        #expect(rig.engine.isObserving(object: 3))
        #expect(rig.engine.isObserving(object: 4) == false)
        rig.engine.cancel(observation: battery)
        #expect(rig.engine.isObserving(object: 3))
        rig.engine.cancel(observation: instance)
        #expect(rig.engine.isObserving(object: 3) == false)

        // A composite observation counts for each object it lists; the root for every object.
        let composite = ObservationID(rawValue: 900)
        rig.engine.observe(paths: [LwM2MPath(3, 0, 9), LwM2MPath(1)], observation: composite, format: ContentFormat.senmlJSON,
                           registry: rig.registry, attributes: rig.store, at: rig.at(1))
        #expect(rig.engine.isObserving(object: 3) && rig.engine.isObserving(object: 1))
        #expect(rig.engine.isObserving(object: 4) == false)
        // Registering the same ID again replaces what it observes.
        rig.engine.observe(paths: [LwM2MPath.root], observation: composite, format: ContentFormat.senmlJSON,
                           registry: rig.registry, attributes: rig.store, at: rig.at(2))
        #expect(rig.engine.isObserving(object: 4) && rig.engine.isObserving(object: 3303))
        rig.engine.cancel(observation: composite)
        #expect(rig.engine.isObserving(object: 3) == false && rig.engine.isObserving(object: 4) == false)
        #expect(rig.engine.observations.isEmpty)
    }

    @Test func aChangeQueuedBeforeTheObservationStartedIsNotNotifiedAgain() throws {
        var rig = try ReportingRig()
        _ = rig.registry.takeChanges()
        // An object reports what a Read found (a sensor read for the first time in a while):
        // the change is queued before the observation is registered, and the response has it.
        try rig.setBattery(61)
        _ = rig.observe(LwM2MPath(3, 0, 9), at: 0)
        #expect(rig.update(at: 0).isEmpty)
        #expect(rig.engine.nextDeadline == nil)
        // The next change is news.
        #expect(try rig.battery(62, at: 1) == ["62"])
    }
}
