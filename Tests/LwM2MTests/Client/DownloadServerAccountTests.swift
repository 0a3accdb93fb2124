import CoAP
@testable import LwM2M
import Testing

// Issue 14 (h-coaps): which Security instance holds the credentials of a coaps Package URI, and
// that a bootstrap server can provision such a download-server account (a Security instance
// without a Server instance) and keep it.

private let managementAccount = Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, ssid: 101)

private func downloadAccount(_ instance: UInt16, _ uri: String, mode: Int64 = 0, ssid: UInt16? = nil) -> [LwM2MRecord] {
    Accounts.securityRecords(instance: instance, uri: uri, bootstrap: false, mode: mode, ssid: ssid ?? 100 + instance,
                             identity: Array("fw-\(instance)".utf8))
}

private func security(_ records: [LwM2MRecord]) -> ObjectSnapshot {
    Accounts.snapshot(security: records).objects[0]!
}

private func match(_ uri: String, _ records: [LwM2MRecord]) -> Result<UInt16, DownloadServerAccount.Failure> {
    let parsed = try! CoAPURI(uri)
    do {
        return .success(try DownloadServerAccount.account(for: parsed, in: security(records)).instance)
    } catch {
        return .failure(error)
    }
}

@Suite struct DownloadServerAccountTests {
    @Test(arguments: [
        // (account URI, Package URI): the same service
        ("coaps://fw.example", "coaps://fw.example/image"),
        ("coaps://fw.example", "coaps://fw.example:5684/image"),    // the default port on one side
        ("coaps://fw.example:5684/", "coaps://fw.example/a/b?x=1"),  // paths and queries do not matter
        ("coaps://FW.Example.COM:6000", "coaps://fw.example.com:6000/fw"),  // host case
        ("COAPS://fw.example.com:6000", "coaps://FW.EXAMPLE.COM:6000/fw"),
        ("coaps://[FE80::1]:6000", "coaps://[fe80::1]:6000/fw"),     // IPv6 literal case
        ("coaps://127.0.0.1:6000", "coaps://127.0.0.1:6000/fw"),
    ])
    func theSameHostAndPortMatch(account: String, package: String) {
        #expect(match(package, managementAccount + downloadAccount(2, account)) == .success(2))
    }

    @Test(arguments: [
        ("coaps://fw.example:6000", "coaps://fw.example/fw"),          // 6000 vs the default 5684
        ("coaps://fw.example", "coaps://fw.example:5683/fw"),
        ("coaps://fw.example.com", "coaps://fw.example/fw"),           // another host
        ("coaps://fw.example", "coaps://www.fw.example/fw"),
        ("coaps://10.0.0.1", "coaps://10.0.0.2/fw"),
        ("coap://fw.example:5684", "coaps://fw.example/fw"),           // the account is not coaps
        ("not a uri", "coaps://fw.example/fw"),
    ])
    func anotherServiceDoesNotMatch(account: String, package: String) {
        let host = try! CoAPURI(package)
        #expect(match(package, managementAccount + downloadAccount(2, account))
            == .failure(.noMatchingAccount(host: host.host, port: host.port)))
    }

    @Test func aPlainCoAPPackageURIMatchesNothing() {
        #expect(!DownloadServerAccount.matches("coaps://fw.example", try! CoAPURI("coap://fw.example/fw")))
        #expect(!DownloadServerAccount.matches("coap://fw.example", try! CoAPURI("coap://fw.example/fw")))
    }

    @Test func theBootstrapAccountIsNeverUsed() {
        let bootstrap = Accounts.securityRecords(instance: 0, uri: "coaps://fw.example", bootstrap: true, mode: 0,
                                                 identity: [1])
        #expect(match("coaps://fw.example/fw", bootstrap + managementAccount)
            == .failure(.noMatchingAccount(host: "fw.example", port: 5684)))
    }

    @Test func aManagementServersOwnAccountServesItsHost() {
        let server = Accounts.securityRecords(instance: 1, uri: "coaps://dm.example", bootstrap: false, mode: 0, ssid: 101,
                                              identity: [1])
        #expect(match("coaps://DM.example:5684/fw", server) == .success(1))
    }

    @Test func theLowestMatchingInstanceWins() {
        let records = managementAccount + downloadAccount(7, "coaps://fw.example") + downloadAccount(3, "coaps://fw.example:5684")
            + downloadAccount(2, "coaps://other.example")
        #expect(match("coaps://fw.example/fw", records) == .success(3))
    }

    @Test(arguments: [Int64(3), 1, 4, 9])
    func aMatchWithoutUsableSecurityIsRefusedWithTheReason(mode: Int64) {
        let result = match("coaps://fw.example/fw", managementAccount + downloadAccount(2, "coaps://fw.example", mode: mode))
        guard case .failure(.unusableMode(let instance, _)) = result else {
            Issue.record("expected unusableMode, got \(result)")
            return
        }
        #expect(instance == 2)
    }

    @Test func theFailureNamesWhatIsMissing() {
        #expect(DownloadServerAccount.Failure.noMatchingAccount(host: "fw.example", port: 5684).description
            == "no Security instance (/0) has the Server URI coaps://fw.example:5684 (a bootstrap server writes one for a download server)")
        #expect(DownloadServerAccount.Failure.noMatchingAccount(host: "::1", port: 6000).description
            .contains("coaps://[::1]:6000"))
    }

    @Test func anX509AccountIsUsable() {
        var records = managementAccount + downloadAccount(2, "coaps://fw.example", mode: 2)
        records.append(LwM2MRecord(LwM2MPath(0, 2, 4), .opaque([0x30])))
        #expect(match("coaps://fw.example/fw", records) == .success(2))
    }
}

