// Issue 15: LwM2MClient.status, what `lwm2m-agent status` reads from the state machine.
import CoAP
@testable import LwM2M
import Testing

private let bootstrapAndFactoryServer = Accounts.snapshot(
    security: Accounts.securityRecords(instance: 0, uri: bootstrapURI, bootstrap: true)
        + Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
    servers: Accounts.serverRecords(instance: 0, ssid: 201))

@Suite struct ClientStatusTests {
    @Test func fallbackBackingOffBootstrapAndARegisteredFactoryServer() throws {
        var configuration = ClientConfiguration.test
        configuration.bootstrapOnEveryStart = true
        var world = ClientHarness(configuration: configuration, factory: bootstrapAndFactoryServer)
        world.servers = [bootstrapURI: FakeBootstrapServer(plan: []), factoryServerURI: FakeManagementServer()]
        world.unreachable = [bootstrapURI]
        world.start()
        #expect(world.run(until: .seconds(2)) { $0.client.registeredServers == [201] })
        let status = world.client.status
        #expect(status.fallbackEngaged && !status.stopping)
        let bootstrap = try #require(status.bootstrap)
        #expect(bootstrap.uri == bootstrapURI && bootstrap.failures >= 1)
        guard case .backingOff(let until) = bootstrap.phase else { Issue.record("\(bootstrap.phase)"); return }
        #expect(until > world.now)
        let server = try #require(status.servers.first)
        #expect(server.shortServerID == 201 && server.uri == factoryServerURI && status.servers.count == 1)
        guard case .registered(let location, let updateAt) = server.phase else { Issue.record("\(server.phase)"); return }
        #expect(location.hasPrefix("/") && location.count > 1)
        #expect(updateAt > world.now)
        #expect(server.observations.isEmpty && !server.asleep)
    }

    @Test func anUnreachableServerWhoseRetriesAreExhaustedHasFailed() throws {
        // The fixture's Server instance has no retry resources: one sequence, then failed for good
        // (the waiting phase between retries is covered by Tests/interop/test_status.py).
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: Accounts.serverRecords(instance: 0, ssid: 201))
        var world = ClientHarness(factory: factory)
        world.servers = [factoryServerURI: FakeManagementServer()]
        world.unreachable = [factoryServerURI]
        world.start()
        #expect(world.run(until: .seconds(600)) { $0.client.status.servers.first?.phase == .failed })
        let status = world.client.status
        #expect(status.servers.map(\.shortServerID) == [201])
        #expect(status.bootstrap == nil && !status.fallbackEngaged)
    }
}
