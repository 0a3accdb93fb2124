import CoAP
import LwM2M
import Testing

/// Object 5 is announced in the version an LwM2M 1.1 server has a model for (1.1: Leshan 2.0
/// ships 5 v1.0 and v1.1), unless 1.2 is asked for.
@Suite struct FirmwareVersionTests {
    @Test func version11IsTheDefaultAndHasNoAutomaticUpgrade() throws {
        let object = FirmwareUpdateObject(configuration: .init(protocols: [.coap]), store: MemoryImageStore())
        #expect(object.definition.version == "1.1")
        #expect(!object.definition.resources.contains { $0.id == 14 })
        #expect(object.resourceIDs(in: 0) == [0, 1, 2, 3, 5, 6, 7, 8, 9, 10])
        #expect(throws: LwM2MError.notFound) { try object.read(LwM2MPath(5, 0, 14)) }
        let registry = ObjectRegistry()
        registry.register(object)
        #expect(String(decoding: InterfaceRequests.objectLinks(registry), as: UTF8.self).contains("</5>;ver=1.1"))
    }

    @Test func version12ServesAutomaticUpgrade() {
        let object = FirmwareUpdateObject(configuration: .init(protocols: [.coap], version: .v1_2), store: MemoryImageStore())
        #expect(object.definition.version == "1.2")
        #expect(object.resourceIDs(in: 0).last == 14)
    }

    @Test func aRestoredAutomaticUpgradeIsDroppedIn11() {
        var saved = FirmwareUpdateObject.PersistentState()
        saved.automaticUpdate = true
        let object = FirmwareUpdateObject(configuration: .init(protocols: [.coap]), store: MemoryImageStore(), restoring: saved)
        #expect(!object.persistentState.automaticUpdate)
    }
}
