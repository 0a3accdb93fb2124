import CoAP
@testable import LwM2M
import Testing

/// LEDs behind a Light Control object in a registry, on a virtual clock.
private final class LightRig {
    let clock = VirtualClock()
    let leds: [FakeLED]
    let object: LightControlObject
    let registry = ObjectRegistry()

    init(_ leds: [FakeLED]) {
        self.leds = leds
        let clock = clock
        object = LightControlObject(lights: leds.enumerated().map {
            .init(driver: $0.element, applicationType: $0.offset == 0 ? "LED_STATUS" : nil)
        }, clock: { clock.now })
        registry.register(object)
        _ = registry.takeChanges()
    }

    func handle(_ code: CoAPCode, _ path: String, _ text: String? = nil) -> CoAPResponse {
        RequestHandler().handle(request(code, path, format: text == nil ? nil : ContentFormat.textPlain,
                                        payload: text.map(utf8) ?? []), registry: registry)
    }

    func value(_ path: String) -> String {
        let response = RequestHandler().handle(request(.get, path, accept: ContentFormat.textPlain), registry: registry)
        return response.code == .content ? response.text : "\(response.code)"
    }

    func changes() -> [LwM2MPath] { registry.takeChanges() }
}

@Suite struct LightControlObjectTests {
    @Test func anLEDWithoutLevelsHasNoDimmer() {
        let rig = LightRig([FakeLED(maximum: 1)])
        #expect(rig.object.definition.id == 3311)
        #expect(rig.object.resourceIDs(in: 0) == [5750, 5850, 5852])
        #expect(rig.value("/3311/0/5850") == "0")
        #expect(rig.value("/3311/0/5750") == "LED_STATUS")
        #expect(rig.handle(.get, "/3311/0/5851").code == .notFound)
        #expect(rig.handle(.put, "/3311/0/5851", "50").code == .notFound)
        #expect(rig.handle(.put, "/3311/0/5850", "1").code == .changed)
        #expect(rig.leds[0].level == 1)
        #expect(rig.value("/3311/0/5850") == "1")
        #expect(rig.changes() == [LwM2MPath(3311, 0, 5850)])
        #expect(rig.handle(.put, "/3311/0/5850", "0").code == .changed)
        #expect(rig.leds[0].level == 0)
        #expect(rig.leds[0].history == [1, 0])
    }

    @Test func theDimmerSetsTheBrightnessWhileOn() {
        let rig = LightRig([FakeLED(maximum: 255)])
        #expect(rig.object.resourceIDs(in: 0) == [5750, 5850, 5851, 5852])
        #expect(rig.value("/3311/0/5851") == "100")  // default
        #expect(rig.handle(.put, "/3311/0/5851", "50").code == .changed)  // off: kept for later
        #expect(rig.leds[0].history.isEmpty)
        #expect(rig.handle(.put, "/3311/0/5850", "1").code == .changed)
        #expect(rig.leds[0].level == 128)  // round(50 × 255 / 100) = round(127.5)
        #expect(rig.handle(.put, "/3311/0/5851", "1").code == .changed)
        #expect(rig.leds[0].level == 3)  // round(2.55)
        #expect(rig.handle(.put, "/3311/0/5851", "100").code == .changed)
        #expect(rig.leds[0].level == 255)
        _ = rig.changes()
        // On with Dimmer 0: dark on the wire, On/Off stays true.
        #expect(rig.handle(.put, "/3311/0/5851", "0").code == .changed)
        #expect(rig.leds[0].level == 0)
        #expect(rig.value("/3311/0/5850") == "1")
        #expect(rig.changes() == [LwM2MPath(3311, 0, 5851)])
        #expect(rig.handle(.put, "/3311/0/5851", "101").code == .badRequest)
        #expect(rig.handle(.put, "/3311/0/5851", "-1").code == .badRequest)
        #expect(rig.value("/3311/0/5851") == "0")
    }

    @Test func onTimeCountsWholeSecondsSinceSwitchedOn() {
        let rig = LightRig([FakeLED(maximum: 1)])
        #expect(rig.value("/3311/0/5852") == "0")
        rig.clock.advance(.seconds(100))
        #expect(rig.value("/3311/0/5852") == "0")  // off
        #expect(rig.handle(.put, "/3311/0/5850", "1").code == .changed)
        rig.clock.advance(.milliseconds(2999))
        #expect(rig.value("/3311/0/5852") == "2")
        _ = rig.changes()
        rig.object.sample(now: 0)
        #expect(rig.changes() == [LwM2MPath(3311, 0, 5852)])
        rig.clock.advance(.milliseconds(500))  // 3.499 s
        rig.object.sample(now: 0)
        #expect(rig.value("/3311/0/5852") == "3")
        #expect(rig.changes() == [LwM2MPath(3311, 0, 5852)])
        rig.clock.advance(.milliseconds(400))  // 3.899 s: same whole second
        rig.object.sample(now: 0)
        #expect(rig.changes().isEmpty)

        // A write of 0 restarts the count; other values are refused.
        let refused = rig.handle(.put, "/3311/0/5852", "5")
        #expect(refused.code == .badRequest)
        #expect(refused.text.contains("On Time (5852)"))
        #expect(rig.handle(.put, "/3311/0/5852", "0").code == .changed)
        #expect(rig.value("/3311/0/5852") == "0")
        #expect(rig.changes() == [LwM2MPath(3311, 0, 5852)])
        rig.clock.advance(.seconds(7))
        #expect(rig.value("/3311/0/5852") == "7")

        // Switching on again while on does not restart it; switching off makes it 0.
        #expect(rig.handle(.put, "/3311/0/5850", "1").code == .changed)
        #expect(rig.value("/3311/0/5852") == "7")
        rig.object.sample(now: 0)
        _ = rig.changes()
        #expect(rig.handle(.put, "/3311/0/5850", "0").code == .changed)
        #expect(rig.value("/3311/0/5852") == "0")
        #expect(rig.changes() == [LwM2MPath(3311, 0, 5850), LwM2MPath(3311, 0, 5852)])
        rig.clock.advance(.seconds(5))
        rig.object.sample(now: 0)
        #expect(rig.changes().isEmpty)
    }

