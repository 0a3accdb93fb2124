@testable import CoAP
@testable import LwM2M
import Testing

/// Notifications of /5 go confirmable (`ConfirmablyNotified`): over a lossy link a lost State or
/// Update Result notification is retransmitted, not gone. Other objects' stay non-confirmable.
@Suite struct FirmwareConfirmableNotificationTests {
    private let t0 = Instant(nanoseconds: 5_000_000_000)

    @Test func firmwareNotificationsAreConfirmableOthersAreNot() throws {
        let rig = FirmwareRig()
        let server = StaticObject(definition: try #require(OMAObjects.definition(1)), instanceIDs: [0])
        try server.set(LwM2MPath(1, 0, 1), .integer(60))
        rig.registry.register(server)
        var engine = ReportingEngine()
        let attributes = AttributeStore()
        let state = ObservationID(rawValue: 1)
        let lifetime = ObservationID(rawValue: 2)
        let composite = ObservationID(rawValue: 3)
        engine.observe(path: LwM2MPath(5, 0, 3), observation: state, format: ContentFormat.textPlain,
                       registry: rig.registry, attributes: attributes, at: t0)
        engine.observe(path: LwM2MPath(1, 0, 1), observation: lifetime, format: ContentFormat.textPlain,
                       registry: rig.registry, attributes: attributes, at: t0)
        engine.observe(paths: [LwM2MPath(1, 0, 1), LwM2MPath(5, 0, 5)], observation: composite,
                       format: ContentFormat.senmlJSON, registry: rig.registry, attributes: attributes, at: t0)
        _ = rig.registry.takeChanges()
        #expect(rig.handle(.put, "/5/0/1", "coap://h/x").code == .changed)
        try server.set(LwM2MPath(1, 0, 1), .integer(120))
        let sent = engine.update(changed: rig.registry.takeChanges() + [LwM2MPath(1, 0, 1)], registry: rig.registry,
                                 attributes: attributes, at: t0 + .seconds(1))
        let confirmable = Dictionary(sent.map { ($0.observation, $0.confirmable) }, uniquingKeysWith: { $0 || $1 })
        #expect(confirmable == [state: true, lifetime: false, composite: true])
    }
}
