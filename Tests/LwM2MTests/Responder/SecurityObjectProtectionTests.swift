import CoAP
import Testing
@testable import LwM2M

/// A management server never sees the Security object, whatever it asks.
@Suite struct SecurityObjectProtectionTests {
    static func registryWithSecurity() throws -> ObjectRegistry {
        let registry = ObjectRegistry()
        let security = StaticObject(definition: try #require(OMAObjects.definition(0)), instanceIDs: [0])
        try security.set(LwM2MPath(0, 0, 0), .single(.string("coaps://bootstrap.example:5684")))
        try security.set(LwM2MPath(0, 0, 1), .single(.boolean(true)))
        try security.set(LwM2MPath(0, 0, 5), .single(.opaque([0x53, 0x45, 0x43, 0x52, 0x45, 0x54])))  // "SECRET"
        registry.register(security)
        return registry
    }

    @Test(arguments: [
        (CoAPCode.get, "/0"), (.get, "/0/0"), (.get, "/0/0/5"), (.put, "/0/0/5"), (.post, "/0/0"),
        (.post, "/0"), (.delete, "/0/0"), (.get, "/21/0"),
    ])
    func everyOperationIsUnauthorized(method: CoAPCode, path: String) throws {
        let registry = try Self.registryWithSecurity()
        let payload: [UInt8] = method == .get || method == .delete ? [] : Array("x".utf8)
        let format: UInt16? = payload.isEmpty ? nil : ContentFormat.textPlain
        let response = RequestHandler().handle(request(method, path, format: format, payload: payload), registry: registry)
        #expect(response.code == .unauthorized)
        #expect(!String(decoding: response.payload, as: UTF8.self).contains("SECRET"))
        // Nothing was written or deleted.
        let security = try #require(registry.object(0))
        #expect(security.instanceIDs == [0])
        #expect(try security.read(LwM2MPath(0, 0, 5)) == .single(.opaque(Array("SECRET".utf8))))
    }

    @Test func discoverAndWriteAttributesToo() throws {
        let registry = try Self.registryWithSecurity()
        var attributes = AttributeStore()
        let discover = RequestHandler().handle(request(.get, "/0/0", accept: ContentFormat.linkFormat), registry: registry,
                                               attributes: &attributes)
        #expect(discover.code == .unauthorized)
        var writeAttributes = request(.put, "/0/0/1")
        writeAttributes.uriQuery = ["pmin=10"]
        #expect(RequestHandler().handle(writeAttributes, registry: registry, attributes: &attributes).code == .unauthorized)
        #expect(attributes.effective(for: LwM2MPath(0, 0, 1)).pmin == nil)
    }
}