@Suite struct DownloadServerAccountConsistencyTests {
    private let check = BootstrapConsistencyCheck(supportedModes: [.noSecurity, .preSharedKey, .certificate])

    private func verdict(_ security: [LwM2MRecord], servers: [LwM2MRecord], secrets: [UInt16: String]) -> String? {
        consistencyVerdict(check, security: security, servers: servers, secrets: secrets)
    }

    @Test func aSecuredSecurityInstanceWithoutServerInstanceBesideAManagementAccountPasses() {
        #expect(verdict(managementAccount + downloadAccount(2, "coaps://fw.example"),
                        servers: Accounts.serverRecords(instance: 1, ssid: 101), secrets: [2: "k"]) == nil)
    }

    @Test func aNoSecSecurityInstanceWithoutServerInstanceIsStillRefused() {
        #expect(verdict(managementAccount + Accounts.securityRecords(instance: 2, uri: "coap://fw", bootstrap: false, ssid: 102),
                        servers: Accounts.serverRecords(instance: 1, ssid: 101), secrets: [:])
            == "Short Server ID 102: Security instance has no Server instance")
    }

    @Test func aDownloadAccountIsNoServerAccount() {
        #expect(verdict(downloadAccount(2, "coaps://fw.example"), servers: [], secrets: [2: "k"])
            == "no LwM2M server account provided")
        let bootstrap = Accounts.securityRecords(instance: 0, uri: "coap://bs", bootstrap: true)
        #expect(verdict(bootstrap + downloadAccount(2, "coaps://fw.example"), servers: [], secrets: [2: "k"])
            == "only a bootstrap-server account provided, no LwM2M server account")
    }

    @Test func aDownloadAccountStillNeedsItsCredentials() {
        #expect(verdict(managementAccount + downloadAccount(2, "coaps://fw.example"),
                        servers: Accounts.serverRecords(instance: 1, ssid: 101), secrets: [:])
            == "/0/2: Security Mode PSK without a key (/0/2/5)")
    }
}

@Suite struct DownloadServerAccountProvisioningTests {
    /// A client bootstrapped with server 101 and a download-server account /0/2, registered.
    private func bootstrapped() -> (ClientHarness, FakeManagementServer) {
        var world = ClientHarness(factory: bootstrapOnly)
        let plan = [
            Accounts.delete(.root),
            Accounts.write(LwM2MPath(0, 1), Accounts.securityRecords(instance: 1, uri: serverURI, bootstrap: false, ssid: 101)),
            Accounts.write(LwM2MPath(0, 2), Accounts.securityRecords(instance: 2, uri: "coaps://fw.example", bootstrap: false,
                                                                     mode: 0, ssid: 102, identity: Array("fw".utf8),
                                                                     secret: Array(repeating: 7, count: 16))),
            Accounts.write(LwM2MPath(1, 1), Accounts.serverRecords(instance: 1, ssid: 101)),
            Accounts.finish,
        ]
        let bs = FakeBootstrapServer(plan: plan)
        let dm = FakeManagementServer()
        world.servers = [bootstrapURI: bs, serverURI: dm]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        return (world, dm)
    }

    @Test func theBootstrapServerProvisionsADownloadAccountAndTheClientRegistersOnlyWithTheServer() throws {
        let (world, _) = bootstrapped()
        let account = try DownloadServerAccount.account(for: try CoAPURI("coaps://fw.example/fw"),
                                                        in: world.client.security.snapshot())
        #expect(account.instance == 2 && account.identity == Array("fw".utf8) && account.secretKey != nil)
        #expect(AccountSet(security: world.client.security, server: world.client.servers).servers.map(\.shortServerID) == [101])
    }

    @Test func aServerObjectChangeKeepsTheDownloadAccount() {
        var (world, dm) = bootstrapped()
        let answer = world.ask(dm, CoAPRequest(.put, options: [CoAPOption(.uriPath, string: "1"), CoAPOption(.uriPath, string: "1"),
                                                               CoAPOption(.uriPath, string: "1"),
                                                               CoAPOption(.contentFormat, uint: UInt32(ContentFormat.textPlain))],
                                               payload: Array("60".utf8)))
        #expect(answer?.code == .changed)
        #expect(world.client.security.instanceIDs.contains(2))
    }

    @Test func deletingTheServerInstanceRemovesItsAccountButNotTheDownloadAccount() {
        var (world, dm) = bootstrapped()
        let savedBefore = world.saved.count
        #expect(world.ask(dm, CoAPRequest(.delete, options: [CoAPOption(.uriPath, string: "1"),
                                                             CoAPOption(.uriPath, string: "1")]))?.code == .deleted)
        let saved = try! #require(world.saved.dropFirst(savedBefore).first)
        #expect(saved.objects[0]?.instances.keys.sorted() == [0, 2])  // the bootstrap and the download account
        #expect(saved.objects[1]?.instances.isEmpty == true)
        // No server account left (a download account is none): the client bootstraps again.
        #expect(world.run(until: .seconds(30)) { $0.client.registeredServers == [101] })
    }
}
