import CoAP
@testable import LwM2M
import Testing

/// A bootstrap server that writes its management account over the instance of the client's
/// bootstrap account, as 1NCE does (help.1nce.com "Bootstrapping", seed 003): no Delete, Write
/// /0/0 = the LwM2M server (SSID 1111), Write /0/1 = the bootstrap server, Write /1/0, Finish.
/// The client's factory bootstrap account is /0/0.
@Suite struct BootstrapAccountOverwriteTests {
    private static let oneNCEPlan: [CoAPRequest] = [
        Accounts.write(LwM2MPath(0, 0), Accounts.securityRecords(instance: 0, uri: serverURI, bootstrap: false, ssid: 1111),
                       format: ContentFormat.lwm2mTLV),
        Accounts.write(LwM2MPath(0, 1), Accounts.securityRecords(instance: 1, uri: bootstrapURI, bootstrap: true, ssid: 2222),
                       format: ContentFormat.lwm2mTLV),
        Accounts.write(LwM2MPath(1, 0), Accounts.serverRecords(instance: 0, ssid: 1111), format: ContentFormat.lwm2mTLV),
        Accounts.finish,
    ]

    @Test func theOneNCELayoutMovesTheBootstrapAccountAndRegisters() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: Self.oneNCEPlan)
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [1111] })
        #expect(bs.responses.map(\.1.code) == [.changed, .changed, .changed, .changed])
        #expect(world.client.accounts.bootstrap?.instance == 1)
        #expect(world.client.accounts.bootstrap?.uri == bootstrapURI)
        #expect(world.client.security.instanceIDs == [0, 1])
    }

    @Test func overwritingTheBootstrapAccountWithoutWritingAnotherIsRefusedAtFinish() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: [Self.oneNCEPlan[0], Self.oneNCEPlan[2], Accounts.finish])
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        let before = world.client.persistentState
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes.first == .notAcceptable)
        let diagnostic = String(decoding: bs.responses[2].1.payload, as: UTF8.self)
        #expect(diagnostic.hasPrefix("no bootstrap-server account left"))
        #expect(world.client.persistentState == before)
        #expect(world.client.accounts.bootstrap?.instance == 0)
    }

    /// Once the account's instance is overwritten there is no bootstrap-server account for a
    /// Delete of "/" to keep (TS 1.1 §6.1.7.7 keeps only that account and /3/0): the overwritten
    /// instance goes too, Finish refuses a configuration without an account, and the client keeps
    /// the configuration it had before the session (the factory account) — found by the bootstrap
    /// fuzz target (Fuzz/seeds/bootstrap/overwritten-account-then-delete-root.bin).
    @Test func aDeleteOfTheRootAfterTheOverwriteIsRefusedAtFinishAndTheAccountSurvives() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: [Self.oneNCEPlan[0], Accounts.delete(.root), Self.oneNCEPlan[2], Accounts.finish])
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        let before = world.client.persistentState
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.responses.map(\.1.code).prefix(3) == [.changed, .deleted, .changed])
        #expect(bs.finishCodes.first == .notAcceptable)
        #expect(world.client.persistentState == before)
        #expect(world.client.accounts.bootstrap?.instance == 0)
        #expect(world.client.accounts.bootstrap?.uri == bootstrapURI)
    }

    /// 1NCE's Server instance: Short Server ID, Lifetime, Default Minimum Period, no Binding.
    @Test func aServerInstanceWithoutABindingGetsTheDefaultU() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: [
            Accounts.write(LwM2MPath(0, 1), Accounts.securityRecords(instance: 1, uri: serverURI, bootstrap: false, ssid: 1111),
                           format: ContentFormat.lwm2mTLV),
            Accounts.write(LwM2MPath(1, 0), [
                LwM2MRecord(LwM2MPath(1, 0, 0), .integer(1111)), LwM2MRecord(LwM2MPath(1, 0, 1), .integer(300)),
                LwM2MRecord(LwM2MPath(1, 0, 2), .integer(1)),
            ], format: ContentFormat.lwm2mTLV),
            Accounts.finish,
        ])
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [1111] })
        #expect(bs.finishCodes == [.changed])
        #expect(world.client.servers.snapshot().instances[0]?[7]?.stringValue == "U")
    }

    @Test func theConsistencyCheckNeedsABootstrapAccountOnlyWhenAsked() {
        let security = Accounts.snapshot(security: Accounts.securityRecords(instance: 0, uri: serverURI, bootstrap: false, ssid: 1),
                                         servers: Accounts.serverRecords(instance: 0, ssid: 1))
        let check = BootstrapConsistencyCheck()
        #expect(throws: Never.self) {
            try check.check(security: security.objects[0]!, server: security.objects[1]!)
        }
        #expect(throws: BootstrapInconsistency.bootstrapAccountLost) {
            try check.check(security: security.objects[0]!, server: security.objects[1]!, requiresBootstrapAccount: true)
        }
    }
}
