@testable import CoAP
@testable import LwM2M
import Testing

/// State (/5/0/3) and Update Result (/5/0/5) reach observing servers: the object's change
/// reports through the registry drive the ReportingEngine's notifications.
@Suite struct FirmwareReportingTests {
    private let t0 = Instant(nanoseconds: 9_000_000_000)

    private func at(_ seconds: Int64) -> Instant { t0 + .seconds(seconds) }

    @Test func stateAndResultNotificationsFollowEveryTransition() throws {
        let rig = FirmwareRig()
        var engine = ReportingEngine()
        let attributes = AttributeStore()
        let state = ObservationID(rawValue: 1)
        let result = ObservationID(rawValue: 2)
        let instance = ObservationID(rawValue: 3)
        engine.observe(path: LwM2MPath(5, 0, 3), observation: state, format: ContentFormat.textPlain,
                       registry: rig.registry, attributes: attributes, at: t0)
        engine.observe(path: LwM2MPath(5, 0, 5), observation: result, format: ContentFormat.textPlain,
                       registry: rig.registry, attributes: attributes, at: t0)
        engine.observe(path: LwM2MPath(5, 0), observation: instance, format: ContentFormat.senmlJSON,
                       registry: rig.registry, attributes: attributes, at: t0)
        var second: Int64 = 0
        func notified() -> [String] {
            second += 1
            return engine.update(changed: rig.registry.takeChanges(), registry: rig.registry, attributes: attributes,
                                 at: at(second))
                .filter { $0.observation != instance }
                .map { "\($0.observation == state ? "state" : "result")=\($0.response.text)" }
        }

        #expect(rig.handle(.put, "/5/0/1", "ftp://h/x").code == .badRequest)
        #expect(notified() == ["result=9"])
        #expect(rig.handle(.put, "/5/0/1", "coap://h/x").code == .changed)
        #expect(notified() == ["state=1", "result=0"])
        try rig.store.append([1, 2, 3])
        rig.object.downloadProgress(bytes: 3)
        #expect(notified().isEmpty)  // progress is not a change of an observed value
        rig.object.downloadFinished(.success(rig.store.finishImage()))
        #expect(notified() == ["state=2"])
        #expect(rig.execute("/5/0/2") == .changed)
        #expect(notified() == ["state=3"])
        rig.object.installFinished(.updateFailed)
        #expect(notified() == ["state=2", "result=8"])
        #expect(rig.execute("/5/0/2") == .changed)
        #expect(notified() == ["state=3", "result=0"])
        rig.object.installFinished(.success)
        #expect(notified() == ["state=0", "result=1"])
        // The instance observation carried the same changes, all in one SenML payload each time.
        #expect(engine.observations == [state, result, instance])
    }

    @Test func anObservationOfTheInstanceSeesCancel() throws {
        let rig = FirmwareRig()
        var engine = ReportingEngine()
        let attributes = AttributeStore()
        let id = ObservationID(rawValue: 7)
        try rig.object.receivePackageBlock(offset: 0, bytes: [1], isLast: false)
        _ = rig.registry.takeChanges()
        engine.observe(path: LwM2MPath(5, 0), observation: id, format: ContentFormat.senmlJSON,
                       registry: rig.registry, attributes: attributes, at: t0)
        #expect(rig.execute("/5/0/10") == .changed)
        let sent = engine.update(changed: rig.registry.takeChanges(), registry: rig.registry, attributes: attributes,
                                 at: at(1))
        #expect(sent.count == 1)
        let text = try #require(sent.first?.response.text)
        #expect(text.contains("{\"n\":\"3\",\"v\":0}"))
        #expect(text.contains("{\"n\":\"5\",\"v\":10}"))
    }
}
