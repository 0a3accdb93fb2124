import Testing
@testable import LwM2M

/// Facts checked against the object tables of the LwM2M TS and the IPSO registry, not against
/// the generator's own output.
@Suite struct OMAObjectsTests {
    @Test func deviceObject() throws {
        let device = try #require(OMAObjects.definition(3))
        #expect(device.name == "Device")
        #expect(!device.isMultiple)
        #expect(device.isMandatory)
        #expect(device.version == "1.2")
        let manufacturer = try #require(device.resource(0))
        #expect(manufacturer.type == .string && manufacturer.operations == [.read] && !manufacturer.isMultiple)
        let reboot = try #require(device.resource(4))
        #expect(reboot.operations == [.execute] && reboot.type == .none && reboot.isMandatory)
        let voltages = try #require(device.resource(7))
        #expect(voltages.isMultiple && voltages.type == .integer)
        let currentTime = try #require(device.resource(13))
        #expect(currentTime.type == .time && currentTime.operations == [.read, .write])
        let binding = try #require(device.resource(16))
        #expect(binding.isMandatory && binding.type == .string)
        #expect(device.resource(99) == nil)
    }

    @Test func securityAndServerObjects() throws {
        let security = try #require(OMAObjects.definition(0))
        #expect(security.isMultiple)
        // Security resources are reachable only through the Bootstrap interface: no R/W/E.
        #expect(security.resources.allSatisfy { $0.operations.isEmpty })
        #expect(security.resource(5)?.type == .opaque)  // Secret Key
        let server = try #require(OMAObjects.definition(1))
        #expect(server.resource(1)?.type == .integer && server.resource(1)?.operations == [.read, .write])  // Lifetime
        #expect(server.resource(8)?.operations == [.execute])  // Registration Update Trigger
        #expect(server.resource(0)?.operations == [.read])  // Short Server ID
    }

    @Test func ipsoObjects() throws {
        #expect(OMAObjects.definition(3303)?.resource(5700)?.type == .float)  // Sensor Value
        #expect(OMAObjects.definition(3201)?.resource(5550)?.operations == [.read, .write])  // Digital Output State
        #expect(OMAObjects.definition(3200)?.resource(5500)?.type == .boolean)  // Digital Input State
        #expect(OMAObjects.all.map(\.id) == OMAObjects.all.map(\.id).sorted())
        #expect(Set(OMAObjects.all.map(\.id)) == [0, 1, 2, 3, 4, 5, 6, 7, 3200, 3201, 3303, 3311, 3336, 3347])
    }
}
