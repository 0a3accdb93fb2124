@testable import CoAP
@testable import LwM2M
import Testing

/// A registry (the shared `Responder` fixture), an attribute store and a reporting engine on a
/// virtual clock counted in seconds from `t0`.
struct ReportingRig {
    let responder: Responder
    var engine = ReportingEngine()
    var store = AttributeStore()
    let t0 = Instant(nanoseconds: 5_000_000_000)
    private var nextID = 100

    init() throws { responder = try Responder() }

    var registry: ObjectRegistry { responder.registry }

    /// The instant `seconds` after `t0`.
    func at(_ seconds: Double) -> Instant { t0 + .milliseconds(Int64((seconds * 1000).rounded())) }

    /// Registers an observation of `path` made at `seconds`.
    mutating func observe(_ path: LwM2MPath, format: UInt16 = ContentFormat.textPlain, at seconds: Double = 0)
        -> ObservationID
    {
        nextID += 1
        let id = ObservationID(rawValue: nextID)
        engine.observe(path: path, observation: id, format: format, registry: registry, attributes: store,
                       at: at(seconds))
        return id
    }

    /// Attaches attributes with a Write-Attributes request through the handler.
    mutating func writeAttributes(_ path: String, _ query: String...) {
        let response = RequestHandler().handle(request(.put, path, query: query), registry: registry, attributes: &store)
        #expect(response.code == .changed, "Write-Attributes \(path)?\(query)")
    }

    /// Feeds the registry's changes at `seconds` and returns the notifications due.
    mutating func update(at seconds: Double) -> [ReportingEngine.Notification] {
        engine.update(changed: registry.takeChanges(), registry: registry, attributes: store, at: at(seconds))
    }

    func setBattery(_ level: Int64) throws {
        try responder.device.set(LwM2MPath(3, 0, 9), .integer(level))
    }

    /// Sets the battery at `seconds` and returns the payloads of the notifications due then.
    mutating func battery(_ level: Int64, at seconds: Double) throws -> [String] {
        try setBattery(level)
        return update(at: seconds).map(\.response.text)
    }
}

@Suite struct ReportingEngineTests {
    // MARK: - pmin and pmax

