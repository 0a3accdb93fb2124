import CoAP
import Testing
@testable import LwM2M

/// The Device Management interface end to end: CoAP request in, CoAP response out.
@Suite struct RequestHandlerTests {
    /// Every readable value of the default Device object, in path order (Reboot /3/0/4 and
    /// Reset Error Code /3/0/12 are executable and not read).
    static let deviceRecords: [LwM2MRecord] = [
        LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Source Gateways")),
        LwM2MRecord(LwM2MPath(3, 0, 1), .string("GW-A53")),
        LwM2MRecord(LwM2MPath(3, 0, 2), .string("GW53-000001")),
        LwM2MRecord(LwM2MPath(3, 0, 3), .string("1.0.0")),
        LwM2MRecord(LwM2MPath(3, 0, 6, 0), .integer(1)),
        LwM2MRecord(LwM2MPath(3, 0, 6, 1), .integer(5)),
        LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(3700)),
        LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000)),
        LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95)),
        LwM2MRecord(LwM2MPath(3, 0, 10), .integer(65536)),
        LwM2MRecord(LwM2MPath(3, 0, 11, 0), .integer(0)),
        LwM2MRecord(LwM2MPath(3, 0, 13), .time(startTime)),
        LwM2MRecord(LwM2MPath(3, 0, 14), .string("+00:00")),
        LwM2MRecord(LwM2MPath(3, 0, 15), .string("Etc/UTC")),
        LwM2MRecord(LwM2MPath(3, 0, 16), .string("U")),
        LwM2MRecord(LwM2MPath(3, 0, 17), .string("Gateway")),
        LwM2MRecord(LwM2MPath(3, 0, 18), .string("rev B")),
        LwM2MRecord(LwM2MPath(3, 0, 19), .string("0.1.0")),
        LwM2MRecord(LwM2MPath(3, 0, 21), .integer(262_144)),
    ]

    // MARK: - Read

    @Test func readDeviceInstanceWithoutAcceptIsTLV() throws {
        let responder = try Responder()
        let response = responder.handle(request(.get, "/3/0"))
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.lwm2mTLV)
        let schema = ResourceSchema.oma
        let records = try TLV.decode(response.payload, base: LwM2MPath(3, 0), type: { schema.type(of: $0) },
                                     isMultiple: { schema.isMultiple($0) })
        #expect(records == Self.deviceRecords)
    }

    @Test(arguments: [ContentFormat.lwm2mTLV, ContentFormat.senmlJSON, ContentFormat.senmlCBOR])
    func readDeviceInstanceInAcceptedFormat(format: UInt16) throws {
        let responder = try Responder()
        let response = responder.handle(request(.get, "/3/0", accept: format))
        #expect(response.code == .content)
        #expect(response.contentFormat == format)
        let records = try PayloadCodec.decode(response.payload, base: LwM2MPath(3, 0), format: format, schema: .oma)
        #expect(records.sorted { $0.path < $1.path } == Self.deviceRecords)
    }

    @Test func readSingleResourceIsPlainText() throws {
        let response = try Responder().handle(request(.get, "/3/0/0"))
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.textPlain)
        #expect(response.text == "Open Source Gateways")
    }

    @Test func readMultiInstanceResource() throws {
        let responder = try Responder()
        let response = responder.handle(request(.get, "/3/0/7"))
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.lwm2mTLV)
        let records = try PayloadCodec.decode(response.payload, base: LwM2MPath(3, 0, 7),
                                              format: ContentFormat.lwm2mTLV, schema: .oma)
        #expect(records == [LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(3700)),
                            LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000))])
        // One resource instance is a single value: text.
        let one = responder.handle(request(.get, "/3/0/7/1"))
        #expect(one.code == .content)
        #expect(one.contentFormat == ContentFormat.textPlain)
        #expect(one.text == "5000")
        // Text cannot carry the whole multi-instance resource.
        #expect(responder.handle(request(.get, "/3/0/7", accept: ContentFormat.textPlain)).code == .notAcceptable)
    }

    @Test func readWithUnacceptableFormatIs406() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.get, "/3/0", accept: ContentFormat.textPlain)).code == .notAcceptable)
        #expect(responder.handle(request(.get, "/3/0/0", accept: ContentFormat.octetStream)).code == .notAcceptable)
        #expect(responder.handle(request(.get, "/3/0/0", accept: 9999)).code == .notAcceptable)
    }

    @Test(arguments: ["/4", "/3/1", "/3/0/8", "/3/0/999", "/3/0/7/5", "/3/0/0/0", "/32769/9"])
    func readOfMissingTargetIs404(path: String) throws {
        let response = try Responder().handle(request(.get, path))
        #expect(response.code == .notFound)
        #expect(response.text == "not found")
    }

    @Test func readOfNonReadableResourceIs405() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.get, "/3/0/4")).code == .methodNotAllowed)  // Reboot: E
        #expect(responder.handle(request(.get, "/32769/0/2")).code == .methodNotAllowed)  // Secret: W
        #expect(responder.handle(request(.get, "/")).code == .methodNotAllowed)  // the root
    }

    @Test(arguments: ["/3/abc", "/1/2/3/4/5", "/65535", "/3/00", "/70000/0"])
    func malformedPathIs400(path: String) throws {
        let response = try Responder().handle(request(.get, path))
        #expect(response.code == .badRequest)
        #expect(response.text.hasPrefix("bad request"))
    }

    @Test func unsupportedMethodsAre405() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.fetch, "/3/0")).code == .methodNotAllowed)
        #expect(responder.handle(request(.iPatch, "/3/0")).code == .methodNotAllowed)
        #expect(responder.handle(request(.post, "/3/0/7/0")).code == .methodNotAllowed)
        #expect(responder.handle(request(.put, "/3", format: ContentFormat.lwm2mTLV)).code == .methodNotAllowed)
        #expect(responder.handle(request(.put, "/3/0/9", query: ["pmin=10"])).code == .notImplemented)
    }

    // MARK: - Discover

    @Test func discoverDeviceInstance() throws {
        let response = try Responder().handle(request(.get, "/3/0", accept: ContentFormat.linkFormat))
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.linkFormat)
        #expect(response.text == "</3/0>,</3/0/0>,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,</3/0/7>;dim=2,"
            + "</3/0/9>,</3/0/10>,</3/0/11>;dim=1,</3/0/12>,</3/0/13>,</3/0/14>,</3/0/15>,</3/0/16>,</3/0/17>,"
            + "</3/0/18>,</3/0/19>,</3/0/21>")
    }

    @Test func discoverObjectAndResource() throws {
        let responder = try Responder()
        let object = responder.handle(request(.get, "/32769", accept: ContentFormat.linkFormat))
        #expect(object.text == "</32769>,</32769/0>,</32769/0/0>,</32769/0/1>;dim=2,</32769/0/2>,</32769/0/3>,</32769/0/4>")
        #expect(responder.handle(request(.get, "/3/0/7", accept: ContentFormat.linkFormat)).text == "</3/0/7>;dim=2")
        #expect(responder.handle(request(.get, "/3/0/8", accept: ContentFormat.linkFormat)).code == .notFound)
        #expect(responder.handle(request(.get, "/3/0/7/0", accept: ContentFormat.linkFormat)).code == .badRequest)
    }

    // MARK: - Write

    @Test func writeResourceAsTextThenReadBack() throws {
        let responder = try Responder()
        let write = responder.handle(request(.put, "/3/0/13", format: ContentFormat.textPlain,
                                             payload: utf8("1700000100")))
        #expect(write.code == .changed)
        let read = responder.handle(request(.get, "/3/0/13"))
        #expect(read.text == "1700000100")
        #expect(responder.registry.takeChanges() == [LwM2MPath(3, 0, 13)])
    }

    @Test func writeToReadOnlyResourceIs405() throws {
        let responder = try Responder()
        let response = responder.handle(request(.put, "/3/0/0", format: ContentFormat.textPlain, payload: utf8("Evil")))
        #expect(response.code == .methodNotAllowed)
        #expect(responder.handle(request(.get, "/3/0/0")).text == "Open Source Gateways")
    }

    @Test func writeWithoutOrWithUnsupportedContentFormatIs415() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.put, "/3/0/13", payload: utf8("1700000100"))).code
                == .unsupportedContentFormat)
        #expect(responder.handle(request(.put, "/3/0/13", format: ContentFormat.linkFormat,
                                         payload: utf8("1700000100"))).code == .unsupportedContentFormat)
        #expect(responder.handle(request(.post, "/3/0", payload: utf8("x"))).code == .unsupportedContentFormat)
        #expect(responder.handle(request(.get, "/3/0/13")).text == String(startTime))
    }

    @Test func badTLVIs400AndChangesNothing() throws {
        let responder = try Responder()
        // A valid Current Time TLV followed by a UTC Offset TLV whose value is cut short.
        var payload = try TLV.encode([LwM2MRecord(LwM2MPath(3, 0, 13), .time(42))], base: LwM2MPath(3, 0))
        payload += [0xC8, 0x0E, 0x06, 0x2B]
        let response = responder.handle(request(.post, "/3/0", format: ContentFormat.lwm2mTLV, payload: payload))
        #expect(response.code == .badRequest)
        #expect(response.text.hasPrefix("bad request: truncated"))
        #expect(responder.handle(request(.get, "/3/0/13")).text == String(startTime))
        #expect(responder.registry.takeChanges().isEmpty)
    }

    @Test func instanceWriteUpdatesSeveralResources() throws {
        let responder = try Responder()
        let payload = try TLV.encode([LwM2MRecord(LwM2MPath(3, 0, 13), .time(42)),
                                      LwM2MRecord(LwM2MPath(3, 0, 14), .string("+01:00"))], base: LwM2MPath(3, 0))
        let response = responder.handle(request(.post, "/3/0", format: ContentFormat.lwm2mTLV, payload: payload))
        #expect(response.code == .changed)
        #expect(responder.handle(request(.get, "/3/0/13")).text == "42")
        #expect(responder.handle(request(.get, "/3/0/14")).text == "+01:00")
        #expect(responder.registry.takeChanges() == [LwM2MPath(3, 0, 13), LwM2MPath(3, 0, 14)])
    }

    @Test func instanceWriteWithAReadOnlyResourceIs405AndWritesNothing() throws {
        let responder = try Responder()
        // Current Time (RW) sorts before Supported Binding (R): checked before anything is written.
        let payload = try TLV.encode([LwM2MRecord(LwM2MPath(3, 0, 13), .time(42)),
                                      LwM2MRecord(LwM2MPath(3, 0, 16), .string("UQ"))], base: LwM2MPath(3, 0))
        let response = responder.handle(request(.put, "/3/0", format: ContentFormat.lwm2mTLV, payload: payload))
        #expect(response.code == .methodNotAllowed)
        #expect(responder.handle(request(.get, "/3/0/13")).text == String(startTime))
        #expect(responder.registry.takeChanges().isEmpty)
    }

    @Test func partialUpdateMergesResourceInstancesAndReplaceReplacesThem() throws {
        let responder = try Responder()
        let values = LwM2MPath(32769, 0, 1)
        func current() throws -> [LwM2MRecord] { try responder.registry.records(at: values) }

        let added = try PayloadCodec.encode([LwM2MRecord(values.appending(5), .integer(50))], base: LwM2MPath(32769, 0),
                                            format: ContentFormat.senmlJSON)
        #expect(responder.handle(request(.post, "/32769/0", format: ContentFormat.senmlJSON, payload: added)).code
                == .changed)
        #expect(try current() == [LwM2MRecord(values.appending(0), .integer(10)),
                                  LwM2MRecord(values.appending(1), .integer(20)),
                                  LwM2MRecord(values.appending(5), .integer(50))])

        let replaced = try TLV.encode([LwM2MRecord(values.appending(7), .integer(70))], base: values)
        #expect(responder.handle(request(.put, "/32769/0/1", format: ContentFormat.lwm2mTLV, payload: replaced)).code
                == .changed)
        #expect(try current() == [LwM2MRecord(values.appending(7), .integer(70))])

        #expect(responder.handle(request(.put, "/32769/0/1/8", format: ContentFormat.textPlain, payload: utf8("80")))
                .code == .changed)
        #expect(try current() == [LwM2MRecord(values.appending(7), .integer(70)),
                                  LwM2MRecord(values.appending(8), .integer(80))])
    }

    @Test func writeOfAWrongTypeIs400() throws {
        let responder = try Responder()
        let response = responder.handle(request(.put, "/3/0/13", format: ContentFormat.textPlain, payload: utf8("noon")))
        #expect(response.code == .badRequest)
        #expect(responder.handle(request(.put, "/3/0/99", format: ContentFormat.textPlain, payload: utf8("1"))).code
                == .notFound)
    }

    // MARK: - Execute

    @Test func executeRebootRunsTheClosureOnce() throws {
        let responder = try Responder()
        let response = responder.handle(request(.post, "/3/0/4"))
        #expect(response.code == .changed)
        #expect(responder.reboots.count == 1)
    }

    @Test func executeOfNonExecutableResourceIs405() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.post, "/3/0/0")).code == .methodNotAllowed)
        #expect(responder.handle(request(.post, "/3/0/13")).code == .methodNotAllowed)
        #expect(responder.handle(request(.post, "/3/0/5")).code == .notFound)  // Factory Reset: no handler given
        #expect(responder.handle(request(.post, "/3/1/4")).code == .notFound)
        #expect(responder.reboots.count == 0)
    }

    @Test func executePassesArguments() throws {
        let responder = try Responder()
        let arguments = Counter()
        responder.test.onExecute(3) { instance, payload in
            #expect(instance == 0)
            arguments.count = payload.count
        }
        #expect(responder.handle(request(.post, "/32769/0/3", payload: utf8("0='x'"))).code == .changed)
        #expect(arguments.count == 5)
    }

    @Test func resetErrorCodeSetsErrorCodeBackToZero() throws {
        let responder = try Responder()
        try responder.device.set(LwM2MPath(3, 0, 11), .multiple([0: .integer(1), 1: .integer(3)]))
        #expect(responder.handle(request(.post, "/3/0/12")).code == .changed)
        #expect(try responder.registry.records(at: LwM2MPath(3, 0, 11)) == [LwM2MRecord(LwM2MPath(3, 0, 11, 0), .integer(0))])
    }

    // MARK: - Create and Delete

    @Test func createWithoutInstanceIDTakesTheLowestFree() throws {
        let responder = try Responder()
        let payload = try TLV.encode([LwM2MRecord(LwM2MPath(32769, 1, 0), .string("one"))], base: LwM2MPath(32769, 1))
        let response = responder.handle(request(.post, "/32769", format: ContentFormat.lwm2mTLV, payload: payload))
        #expect(response.code == .created)
        #expect(response.locationPath == ["32769", "1"])
        #expect(responder.handle(request(.get, "/32769/1/0")).text == "one")
        #expect(responder.registry.takeChanges() == [LwM2MPath(32769, 1)])
    }

    @Test func createWithInstanceIDInThePayload() throws {
        let responder = try Responder()
        let payload = try PayloadCodec.encode([LwM2MRecord(LwM2MPath(32769, 7, 0), .string("seven"))],
                                              base: LwM2MPath(32769), format: ContentFormat.senmlJSON)
        let response = responder.handle(request(.post, "/32769", format: ContentFormat.senmlJSON, payload: payload))
        #expect(response.code == .created)
        #expect(response.locationPath == ["32769", "7"])
        #expect(responder.test.instanceIDs == [0, 7])
        // Creating it again: the instance exists.
        #expect(responder.handle(request(.post, "/32769", format: ContentFormat.senmlJSON, payload: payload)).code
                == .badRequest)
    }

    @Test func createOnSingleInstanceOrUnknownObjectFails() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.post, "/3")).code == .methodNotAllowed)
        #expect(responder.handle(request(.post, "/4")).code == .notFound)
        #expect(responder.device.instanceIDs == [0])
    }

    @Test func deleteThenReadIs404() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.delete, "/32769/0")).code == .deleted)
        #expect(responder.handle(request(.get, "/32769/0")).code == .notFound)
        #expect(responder.handle(request(.delete, "/32769/0")).code == .notFound)
        #expect(responder.registry.takeChanges() == [LwM2MPath(32769, 0)])
    }

    @Test func deleteOfObjectResourceOrSingleInstanceIs405() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.delete, "/32769")).code == .methodNotAllowed)
        #expect(responder.handle(request(.delete, "/32769/0/0")).code == .methodNotAllowed)
        #expect(responder.handle(request(.delete, "/3/0")).code == .methodNotAllowed)
        #expect(responder.test.instanceIDs == [0])
    }

    @Test func lowestFreeID() {
        #expect(RequestHandler.lowestFreeID([]) == 0)
        #expect(RequestHandler.lowestFreeID([0, 1, 3]) == 2)
        #expect(RequestHandler.lowestFreeID([1, 2]) == 0)
        #expect(RequestHandler.lowestFreeID(Array(0...65534)) == nil)
    }
}
