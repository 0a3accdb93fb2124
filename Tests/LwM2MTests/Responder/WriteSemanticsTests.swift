import CoAP
import Testing
@testable import LwM2M

/// Wraps a `StaticObject` and fails writes of one resource: a platform object giving up
/// part-way through a multi-resource write.
final class FailingObject: LwM2MObject {
    let inner: StaticObject
    var failingResource: UInt16?
    var changeHandler: ((LwM2MPath) -> Void)? {
        get { inner.changeHandler }
        set { inner.changeHandler = newValue }
    }

    init(_ inner: StaticObject, failing resource: UInt16?) {
        self.inner = inner
        failingResource = resource
    }

    var definition: ObjectDefinition { inner.definition }
    var instanceIDs: [UInt16] { inner.instanceIDs }
    func resourceIDs(in instance: UInt16) -> [UInt16] { inner.resourceIDs(in: instance) }
    func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent { try inner.read(path) }
    func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        if path.resourceID == failingResource { throw .internalError("device busy") }
        try inner.write(path, content)
    }
    func removeResource(_ path: LwM2MPath) throws(LwM2MError) { inner.removeResource(path) }
    func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) { try inner.execute(path, arguments: arguments) }
    func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError) {
        try inner.createInstance(id, with: records)
    }
    func deleteInstance(_ id: UInt16) throws(LwM2MError) { try inner.deleteInstance(id) }
}

/// Write-Replace, partial update, Create checks and all-or-nothing writes (TS 1.1 §6.3.3–§6.3.5).
@Suite struct WriteSemanticsTests {
    func senml(_ code: CoAPCode, _ path: String, _ json: String) -> CoAPMessage {
        request(code, path, format: ContentFormat.senmlJSON, payload: utf8(json))
    }

    @Test func replaceOfAnInstanceRemovesAbsentWritableResources() throws {
        let responder = try Responder()
        let response = responder.handle(senml(.put, "/32769/0", #"[{"n":"/32769/0/0","vs":"new"}]"#))
        #expect(response.code == .changed)
        // Values (1) and Secret (2) were writable and absent: gone. Level (4) is read-only: kept.
        #expect(responder.test.resourceIDs(in: 0) == [0, 3, 4])
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0)) == [
            LwM2MRecord(LwM2MPath(32769, 0, 0), .string("new")),
            LwM2MRecord(LwM2MPath(32769, 0, 4), .float(1.5)),
        ])
    }

    @Test func replaceWithoutAMandatoryWritableResourceIs400AndChangesNothing() throws {
        let responder = try Responder()
        let before = try responder.registry.records(at: LwM2MPath(32769, 0))
        let response = responder.handle(senml(.put, "/32769/0", #"[{"n":"/32769/0/1/0","v":7}]"#))
        #expect(response.code == .badRequest)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0)) == before)
        #expect(responder.registry.takeChanges().isEmpty)
    }

    @Test func partialUpdateKeepsTheOtherResources() throws {
        let responder = try Responder()
        let response = responder.handle(senml(.post, "/32769/0", #"[{"n":"/32769/0/1/5","v":50}]"#))
        #expect(response.code == .changed)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 0)) == [LwM2MRecord(LwM2MPath(32769, 0, 0), .string("zero"))])
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 1)).map(\.value) == [.integer(10), .integer(20), .integer(50)])
        #expect(responder.test.resourceIDs(in: 0) == [0, 1, 2, 3, 4])
    }

    @Test func replaceOfAMultiInstanceResourceReplacesItsInstances() throws {
        let responder = try Responder()
        #expect(responder.handle(senml(.put, "/32769/0/1", #"[{"n":"/32769/0/1/5","v":50}]"#)).code == .changed)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 1)) == [LwM2MRecord(LwM2MPath(32769, 0, 1, 5), .integer(50))])
    }

    @Test func anObjectFailingPartWayHasTheEarlierWritesUndone() throws {
        let responder = try Responder()
        let failing = FailingObject(responder.test, failing: 2)
        responder.registry.register(failing)
        let before = try responder.registry.records(at: LwM2MPath(32769, 0))
        // Name (0) and Values (1) are written first, then Secret (2) fails.
        let json = #"[{"n":"/32769/0/0","vs":"half"},{"n":"/32769/0/1/0","v":1},{"n":"/32769/0/2","vd":"AQ"}]"#
        let response = responder.handle(senml(.post, "/32769/0", json))
        #expect(response.code == .internalServerError)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0)) == before)
        #expect(responder.test.resourceIDs(in: 0) == [0, 1, 2, 3, 4])
        // A replace that removes Values before failing on Secret: Values is back too.
        let replace = responder.handle(senml(.put, "/32769/0", #"[{"n":"/32769/0/0","vs":"r"},{"n":"/32769/0/2","vd":"AQ"}]"#))
        #expect(replace.code == .internalServerError)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0)) == before)
    }

    @Test func invalidRecordsAreRefusedBeforeAnythingIsWritten() throws {
        let responder = try Responder()
        let before = try responder.registry.records(at: LwM2MPath(32769, 0))
        // Level (4) is read-only: 4.05, and Name is not written either.
        let json = #"[{"n":"/32769/0/0","vs":"x"},{"n":"/32769/0/4","v":2.5}]"#
        #expect(responder.handle(senml(.post, "/32769/0", json)).code == .methodNotAllowed)
        // A wrong type: 4.00.
        #expect(responder.handle(senml(.post, "/32769/0", #"[{"n":"/32769/0/0","vs":"x"},{"n":"/32769/0/1/0","vs":"y"}]"#)).code
                == .badRequest)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0)) == before)
    }

    @Test func createChecksMandatoryResourcesAndExistingIDs() throws {
        let responder = try Responder()
        // Name (mandatory, writable) missing.
        #expect(responder.handle(senml(.post, "/32769", #"[{"n":"/32769/3/1/0","v":1}]"#)).code == .badRequest)
        #expect(responder.handle(request(.post, "/32769")).code == .badRequest)
        // An existing instance ID.
        #expect(responder.handle(senml(.post, "/32769", #"[{"n":"/32769/0/0","vs":"again"}]"#)).code == .badRequest)
        #expect(responder.test.instanceIDs == [0])
        #expect(responder.handle(senml(.post, "/32769", #"[{"n":"/32769/3/0","vs":"three"}]"#)).code == .created)
        #expect(responder.test.instanceIDs == [0, 3])
    }
}