    @Test func pminHoldsBackAChangeUntilLastSentPlusPmin() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "pmin=10")
        let id = rig.observe(LwM2MPath(3, 0, 9))
        #expect(rig.engine.nextDeadline == nil)

        #expect(try rig.battery(50, at: 2).isEmpty)
        #expect(rig.engine.nextDeadline == rig.at(10))
        #expect(try rig.battery(40, at: 3).isEmpty)  // still one pending notification
        #expect(rig.update(at: 9.999).isEmpty)
        let sent = rig.engine.due(registry: rig.registry, attributes: rig.store, at: rig.at(10))
        #expect(sent.count == 1)
        #expect(sent.first?.observation == id)
        #expect(sent.first?.response.code == .content)
        #expect(sent.first?.response.contentFormat == ContentFormat.textPlain)
        #expect(sent.first?.response.text == "40")  // the value at sending time
        #expect(rig.engine.nextDeadline == nil)
        #expect(rig.update(at: 11).isEmpty)

        // The next change waits for 10 s after the last notification, not after the change.
        #expect(try rig.battery(30, at: 12).isEmpty)
        #expect(rig.engine.nextDeadline == rig.at(20))
        #expect(rig.update(at: 20).map(\.response.text) == ["30"])
        // A change after pmin has passed goes out at once.
        #expect(try rig.battery(20, at: 35) == ["20"])
    }

    @Test func pmaxForcesANotificationWithoutChange() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0", "pmax=5")
        let id = rig.observe(LwM2MPath(3, 0), format: ContentFormat.lwm2mTLV)
        #expect(rig.engine.nextDeadline == rig.at(5))
        #expect(rig.update(at: 4.999).isEmpty)

        let forced = rig.update(at: 5)
        #expect(forced.map(\.observation) == [id])
        let response = try #require(forced.first?.response)
        #expect(response.contentFormat == ContentFormat.lwm2mTLV)
        let records = try PayloadCodec.decode(response.payload, base: LwM2MPath(3, 0), format: ContentFormat.lwm2mTLV,
                                              schema: rig.registry.schema)
        #expect(records.contains(LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))))
        #expect(rig.engine.nextDeadline == rig.at(10))

        // A change restarts the pmax period.
        #expect(try rig.battery(94, at: 7).count == 1)
        #expect(rig.engine.nextDeadline == rig.at(12))
        #expect(rig.update(at: 11.5).isEmpty)
        #expect(rig.update(at: 12).count == 1)
        // A late run loop sends one notification, not one per missed period.
        #expect(rig.update(at: 30).count == 1)
        #expect(rig.engine.nextDeadline == rig.at(35))
    }

    @Test func pmaxNotAbovePminIsIgnoredAndDefaultsApply() throws {
        var rig = try ReportingRig()
        rig.store.defaults = NotificationAttributes(pmin: 1, pmax: 30)
        rig.writeAttributes("/3/0/9", "pmin=10", "pmax=10")
        _ = rig.observe(LwM2MPath(3, 0, 9))
        #expect(rig.engine.nextDeadline == nil)

        // Another resource gets the server's default periods.
        _ = rig.observe(LwM2MPath(3, 0, 13))
        #expect(rig.engine.nextDeadline == rig.at(30))
        try rig.responder.device.set(LwM2MPath(3, 0, 13), .time(startTime + 1))
        #expect(rig.update(at: 0.5).isEmpty)  // default pmin 1 s
        #expect(rig.update(at: 1).count == 1)
        #expect(rig.engine.nextDeadline == rig.at(31))
    }

    @Test func attributesWrittenAfterRegistrationTakeEffect() throws {
        var rig = try ReportingRig()
        _ = rig.observe(LwM2MPath(3, 0, 9))
        #expect(rig.update(at: 1).isEmpty)
        rig.writeAttributes("/3", "pmax=3")
        #expect(rig.update(at: 2).isEmpty)
        #expect(rig.engine.nextDeadline == rig.at(3))
        #expect(rig.update(at: 3).map(\.response.text) == ["95"])
    }

    // MARK: - gt, lt, st

    @Test func gtAndLtCrossingsInBothDirections() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "gt=50", "lt=20")
        _ = rig.observe(LwM2MPath(3, 0, 9))  // last notified value: 95
        #expect(try rig.battery(80, at: 1).isEmpty)
        #expect(try rig.battery(40, at: 2) == ["40"])  // crossed gt downwards
        #expect(try rig.battery(30, at: 3).isEmpty)
        #expect(try rig.battery(10, at: 4) == ["10"])  // crossed lt downwards
        #expect(try rig.battery(15, at: 5).isEmpty)
        #expect(try rig.battery(25, at: 6) == ["25"])  // crossed lt upwards
        #expect(try rig.battery(50, at: 7).isEmpty)  // equal to gt is not above it
        #expect(try rig.battery(51, at: 8) == ["51"])  // crossed gt upwards
    }

    @Test func stepFromTheLastNotifiedValue() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "st=5")
        _ = rig.observe(LwM2MPath(3, 0, 9))
        #expect(try rig.battery(93, at: 1).isEmpty)
        #expect(try rig.battery(97, at: 2).isEmpty)
        #expect(try rig.battery(90, at: 3) == ["90"])  // |90 − 95| = 5
        #expect(try rig.battery(86, at: 4).isEmpty)
        #expect(try rig.battery(94, at: 5).isEmpty)
        #expect(try rig.battery(85, at: 6) == ["85"])

        // A float resource.
        rig.writeAttributes("/32769/0/4", "st=0.5")
        _ = rig.observe(LwM2MPath(32769, 0, 4))  // 1.5
        try rig.responder.test.set(LwM2MPath(32769, 0, 4), .float(1.9))
        #expect(rig.update(at: 7).isEmpty)
        try rig.responder.test.set(LwM2MPath(32769, 0, 4), .float(2.0))
        #expect(rig.update(at: 8).map(\.response.text) == ["2.0"])
    }

    @Test func pmaxNotificationUpdatesTheReferenceValue() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "st=10", "pmax=60")
        _ = rig.observe(LwM2MPath(3, 0, 9))
        #expect(try rig.battery(88, at: 1).isEmpty)
        #expect(rig.update(at: 60).map(\.response.text) == ["88"])
        #expect(try rig.battery(80, at: 61).isEmpty)  // 8 from 88
        #expect(try rig.battery(78, at: 62) == ["78"])
    }

    @Test func conditionsApplyOnlyToNumericSingleValues() throws {
        var rig = try ReportingRig()
        // Attached to the resource, they do not filter an observation of the instance.
        rig.writeAttributes("/3/0/9", "st=50")
        _ = rig.observe(LwM2MPath(3, 0), format: ContentFormat.senmlJSON)
        #expect(try rig.battery(94, at: 1).count == 1)
        // Without gt/lt/st every change is notified.
        var plain = try ReportingRig()
        _ = plain.observe(LwM2MPath(3, 0, 9))
        #expect(try plain.battery(95, at: 1) == ["95"])  // set to the same value: still a change report
        #expect(try plain.battery(94, at: 2) == ["94"])
    }

    // MARK: - epmin and epmax

    @Test func epminDefersEvaluatingAChange() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "st=5", "epmin=3")
        _ = rig.observe(LwM2MPath(3, 0, 9))  // 95
        #expect(try rig.battery(90, at: 1).isEmpty)  // not evaluated before 3 s
        #expect(rig.engine.nextDeadline == rig.at(3))
        #expect(try rig.battery(94, at: 2).isEmpty)
        #expect(rig.update(at: 3).isEmpty)  // evaluated at 3 s: 94 is within st of 95
        #expect(rig.engine.nextDeadline == nil)
        #expect(try rig.battery(80, at: 4).isEmpty)  // next evaluation 3 s after the last
        #expect(rig.engine.nextDeadline == rig.at(6))
        #expect(rig.update(at: 5.5).isEmpty)
        #expect(rig.update(at: 6).map(\.response.text) == ["80"])
    }

    @Test func epmaxSamplesChangesNobodyReported() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "epmax=10")
        _ = rig.observe(LwM2MPath(3, 0, 9))
        #expect(rig.engine.nextDeadline == rig.at(10))
        try rig.setBattery(50)
        _ = rig.registry.takeChanges()  // the change report is lost
        #expect(rig.update(at: 9).isEmpty)
        #expect(rig.update(at: 10).map(\.response.text) == ["50"])
        #expect(rig.engine.nextDeadline == rig.at(20))
        #expect(rig.update(at: 20).isEmpty)  // sampled, unchanged
        #expect(rig.engine.nextDeadline == rig.at(30))

        // epmax not above epmin (inherited from the instance) is ignored.
        rig.writeAttributes("/3/0", "epmin=10")
        #expect(rig.update(at: 21).isEmpty)
        #expect(rig.engine.nextDeadline == nil)
    }

    @Test func epmaxSampleStillObeysPmin() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "epmax=2", "pmin=5")
        _ = rig.observe(LwM2MPath(3, 0, 9))
        try rig.setBattery(60)
        _ = rig.registry.takeChanges()
        #expect(rig.update(at: 2).isEmpty)  // sampled: pending until pmin
        #expect(rig.engine.nextDeadline == rig.at(4))  // the next sample comes first
        #expect(rig.update(at: 4).isEmpty)
        #expect(rig.update(at: 5).map(\.response.text) == ["60"])
    }

    // MARK: - Which changes count

    @Test func changesElsewhereAreIgnoredAndParentChangesCount() throws {
        var rig = try ReportingRig()
        let battery = rig.observe(LwM2MPath(3, 0, 9))
        let values = rig.observe(LwM2MPath(32769, 0, 1, 0))
        try rig.responder.device.set(LwM2MPath(3, 0, 13), .time(startTime + 5))
        #expect(rig.update(at: 1).isEmpty)
        // A write of the whole multi-instance resource concerns its instances.
        try rig.responder.test.set(LwM2MPath(32769, 0, 1), .multiple([0: .integer(11), 1: .integer(20)]))
        let sent = rig.update(at: 2)
        #expect(sent.map(\.observation) == [values])
        #expect(sent.first?.response.text == "11")
        // Changes of a whole object instance concern the resources below.
        rig.registry.recordChange(LwM2MPath(3, 0))
        #expect(rig.update(at: 3).map(\.observation) == [battery])
    }

    @Test func deletedTargetEndsTheObservationWith404() throws {
        var rig = try ReportingRig()
        let level = rig.observe(LwM2MPath(32769, 0, 4))
        let name = rig.observe(LwM2MPath(32769, 0, 0))
        let battery = rig.observe(LwM2MPath(3, 0, 9))
        rig.responder.test.removeResource(LwM2MPath(32769, 0, 0))
        let first = rig.update(at: 1)
        #expect(first.map(\.observation) == [name])
        #expect(first.first?.response.code == .notFound)
        #expect(rig.engine.observations == [level, battery])

        rig.responder.test.removeInstance(0)
        let second = rig.update(at: 2)
        #expect(second.map(\.observation) == [level])
        #expect(second.first?.response.code == .notFound)
        #expect(rig.engine.observations == [battery])
    }

    @Test func deletionIsReportedAtOnceDespitePmin() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/32769", "pmin=60")
        let level = rig.observe(LwM2MPath(32769, 0, 4))
        rig.responder.test.removeInstance(0)
        let sent = rig.update(at: 1)
        #expect(sent.map(\.observation) == [level])
        #expect(sent.first?.response.code == .notFound)
        #expect(rig.engine.observations.isEmpty)
    }

    @Test func deletedTargetIsNoticedAtAPmaxNotificationToo() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/32769/0/4", "pmax=5")
        let level = rig.observe(LwM2MPath(32769, 0, 4))
        rig.responder.test.removeResource(LwM2MPath(32769, 0, 4))
        _ = rig.registry.takeChanges()  // the change report got lost: pmax still finds out
        let sent = rig.engine.due(registry: rig.registry, attributes: rig.store, at: rig.at(5))
        #expect(sent.map(\.observation) == [level])
        #expect(sent.first?.response.code == .notFound)
        #expect(rig.engine.observations.isEmpty)
        #expect(rig.engine.nextDeadline == nil)
    }

    // MARK: - Cancellation

    @Test func cancelByObservationAndByPath() throws {
        var rig = try ReportingRig()
        let first = rig.observe(LwM2MPath(3, 0, 9))
        let time = rig.observe(LwM2MPath(3, 0, 13))
        let second = rig.observe(LwM2MPath(3, 0, 9))
        #expect(rig.engine.observations(at: LwM2MPath(3, 0, 9)) == [first, second])
        #expect(rig.engine.path(of: time) == LwM2MPath(3, 0, 13))

        #expect(rig.engine.cancel(path: LwM2MPath(3, 0, 9)) == [first, second])
        #expect(rig.engine.observations == [time])
        #expect(rig.engine.cancel(path: LwM2MPath(3, 0)).isEmpty)  // exact paths only
        #expect(try rig.battery(50, at: 1).isEmpty)

        let cancelled = rig.engine.cancel(observation: time)
        let again = rig.engine.cancel(observation: time)
        #expect(cancelled && !again)
        #expect(rig.engine.observations.isEmpty)
    }

    @Test func reRegisteringAnIDRestartsItsState() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "pmin=10")
        let id = ObservationID(rawValue: 7)
        rig.engine.observe(path: LwM2MPath(3, 0, 9), observation: id, format: ContentFormat.textPlain,
                           registry: rig.registry, attributes: rig.store, at: rig.at(0))
        #expect(try rig.battery(50, at: 1).isEmpty)
        rig.engine.observe(path: LwM2MPath(3, 0, 9), observation: id, format: ContentFormat.senmlJSON,
                           registry: rig.registry, attributes: rig.store, at: rig.at(2))
        #expect(rig.engine.observations == [id])
        #expect(rig.engine.nextDeadline == nil)  // the registration answer carried the change
    }
}
