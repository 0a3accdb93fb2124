import CoAP
import LwM2M
import Testing

/// Protocol Support (/5/0/8) depends on what is installed on the machine (the daemon looks for
/// libcurl): the object looks the protocols up the first time they are needed, once, and not
/// when it is made, so the agent's first Register does not wait for the look-up (issue 17,
/// exec → registered).
@Suite struct FirmwareProtocolLookupTests {
    /// Counts the look-ups.
    final class Lookups {
        var count = 0
    }

    private func object(_ lookups: Lookups, protocols: Set<FirmwareProtocol> = [.coap, .http],
                        restoring: FirmwareUpdateObject.PersistentState? = nil) -> FirmwareUpdateObject {
        FirmwareUpdateObject(protocols: { lookups.count += 1; return protocols }, store: MemoryImageStore(),
                             restoring: restoring)
    }

    @Test func theRegisterPayloadAndAPushDoNotLookThemUp() throws {
        let lookups = Lookups()
        let firmware = object(lookups)
        let registry = ObjectRegistry()
        registry.register(firmware)
        #expect(String(decoding: InterfaceRequests.objectLinks(registry), as: UTF8.self).contains("</5/0>"))
        #expect(try firmware.read(LwM2MPath(5, 0, 3)) == .single(.integer(0)))
        try firmware.write(LwM2MPath(5, 0, 0), .single(.opaque([1, 2, 3])))
        #expect(firmware.state == .downloaded)
        #expect(lookups.count == 0)
    }

    @Test func aReadOfProtocolSupportLooksThemUpOnceForEverythingAfter() throws {
        let lookups = Lookups()
        let firmware = object(lookups)
        #expect(try firmware.read(LwM2MPath(5, 0, 8)) == .multiple([0: .integer(0), 1: .integer(2)]))
        #expect(lookups.count == 1)
        #expect(try firmware.read(LwM2MPath(5, 0, 9)) == .single(.integer(2)))  // both: push and pull
        try firmware.write(LwM2MPath(5, 0, 1), .single(.string("http://fw.example.com/image")))
        #expect(firmware.state == .downloading)
        #expect(firmware.configuration == .init(protocols: [.coap, .http]))
        #expect(lookups.count == 1)
    }

    @Test func aPackageURIWriteLooksThemUp() {
        let lookups = Lookups()
        let firmware = object(lookups, protocols: [.coap])
        #expect(throws: LwM2MError.self) {
            try firmware.write(LwM2MPath(5, 0, 1), .single(.string("https://fw.example.com/image")))
        }
        #expect(firmware.result == .unsupportedProtocol)
        #expect(lookups.count == 1)
    }

    @Test func aRestoredPullLooksThemUpWhenMade() throws {
        let lookups = Lookups()
        let first = object(lookups)
        try first.write(LwM2MPath(5, 0, 1), .single(.string("http://fw.example.com/image")))
        let saved = first.persistentState
        let restoredLookups = Lookups()
        // Whether the pull may resume depends on the protocols: http is gone, so Idle with 9.
        let restored = object(restoredLookups, protocols: [.coap], restoring: saved)
        #expect(restoredLookups.count == 1)
        #expect(restored.state == .idle)
        #expect(restored.result == .unsupportedProtocol)
    }
}
