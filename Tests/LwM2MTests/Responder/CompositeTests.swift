import CoAP
import Testing
@testable import LwM2M

/// Read-Composite and Write-Composite (FETCH / iPATCH on `/` with SenML), TS 1.1 §6.3.8–§6.3.9.
@Suite struct CompositeTests {
    func fetch(_ body: String, format: UInt16 = ContentFormat.senmlJSON, accept: UInt16? = nil) -> CoAPMessage {
        request(.fetch, "/", accept: accept, format: format, payload: utf8(body))
    }

    func patch(_ body: String, format: UInt16 = ContentFormat.senmlJSON) -> CoAPMessage {
        request(.iPatch, "/", format: format, payload: utf8(body))
    }

    @Test func readCompositeInSenMLJSONGolden() throws {
        let responder = try Responder()
        let response = responder.handle(fetch(#"[{"n":"/3/0/0"},{"n":"/32769/0/1"},{"n":"/3/0/9"}]"#))
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.senmlJSON)
        // Hand-checked against RFC 8428 / TS 1.1 §7.4.7: a base name per object instance,
        // names relative to it, records in the order of the path list.
        #expect(response.text == #"[{"bn":"/3/0/","n":"0","vs":"Open Source Gateways"},"#
                + #"{"bn":"/32769/0/","n":"1/0","v":10},{"n":"1/1","v":20},{"bn":"/3/0/","n":"9","v":95}]"#)
    }

    @Test func readCompositeInSenMLCBOR() throws {
        let responder = try Responder()
        let body = try SenMLCBOR.encodePaths([LwM2MPath(3, 0, 9), LwM2MPath(32769, 0)])
        let message = request(.fetch, "/", format: ContentFormat.senmlCBOR, payload: body)
        let response = responder.handle(message)
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.senmlCBOR)
        let records = try SenMLCBOR.decode(response.payload, types: { responder.registry.schema.type(of: $0) })
        #expect(records == [
            LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95)),
            LwM2MRecord(LwM2MPath(32769, 0, 0), .string("zero")),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 0), .integer(10)),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 1), .integer(20)),
            LwM2MRecord(LwM2MPath(32769, 0, 4), .float(1.5)),
        ])
        // Golden: [{0: "/3/0/9", 2: 95}] for a one-path read, hand-encoded (RFC 8949).
        let one = responder.handle(request(.fetch, "/", format: ContentFormat.senmlCBOR,
                                           payload: try SenMLCBOR.encodePaths([LwM2MPath(3, 0, 9)])))
        #expect(one.payload == [0x81, 0xA2, 0x00, 0x66] + utf8("/3/0/9") + [0x02, 0x18, 0x5F])
    }

    /// The LwM2M 1.1 interoperability test int-229 path list: overlapping object, instance,
    /// resource and resource-instance paths; each value comes once. The root reads everything
    /// a management server may see.
    @Test func overlappingPathsAndTheRoot() throws {
        let rig = try MultiServer([101])
        try rig.responder.device.set(LwM2MPath(3, 0, 11), .multiple([0: .integer(0)]))
        let response = rig.responder.handle(fetch(#"[{"n":"/3"},{"n":"/1/0"},{"n":"/1/0/1"},{"n":"/3/0/11/0"}]"#))
        #expect(response.code == .content)
        let records = try SenMLJSON.decode(response.payload, resolver: { rig.registry.schema.type(of: $0) })
        let expected = try rig.registry.records(at: LwM2MPath(3)) + rig.registry.records(at: LwM2MPath(1, 0))
        #expect(records == expected)
        let all = rig.responder.handle(fetch(#"[{"n":"/"}]"#))
        let everything = try SenMLJSON.decode(all.payload, resolver: { rig.registry.schema.type(of: $0) })
        #expect(Set(everything.map { $0.path.objectID! }) == [1, 3, 32769])
    }

    @Test func negotiationAndErrors() throws {
        let responder = try Responder()
        let paths = #"[{"n":"/3/0/9"}]"#
        // Accept chooses the answer's format; only SenML can carry a composite answer.
        #expect(responder.handle(fetch(paths, accept: ContentFormat.senmlCBOR)).contentFormat == ContentFormat.senmlCBOR)
        #expect(responder.handle(fetch(paths, accept: ContentFormat.lwm2mTLV)).code == .notAcceptable)
        #expect(responder.handle(fetch(paths, format: ContentFormat.textPlain)).code == .unsupportedContentFormat)
        #expect(responder.handle(request(.fetch, "/", payload: utf8(paths))).code == .unsupportedContentFormat)
        #expect(responder.handle(fetch("[{\"n\":")).code == .badRequest)
        #expect(responder.handle(fetch("[]")).code == .badRequest)
        #expect(responder.handle(fetch(#"[{"n":"/3/0/9","v":1}]"#)).code == .badRequest)
        #expect(responder.handle(request(.fetch, "/3/0", format: ContentFormat.senmlJSON, payload: utf8(paths))).code
                == .methodNotAllowed)
        // Missing paths are left out; none existing is 4.04.
        let some = responder.handle(fetch(#"[{"n":"/3/0/9"},{"n":"/3/7"},{"n":"/4"}]"#))
        #expect(some.text == #"[{"bn":"/3/0/","n":"9","v":95}]"#)
        #expect(responder.handle(fetch(#"[{"n":"/3/7"},{"n":"/4"}]"#)).code == .notFound)
        // The Security object stays closed.
        #expect(responder.handle(fetch(#"[{"n":"/3/0/9"},{"n":"/0"}]"#)).code == .unauthorized)
    }

    @Test func writeCompositeWritesAcrossObjects() throws {
        let responder = try Responder()
        let body = #"[{"n":"/3/0/13","v":1234567890},{"n":"/32769/0/0","vs":"patched"},{"n":"/32769/0/1/7","v":70}]"#
        #expect(responder.handle(patch(body)).code == .changed)
        #expect(try responder.registry.records(at: LwM2MPath(3, 0, 13)) == [LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_234_567_890))])
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 0)).map(\.value) == [.string("patched")])
        // A resource instance merges into the multi-instance resource.
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 1)).map(\.value)
                == [.integer(10), .integer(20), .integer(70)])
        // SenML CBOR too.
        let cbor = try SenMLCBOR.encode([LwM2MRecord(LwM2MPath(32769, 0, 0), .string("cbor"))], base: .none)
        #expect(responder.handle(request(.iPatch, "/", format: ContentFormat.senmlCBOR, payload: cbor)).code == .changed)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 0)).map(\.value) == [.string("cbor")])
    }

    @Test func writeCompositeIsAllOrNothing() throws {
        let responder = try Responder()
        let before = try responder.registry.records(at: LwM2MPath(32769, 0)) + responder.registry.records(at: LwM2MPath(3, 0))
        func unchanged() throws -> Bool {
            try responder.registry.records(at: LwM2MPath(32769, 0)) + responder.registry.records(at: LwM2MPath(3, 0)) == before
        }
        // A read-only resource among writable ones.
        #expect(responder.handle(patch(#"[{"n":"/32769/0/0","vs":"x"},{"n":"/3/0/0","vs":"y"}]"#)).code == .methodNotAllowed)
        // A missing instance or unknown resource.
        #expect(responder.handle(patch(#"[{"n":"/32769/0/0","vs":"x"},{"n":"/32769/4/0","vs":"y"}]"#)).code == .notFound)
        #expect(responder.handle(patch(#"[{"n":"/32769/0/0","vs":"x"},{"n":"/32769/0/77","v":1}]"#)).code == .notFound)
        // A wrong type, a path that is not a resource, an empty pack, the Security object.
        #expect(responder.handle(patch(#"[{"n":"/32769/0/0","vs":"x"},{"n":"/3/0/13","vs":"y"}]"#)).code == .badRequest)
        #expect(responder.handle(patch(#"[{"n":"/32769/0","vs":"x"}]"#)).code == .badRequest)
        #expect(responder.handle(patch("[]")).code == .badRequest)
        #expect(responder.handle(patch(#"[{"n":"/32769/0/0","vs":"x"},{"n":"/0/0/5","vd":"AA"}]"#)).code == .unauthorized)
        #expect(responder.handle(patch(#"[{"n":"/32769/0/0","vs":"x"}]"#, format: ContentFormat.lwm2mTLV)).code
                == .unsupportedContentFormat)
        #expect(try unchanged())
        // An object failing part-way: the earlier writes are undone.
        responder.registry.register(FailingObject(responder.test, failing: 2))
        #expect(responder.handle(patch(#"[{"n":"/3/0/13","v":5},{"n":"/32769/0/0","vs":"x"},{"n":"/32769/0/2","vd":"AQ"}]"#)).code
                == .internalServerError)
        #expect(try unchanged())
    }

    @Test func compositeUnderAccessControl() throws {
        let rig = try MultiServer()
        try rig.addACL(0, object: 3, objectInstance: 0, rights: [101: [.read, .write]], owner: 101)
        let read = rig.handle(fetch(#"[{"n":"/3/0/9"}]"#), from: 101)
        #expect(read.code == .content)
        #expect(rig.handle(fetch(#"[{"n":"/3/0/9"},{"n":"/32769/0/0"}]"#), from: 101).code == .unauthorized)
        #expect(rig.handle(fetch(#"[{"n":"/3/0/9"}]"#), from: 102).code == .unauthorized)
        #expect(rig.handle(patch(#"[{"n":"/3/0/13","v":7}]"#), from: 102).code == .unauthorized)
        #expect(rig.handle(patch(#"[{"n":"/3/0/13","v":7}]"#), from: 101).code == .changed)
    }
}
