import CoAP
@testable import LwM2M
import Testing

// Issue 10 (defect 1, the audit of arithmetic on peer-written integers): a management or
// bootstrap server writes the Server object's Communication Retry Timer (/1/x/18, an unsigned
// integer). Near Int64.max it made the failure event's description trap (`seconds * 1000`),
// the doubling of the retry delay could overflow `Duration`, and `now + delay` wrapped around
// to an instant in the past, so the "retry in 292 billion years" came at once.

@Suite struct ServerTimerExtremesTests {
    @Test func retryTimerNearInt64MaxNeitherTrapsNorRetriesAtOnce() {
        var records = Accounts.serverRecords(instance: 0, ssid: 201, retryCount: 5)
        records.removeAll { $0.path == LwM2MPath(1, 0, 18) }
        records.append(LwM2MRecord(LwM2MPath(1, 0, 18), .unsignedInteger(UInt64(Int64.max))))
        records.append(LwM2MRecord(LwM2MPath(1, 0, 16), .boolean(false)))
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: records)
        var world = ClientHarness(factory: factory)
        let server = FakeManagementServer()
        server.registerRefusals = [.forbidden, .forbidden, .forbidden, .forbidden, .forbidden]
        world.servers = [factoryServerURI: server]
        world.start()
        #expect(server.registrations.count == 1)
        world.run(for: .seconds(100))
        #expect(server.registrations.count == 1, "the retry \(Int64.max) s later came after 100 s")
        let failed = world.events.compactMap { event -> Duration? in
            if case .registrationFailed(201, _, let retryIn?) = event { return retryIn }
            return nil
        }
        #expect(failed == [.seconds(Int64.max)])
        // Describing the event (what the daemon logs) does not trap.
        #expect(world.eventNames().contains { $0.hasSuffix("retry in 9223372036854775807.000 s") })
    }

    @Test func eventDescriptionsOfExtremeDurations() {
        let event = ClientEvent.registrationFailed(ssid: 1, reason: "x", retryIn: .seconds(Int64.max) + .milliseconds(999))
        #expect(event.description == "server 1: registration failed: x, retry in 9223372036854775807.999 s"
            || event.description.hasSuffix("retry in 9223372036854775807.999 s"))
        #expect(ClientEvent.bootstrapFailed(reason: "y", retryIn: .milliseconds(1500)).description.hasSuffix("retry in 1.500 s"))
    }
}