    @Test func anObserverOfOnTimeIsNotifiedAsSamplesFindItMoved() throws {
        var reporting = try ReportingRig()
        let clock = VirtualClock(reporting.at(0))
        let object = LightControlObject(lights: [.init(driver: FakeLED(maximum: 1))], clock: { clock.now })
        reporting.registry.register(object)
        _ = reporting.registry.takeChanges()
        reporting.writeAttributes("/3311/0/5852", "gt=2")
        let observation = reporting.observe(LwM2MPath(3311, 0, 5852))
        #expect(RequestHandler().handle(request(.put, "/3311/0/5850", format: ContentFormat.textPlain, payload: utf8("1")),
                                        registry: reporting.registry).code == .changed)
        var sent: [String] = []
        for second in 1...4 {
            clock.now = reporting.at(Double(second) + 0.5)
            object.sample(now: 0)
            sent += reporting.update(at: Double(second) + 0.5).map(\.response.text)
        }
        #expect(sent == ["3"])  // crossing gt=2 between the samples at 2.5 s and 3.5 s
        #expect(reporting.engine.observations == [observation])
    }

    @Test func anLEDFoundOnAtStartIsOnWithItsBrightness() throws {
        let rig = LightRig([FakeLED(maximum: 255, level: 64), FakeLED(maximum: 255, level: 1), FakeLED(maximum: 1, level: 1)])
        #expect(rig.value("/3311/0/5850") == "1")
        #expect(rig.value("/3311/0/5851") == "25")  // 64 / 255
        #expect(rig.value("/3311/1/5851") == "1")  // dim but on: not 0
        #expect(rig.value("/3311/2/5850") == "1")
        #expect(rig.handle(.get, "/3311/1/5750").code == .notFound)  // no application type given
        rig.clock.advance(.seconds(4))
        #expect(rig.value("/3311/0/5852") == "4")
        #expect(rig.leds.allSatisfy { $0.history.isEmpty })  // nothing driven at start

        let unreadable = FakeLED(maximum: 255, level: 200)
        unreadable.failure = HardwareAccessError("read brightness: EIO")
        let object = LightControlObject(lights: [.init(driver: unreadable)], clock: { .zero })
        #expect(object.isOn(0) == false)
        #expect(try object.read(LwM2MPath(3311, 0, 5851)) == .single(.integer(100)))
    }

    @Test func aDriverFailureIsAnInternalErrorAndChangesNothing() {
        let rig = LightRig([FakeLED(maximum: 255)])
        rig.leds[0].failure = HardwareAccessError("write /sys/class/leds/status/brightness: EACCES")
        let response = rig.handle(.put, "/3311/0/5850", "1")
        #expect(response.code == .internalServerError)
        #expect(response.text.contains("EACCES"))
        rig.leds[0].failure = nil
        #expect(rig.value("/3311/0/5850") == "0")
        #expect(rig.changes().isEmpty)
        #expect(rig.handle(.put, "/3311/0/5850", "1").code == .changed)
        rig.leds[0].failure = HardwareAccessError("EIO")
        #expect(rig.handle(.put, "/3311/0/5851", "30").code == .internalServerError)
        #expect(rig.handle(.put, "/3311/0/5850", "0").code == .internalServerError)
        rig.leds[0].failure = nil
        #expect(rig.value("/3311/0/5851") == "100")
        #expect(rig.value("/3311/0/5850") == "1")
        #expect(rig.leds[0].level == 255)
    }

    @Test func aWriteReplaceOfTheInstanceResetsDimmerOnTimeAndApplicationType() {
        let rig = LightRig([FakeLED(maximum: 255)])
        #expect(rig.handle(.put, "/3311/0/5851", "30").code == .changed)
        #expect(rig.handle(.put, "/3311/0/5850", "1").code == .changed)
        #expect(rig.handle(.put, "/3311/0/5750", "Porch").code == .changed)
        rig.clock.advance(.seconds(9))
        let payload = utf8(#"[{"bn":"/3311/0/","n":"5850","vb":true}]"#)
        let response = RequestHandler().handle(request(.put, "/3311/0", format: ContentFormat.senmlJSON, payload: payload),
                                               registry: rig.registry)
        #expect(response.code == .changed)
        #expect(rig.value("/3311/0/5851") == "100")
        #expect(rig.leds[0].level == 255)
        #expect(rig.value("/3311/0/5852") == "0")
        #expect(rig.value("/3311/0/5750") == "LED_STATUS")
    }

    @Test func badRequestsAreRefused() {
        let rig = LightRig([FakeLED(maximum: 255)])
        #expect(rig.handle(.put, "/3311/0/5850", "2").code == .badRequest)
        #expect(rig.handle(.put, "/3311/0/5851", "x").code == .badRequest)
        #expect(rig.handle(.post, "/3311/0/5850").code == .methodNotAllowed)
        #expect(rig.handle(.put, "/3311/1/5850", "1").code == .notFound)
        #expect(rig.handle(.put, "/3311/0/5750", "Porch").code == .changed)
        #expect(rig.value("/3311/0/5750") == "Porch")
        #expect(rig.handle(.get, "/3311/0/5706").code == .notFound)  // Colour is not offered
        #expect(rig.leds[0].history.isEmpty)
    }
}
