@testable import CoAP
import Testing
@testable import LwM2M

/// Bad input never traps and never half-applies: mutated Write, Create, Write-Composite and
/// Read-Composite requests either succeed or leave every object exactly as it was.
@Suite struct HandlerRobustnessTests {
    static func seeds() throws -> [CoAPMessage] {
        let instance = [
            LwM2MRecord(LwM2MPath(32769, 0, 0), .string("name")),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 0), .integer(1)),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 1), .integer(300)),
            LwM2MRecord(LwM2MPath(32769, 0, 2), .opaque([9, 8])),
        ]
        let composite = [
            LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_234_567_890)),
            LwM2MRecord(LwM2MPath(32769, 0, 0), .string("patched")),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 4), .integer(-4)),
        ]
        let base = LwM2MPath(32769, 0)
        return [
            request(.put, "/32769/0", format: ContentFormat.lwm2mTLV, payload: try TLV.encode(instance, base: base)),
            request(.post, "/32769/0", format: ContentFormat.senmlCBOR,
                    payload: try PayloadCodec.encode(instance, base: base, format: ContentFormat.senmlCBOR)),
            request(.put, "/32769/0", format: ContentFormat.senmlJSON,
                    payload: try PayloadCodec.encode(instance, base: base, format: ContentFormat.senmlJSON)),
            request(.post, "/32769", format: ContentFormat.lwm2mJSON,
                    payload: try PayloadCodec.encode(instance, base: base, format: ContentFormat.lwm2mJSON)),
            request(.iPatch, "/", format: ContentFormat.senmlJSON, payload: try SenMLJSON.encodeComposite(composite)),
            request(.iPatch, "/", format: ContentFormat.senmlCBOR, payload: try SenMLCBOR.encode(composite, base: .none)),
            request(.fetch, "/", format: ContentFormat.senmlJSON,
                    payload: SenMLJSON.encodePaths([LwM2MPath(3, 0, 9), LwM2MPath(32769, 0)])),
            request(.post, "/32769/0/3", payload: utf8("0='abc',1='x'")),
        ]
    }

    static func snapshot(_ responder: Responder) throws -> [LwM2MRecord] {
        try responder.registry.records(at: LwM2MPath(3)) + responder.registry.records(at: LwM2MPath(32769))
    }

    @Test func mutatedRequestsSucceedOrChangeNothing() throws {
        var rng = SplitMix64(seed: 2026)
        var outcomes: [String: Int] = [:]
        for seed in try Self.seeds() {
            for _ in 0..<250 {
                let responder = try Responder()
                let before = try Self.snapshot(responder)
                let instances = responder.test.instanceIDs
                var message = seed
                mutate(&message.payload, using: &rng)
                let response = responder.handle(message)
                outcomes[response.code.description, default: 0] += 1
                if response.code.codeClass != 2 {
                    #expect(try Self.snapshot(responder) == before, "\(message.code) \(message.path) \(hex(message.payload))")
                    #expect(responder.test.instanceIDs == instances)
                    #expect(responder.triggers.count == 0)
                }
            }
        }
        // The mutations reach both outcomes.
        #expect(outcomes.keys.contains("4.00"))
        #expect(outcomes.keys.contains { $0.hasPrefix("2.") })
    }
}
