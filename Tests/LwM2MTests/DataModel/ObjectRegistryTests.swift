import CoAP
import Testing
@testable import LwM2M

/// An object implementing only the protocol's requirements: the extension's defaults refuse
/// Write, Execute, Create and Delete.
final class ReadOnlyObject: LwM2MObject {
    let definition = testObjectDefinition
    var changeHandler: ((LwM2MPath) -> Void)?
    var instanceIDs: [UInt16] { [0] }
    func resourceIDs(in instance: UInt16) -> [UInt16] { instance == 0 ? [0] : [] }
    func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        guard path == LwM2MPath(32769, 0, 0) else { throw .notFound }
        return .single(.string("fixed"))
    }
}

@Suite struct ObjectRegistryTests {
    @Test func readsGatherReadableResourcesOnly() throws {
        let responder = try Responder()
        let records = try responder.registry.records(at: LwM2MPath(32769))
        // Secret (W) and Trigger (E) are skipped.
        #expect(records == [
            LwM2MRecord(LwM2MPath(32769, 0, 0), .string("zero")),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 0), .integer(10)),
            LwM2MRecord(LwM2MPath(32769, 0, 1, 1), .integer(20)),
            LwM2MRecord(LwM2MPath(32769, 0, 4), .float(1.5)),
        ])
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 1, 1)) ==
                [LwM2MRecord(LwM2MPath(32769, 0, 1, 1), .integer(20))])
    }

    @Test func directReadsReportTheRightErrors() throws {
        let registry = try Responder().registry
        #expect(throws: LwM2MError.methodNotAllowed) { try registry.records(at: LwM2MPath(32769, 0, 2)) }
        #expect(throws: LwM2MError.methodNotAllowed) { try registry.records(at: LwM2MPath(32769, 0, 3)) }
        #expect(throws: LwM2MError.methodNotAllowed) { try registry.records(at: .root) }
        #expect(throws: LwM2MError.notFound) { try registry.records(at: LwM2MPath(32769, 1)) }
        #expect(throws: LwM2MError.notFound) { try registry.records(at: LwM2MPath(32769, 0, 0, 0)) }
        #expect(throws: LwM2MError.notFound) { try registry.records(at: LwM2MPath(32769, 0, 1, 2)) }
        #expect(throws: LwM2MError.notFound) { try registry.records(at: LwM2MPath(5)) }
    }

    @Test func internalSetIsReportedAsAChange() throws {
        let responder = try Responder()
        #expect(responder.registry.takeChanges().isEmpty)
        try responder.device.set(LwM2MPath(3, 0, 9), .integer(80))
        try responder.test.set(LwM2MPath(32769, 0, 4), .float(2.5))
        try responder.device.set(LwM2MPath(3, 0, 9), .integer(79))  // already queued: not repeated
        #expect(responder.registry.changedPaths == [LwM2MPath(3, 0, 9), LwM2MPath(32769, 0, 4)])
        #expect(responder.registry.takeChanges() == [LwM2MPath(3, 0, 9), LwM2MPath(32769, 0, 4)])
        #expect(responder.registry.takeChanges().isEmpty)
        #expect(try responder.registry.records(at: LwM2MPath(3, 0, 9)) == [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(79))])
    }

    @Test func internalSetChecksTheDefinitionButNotOperations() throws {
        let test = try Responder().test
        // Level is read-only for servers; the agent may set it.
        try test.set(LwM2MPath(32769, 0, 4), .float(3))
        #expect(throws: LwM2MError.methodNotAllowed) { try test.write(LwM2MPath(32769, 0, 4), .single(.float(4))) }
        #expect(throws: LwM2MError.self) { try test.set(LwM2MPath(32769, 0, 4), .string("high")) }
        #expect(throws: LwM2MError.self) { try test.set(LwM2MPath(32769, 0, 1), .integer(1)) }  // multi-instance
        #expect(throws: LwM2MError.notFound) { try test.set(LwM2MPath(32769, 0, 99), .integer(1)) }
        #expect(throws: LwM2MError.self) { try test.set(LwM2MPath(32769, 0, 3), .integer(1)) }  // executable
        #expect(try test.read(LwM2MPath(32769, 0, 4)) == .single(.float(3)))
    }

    @Test func discoverListsDimForMultiInstanceResources() throws {
        let registry = try Responder().registry
        #expect(try registry.linkEntries(at: LwM2MPath(3, 0, 7))
                == [LinkEntry(path: LwM2MPath(3, 0, 7), attributes: [LinkAttribute("dim", "2")])])
        #expect(try registry.linkEntries(at: LwM2MPath(32769, 0, 0)) == [LinkEntry(path: LwM2MPath(32769, 0, 0))])
        #expect(throws: LwM2MError.notFound) { try registry.linkEntries(at: LwM2MPath(32769, 3)) }
    }

    @Test func schemaCoversRegisteredObjectsOnly() throws {
        let registry = try Responder().registry
        #expect(registry.objectIDs == [3, 32769])
        #expect(registry.schema.type(of: LwM2MPath(32769, 0, 4)) == .float)
        #expect(registry.schema.type(of: LwM2MPath(3, 0, 13)) == .time)
        #expect(registry.schema.object(4) == nil)
    }

    @Test func protocolDefaultsRefuseServerChanges() throws {
        let registry = ObjectRegistry()
        registry.register(ReadOnlyObject())
        let handler = RequestHandler()
        #expect(handler.handle(request(.get, "/32769/0/0"), registry: registry).payload == Array("fixed".utf8))
        let write = request(.put, "/32769/0/0", format: ContentFormat.textPlain, payload: utf8("x"))
        #expect(handler.handle(write, registry: registry).code == .methodNotAllowed)
        #expect(handler.handle(request(.post, "/32769/0/3"), registry: registry).code == .methodNotAllowed)
        // A complete Create (the mandatory Name given, so the request itself is valid).
        let create = request(.post, "/32769", format: ContentFormat.senmlJSON, payload: utf8(#"[{"n":"/32769/1/0","vs":"x"}]"#))
        #expect(handler.handle(create, registry: registry).code == .methodNotAllowed)
        #expect(handler.handle(request(.delete, "/32769/0"), registry: registry).code == .methodNotAllowed)
    }

    @Test func registeringInstallsTheChangeHandler() {
        let registry = ObjectRegistry()
        let object = StaticObject(definition: testObjectDefinition)
        #expect(object.changeHandler == nil)
        registry.register(object)
        object.addInstance(2)
        object.removeInstance(2)
        object.removeInstance(2)  // absent: nothing to report
        // Registering reports the object (the registration's object links change).
        #expect(registry.takeChanges() == [LwM2MPath(32769), LwM2MPath(32769, 2)])
        #expect(registry.object(32769) === object)
        // A replaced object is disconnected.
        let replacement = StaticObject(definition: testObjectDefinition)
        registry.register(replacement)
        object.addInstance(5)
        replacement.addInstance(6)
        #expect(registry.takeChanges() == [LwM2MPath(32769), LwM2MPath(32769, 6)])
        #expect(registry.object(32769) === replacement)
    }

    @Test func errorsMapToCoAPCodes() {
        #expect(LwM2MError.notFound.code == .notFound)
        #expect(LwM2MError.methodNotAllowed.code == .methodNotAllowed)
        #expect(LwM2MError.badRequest("x").code == .badRequest)
        #expect(LwM2MError.unauthorized.code == .unauthorized)
        #expect(LwM2MError.notAcceptable.code == .notAcceptable)
        #expect(LwM2MError.unsupportedContentFormat.code == .unsupportedContentFormat)
        #expect(LwM2MError.internalError("x").code == .internalServerError)
        #expect(LwM2MError(ContentFormatError.malformed("x")) == .badRequest("malformed payload: x"))
        #expect(LwM2MError.badRequest("why").response == .error(.badRequest, "bad request: why"))
    }
}
