import CoAP
import Credentials
@testable import LwM2M
import Testing

/// Factory snapshot with a bootstrap account and factory server 201.
private let bootstrapAndFactoryServer = Accounts.snapshot(
    security: Accounts.securityRecords(instance: 0, uri: bootstrapURI, bootstrap: true)
        + Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
    servers: Accounts.serverRecords(instance: 0, ssid: 201))

private func query(_ message: CoAPMessage) -> [String] { message.uriQuery }

@Suite struct ClientBootstrapTests {
    @Test func bootstrapsRegistersAndAnswersAReadOfTheDevice() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        let dm = FakeManagementServer()
        world.servers = [bootstrapURI: bs, serverURI: dm]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })

        #expect(bs.requests.first?.uriPath == ["bs"])
        #expect(bs.requests.first.map(query) == ["ep=gw-test-1", "pct=112"])
        #expect(bs.finishCodes == [.changed])
        #expect(bs.responses.map(\.1.code) == [.deleted, .changed, .changed, .changed])
        let register = try! #require(dm.registrations.first)
        #expect(query(register) == ["ep=gw-test-1", "lt=300", "lwm2m=1.1", "b=U"])
        #expect(register.contentFormat == ContentFormat.linkFormat)
        let links = String(decoding: register.payload, as: UTF8.self)
        // Every format the responder serves, 1.1 form, the preferred one (pct) first.
        #expect(links.hasPrefix("</>;rt=\"oma.lwm2m\";ct=\"112 110 11542 11543 11544\","))
        // A 1.1 client registers the Server object a 1.1 server knows.
        #expect(links.contains("</1>;ver=1.1,"))
        #expect(links.contains("</1/1>") && links.contains("</3/0>"))
        #expect(!links.contains("</0"))
        #expect(world.saved.last == world.client.persistentState)
        #expect(world.eventNames().prefix(4) == [
            "bootstrap pending: \(bootstrapURI)", "bootstrap finished", "server 101: registering at \(serverURI)",
            "server 101: registered at /rd/r1, lifetime 300 s",
        ])

        let read = dm.send(CoAPRequest(.get, options: [
            CoAPOption(.uriPath, string: "3"), CoAPOption(.uriPath, string: "0"),
            CoAPOption(.accept, uint: UInt32(ContentFormat.lwm2mTLV)),
        ]), at: world.now)
        world.run(for: .milliseconds(10))
        let answer = try! #require(dm.answers[read])
        #expect(answer.code == .content)
        #expect(answer.contentFormat == ContentFormat.lwm2mTLV)
        let records = try! PayloadCodec.decode(answer.payload, base: LwM2MPath(3, 0), format: ContentFormat.lwm2mTLV,
                                               schema: .oma)
        #expect(records.contains(LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Source Gateways"))))
    }

    @Test func aRequestThatOvertakesTheRegisterAnswerIsServed() {
        // The server took the Register and reads at once; its 2.01 is lost or slower (Leshan
        // under loss): the read is served, not refused with 4.01, and the 2.01 registers.
        var world = ClientHarness(factory: bootstrapOnly)
        let dm = FakeManagementServer()
        dm.holdRegister = true
        world.servers = [bootstrapURI: FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101)),
                         serverURI: dm]
        world.start()
        #expect(world.run(until: .seconds(10)) { _ in dm.registrations.count == 1 })
        let read = dm.send(CoAPRequest(.get, options: [
            CoAPOption(.uriPath, string: "3"), CoAPOption(.uriPath, string: "0"), CoAPOption(.uriPath, string: "0"),
        ]), at: world.now)
        world.run(for: .milliseconds(10))
        #expect(dm.answers[read]?.code == .content)
        #expect(world.client.registeredServers == [])
        dm.answerHeldRegister(at: world.now)
        #expect(world.run(until: .seconds(60)) { $0.client.registeredServers == [101] })
        #expect(world.eventNames().contains("server 101: registered at /rd/r1, lifetime 300 s"))
    }

    @Test func securityObjectStaysClosedToTheManagementServer() {
        var world = ClientHarness(factory: bootstrapOnly)
        let dm = FakeManagementServer()
        world.servers = [bootstrapURI: FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101)),
                         serverURI: dm]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        let read = dm.send(CoAPRequest(.get, options: [CoAPOption(.uriPath, string: "0")]), at: world.now)
        world.run(for: .milliseconds(10))
        #expect(dm.answers[read]?.code == .unauthorized)
    }

    @Test func inconsistentDataIsRefusedAtFinishAndTheOldConfigurationKept() {
        var world = ClientHarness(factory: bootstrapOnly)
        // A coaps server URI with Security Mode NoSec: reason "secure URI without security".
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: "coaps://dm.example:5684", ssid: 101))
        world.servers = [bootstrapURI: bs]
        let before = world.client.persistentState
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes == [.notAcceptable])
        let diagnostic = String(decoding: bs.responses.last!.1.payload, as: UTF8.self)
        #expect(diagnostic.contains("coaps URI but Security Mode NoSec"))
        #expect(world.client.persistentState == before)
        #expect(world.saved.isEmpty)
        #expect(world.events.contains { if case .bootstrapFailed(let reason, let retry) = $0 {
            return reason.contains("inconsistent") && retry != nil } else { return false } })

        // The retry comes after the back-off (5 s × up to 1.5), not before.
        let requestsAfterFailure = bs.requests.count
        world.run(for: .seconds(4))
        #expect(bs.requests.count == requestsAfterFailure)
        world.run(for: .seconds(4))
        #expect(bs.requests.count == requestsAfterFailure + 1)
    }

    @Test func silentBootstrapServerTimesOutTheSession() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        bs.stopAfter = 2  // Delete and one Write, then nothing
        world.servers = [bootstrapURI: bs]
        let before = world.client.persistentState
        world.start()
        world.run(for: .seconds(29))
        #expect(world.client.isBootstrapping)
        #expect(!world.events.contains { if case .bootstrapFailed = $0 { true } else { false } })
        world.run(for: .seconds(2))
        #expect(world.events.contains { if case .bootstrapFailed(let reason, _) = $0 {
            reason.contains("no Bootstrap-Finish") } else { false } })
        #expect(world.client.persistentState == before)
    }

    @Test func bootstrapDeleteKeepsTheBootstrapAccountAndRefusesToDeleteIt() {
        var world = ClientHarness(factory: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: [
            Accounts.delete(.root), Accounts.delete(LwM2MPath(0, 0)), Accounts.delete(LwM2MPath(3, 0)),
            Accounts.delete(LwM2MPath(0)),
        ] + Array(Accounts.plan(serverURI: serverURI, ssid: 101).dropFirst()))
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        #expect(bs.responses.prefix(4).map(\.1.code) == [.deleted, .badRequest, .badRequest, .deleted])
        #expect(world.client.accounts.bootstrap?.uri == bootstrapURI)
    }

    @Test func writeOnTheObjectTakesInstancesFromThePayload() {
        var world = ClientHarness(factory: bootstrapOnly)
        let records = Accounts.securityRecords(instance: 7, uri: serverURI, bootstrap: false, ssid: 101)
        let bs = FakeBootstrapServer(plan: [
            Accounts.write(LwM2MPath(0), records, format: ContentFormat.lwm2mTLV),
            Accounts.write(LwM2MPath(1), Accounts.serverRecords(instance: 3, ssid: 101), format: ContentFormat.lwm2mTLV),
            Accounts.finish,
        ])
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        #expect(world.client.security.instanceIDs == [0, 7])
        #expect(world.client.servers.instanceIDs == [3])
    }

    @Test func pskSecretsGoToTheCredentialStoreNeverToTheStateFile() throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let key: [UInt8] = [0xC0, 0xFF, 0xEE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD]
        let bs = FakeBootstrapServer(plan: [
            Accounts.delete(.root),
            Accounts.write(LwM2MPath(0, 1), Accounts.securityRecords(
                instance: 1, uri: "coaps://dm.example:5684", bootstrap: false, mode: 0, ssid: 101,
                identity: Array("gw-test-1".utf8), secret: key)),
            Accounts.write(LwM2MPath(1, 1), Accounts.serverRecords(instance: 1, ssid: 101)),
            Accounts.finish,
        ])
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes == [.changed])
        let reference = try #require(world.client.security.secretReference(instance: 1, resource: 5))
        #expect(try credentials.load(CredentialID(reference)!) == SecretBytes(key))
        let encoded = world.client.persistentState.encoded()
        #expect(!contains(encoded, key))
        #expect(String(decoding: encoded, as: UTF8.self).contains(reference))
        #expect(throws: LwM2MError.unauthorized) { try world.client.security.read(LwM2MPath(0, 1, 5)) }
    }

    @Test func secretsOfAFailedSessionAreRemoved() throws {
        let credentials = EphemeralCredentialStore()
        var world = ClientHarness(factory: bootstrapOnly, credentials: credentials)
        let bs = FakeBootstrapServer(plan: [
            Accounts.write(LwM2MPath(0, 1), Accounts.securityRecords(
                instance: 1, uri: "coaps://dm.example:5684", bootstrap: false, mode: 0, ssid: 101,
                identity: Array("id".utf8), secret: [1, 2, 3, 4])),
            Accounts.finish,  // no Server instance: inconsistent
        ])
        world.servers = [bootstrapURI: bs]
        world.start()
        world.run(for: .seconds(1))
        #expect(bs.finishCodes == [.notAcceptable])
        #expect(try credentials.identifiers().isEmpty)
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}

@Suite struct ClientPolicyTests {
    @Test func bootstrapServerDownEngagesTheFactoryFallbackThenMovesToTheNewServer() {
        var configuration = ClientConfiguration.test
        configuration.bootstrapOnEveryStart = true
        var world = ClientHarness(configuration: configuration, factory: bootstrapAndFactoryServer)
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        let factoryServer = FakeManagementServer()
        let newServer = FakeManagementServer()
        world.servers = [bootstrapURI: bs, factoryServerURI: factoryServer, serverURI: newServer]
        world.unreachable = [bootstrapURI]
        world.start()
        #expect(world.run(until: .seconds(2)) { $0.client.registeredServers == [201] })
        #expect(world.client.isFallbackEngaged)
        #expect(world.events.contains(.fallbackEngaged(servers: [201])))

        world.unreachable = []
        #expect(world.run(until: .seconds(60)) { $0.client.registeredServers == [101] })
        #expect(!world.client.isFallbackEngaged)
        #expect(factoryServer.deregistrations.count == 1)
        #expect(newServer.registrations.count == 1)
        let names = world.eventNames()
        let fallback = names.firstIndex { $0.hasPrefix("factory-bootstrap fallback") }!
        let finished = names.firstIndex(of: "bootstrap finished")!
        #expect(fallback < finished)
        #expect(names.contains("server 201: de-registered"))
    }

    @Test func rejectedRegistrationLeadsToABootstrapAndTheNewServer() {
        // The factory server refuses (4.03); Bootstrap on Registration Failure (default true)
        // sends the client to the bootstrap server, which provisions server 101.
        var world = ClientHarness(factory: bootstrapAndFactoryServer)
        let factoryServer = FakeManagementServer()
        factoryServer.registerRefusals = [.forbidden]
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        let newServer = FakeManagementServer()
        world.servers = [bootstrapURI: bs, factoryServerURI: factoryServer, serverURI: newServer]
        world.start()
        #expect(world.run(until: .seconds(30)) { $0.client.registeredServers == [101] })
        #expect(factoryServer.registrations.count == 1)
        #expect(world.events.contains(.registrationFailed(ssid: 201, reason: "Register answered 4.03", retryIn: nil)))
        #expect(bs.finishCodes == [.changed])
    }

    @Test func registrationRetriesFollowTheServerObject() {
        // Retry Count 3, Retry Timer 2 s: attempts at 0, 2, 2+4 s, then failure.
        var records = Accounts.serverRecords(instance: 0, ssid: 201, retryCount: 3)
        records.append(LwM2MRecord(LwM2MPath(1, 0, 16), .boolean(false)))
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: records)
        var world = ClientHarness(factory: factory)
        let server = FakeManagementServer()
        server.registerRefusals = [.forbidden, .forbidden, .forbidden]
        world.servers = [factoryServerURI: server]
        world.start()
        #expect(server.registrations.count == 1)
        world.run(for: .milliseconds(1900))
        #expect(server.registrations.count == 1)
        world.run(for: .milliseconds(200))
        #expect(server.registrations.count == 2)
        world.run(for: .milliseconds(3800))
        #expect(server.registrations.count == 2)
        world.run(for: .milliseconds(200))
        #expect(server.registrations.count == 3)
        #expect(world.events.last == .registrationFailed(ssid: 201, reason: "Register answered 4.03", retryIn: nil))
        world.run(for: .seconds(100))
        #expect(server.registrations.count == 3)
    }

    @Test func restartWithPersistedStateRegistersWithoutBootstrapping() throws {
        var first = ClientHarness(factory: bootstrapOnly)
        first.servers = [bootstrapURI: FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101)),
                         serverURI: FakeManagementServer()]
        first.start()
        #expect(first.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        let file = first.client.persistentState.encoded()

        let state = try ConfigurationSnapshot(decoding: file)
        #expect(state == first.client.persistentState)
        var second = ClientHarness(factory: bootstrapOnly, state: state)
        let bs = FakeBootstrapServer(plan: [])
        second.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        second.start()
        #expect(second.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        #expect(bs.requests.isEmpty)
    }

    @Test func bootstrapOnEveryStartIgnoresPersistedServers() throws {
        var configuration = ClientConfiguration.test
        configuration.bootstrapOnEveryStart = true
        let persisted = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 0, uri: bootstrapURI, bootstrap: true)
                + Accounts.securityRecords(instance: 1, uri: serverURI, bootstrap: false, ssid: 101),
            servers: Accounts.serverRecords(instance: 1, ssid: 101))
        var world = ClientHarness(configuration: configuration, factory: bootstrapOnly, state: persisted)
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        let dm = FakeManagementServer()
        world.servers = [bootstrapURI: bs, serverURI: dm]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        #expect(bs.requests.count == 1)
        #expect(world.eventNames().first == "bootstrap pending: \(bootstrapURI)")
    }

    @Test func factoryResetReturnsToTheFactorySnapshot() {
        var world = ClientHarness(factory: bootstrapAndFactoryServer)
        let factoryServer = FakeManagementServer()
        world.servers = [factoryServerURI: factoryServer, bootstrapURI: FakeBootstrapServer(plan: [])]
        world.start()
        #expect(world.run(until: .seconds(5)) { $0.client.registeredServers == [201] })
        // A server changes the lifetime; a factory reset undoes it.
        try? world.client.servers.write(LwM2MPath(1, 0, 1), .single(.integer(999)))
        world.client.factoryReset(at: world.now)
        world.pump()
        #expect(world.client.persistentState == bootstrapAndFactoryServer)
        #expect(world.events.contains(.factoryReset))
        #expect(world.run(until: .seconds(5)) { $0.client.registeredServers == [201] })
        #expect(factoryServer.deregistrations.count == 1)
    }
}

@Suite struct ClientRegistrationTests {
    private func registeredWorld(lifetime: Int64 = 300) -> (ClientHarness, FakeManagementServer) {
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: Accounts.serverRecords(instance: 0, ssid: 201, lifetime: lifetime))
        var world = ClientHarness(factory: factory)
        let server = FakeManagementServer()
        world.servers = [factoryServerURI: server]
        world.start()
        #expect(world.client.registeredServers == [201])
        return (world, server)
    }

    @Test func updatesFollowTheLifetime() {
        // 300 s ≥ 2 × MAX_TRANSMIT_WAIT (93 s): Update at 300 − 93 = 207 s.
        var (world, server) = registeredWorld(lifetime: 300)
        world.run(for: .seconds(206))
        #expect(server.updates.isEmpty)
        world.run(for: .seconds(2))
        #expect(server.updates.count == 1)
        #expect(server.updates[0].uriPath == ["rd", "r1"])
        #expect(server.updates[0].payload.isEmpty)

        // 60 s < 186 s: Update at Lifetime/2.
        var (short, shortServer) = registeredWorld(lifetime: 60)
        short.run(for: .seconds(29))
        #expect(shortServer.updates.isEmpty)
        short.run(for: .seconds(2))
        #expect(shortServer.updates.count == 1)
    }

    @Test func updateRefusedFallsBackToRegister() {
        var (world, server) = registeredWorld(lifetime: 60)
        server.updateCode = .notFound
        world.run(for: .seconds(31))
        #expect(server.updates.count == 1)
        #expect(server.registrations.count == 2)
        #expect(world.client.registeredServers == [201])
        #expect(world.client.location(of: 201) == ["rd", "r2"])
    }

    @Test func updateTimeoutReregistersOnANewConnection() {
        var (world, server) = registeredWorld(lifetime: 60)
        world.unreachable = []
        let firstConnection = world.connections.keys.first!
        world.lossRate = 1.0
        world.run(for: .seconds(31 + 93))
        world.lossRate = 0
        #expect(world.run(until: .seconds(200)) { $0.client.registeredServers == [201] && $0.connections.count >= 2 })
        #expect(world.closed.contains(firstConnection))
        #expect(server.registrations.count >= 2)
    }

    @Test func lifetimeWrittenByTheServerIsSentInAnUpdate() {
        var (world, server) = registeredWorld(lifetime: 300)
        let write = server.send(CoAPRequest(.put, options: [
            CoAPOption(.uriPath, string: "1"), CoAPOption(.uriPath, string: "0"), CoAPOption(.uriPath, string: "1"),
            CoAPOption(.contentFormat, uint: UInt32(ContentFormat.textPlain)),
        ], payload: Array("120".utf8)), at: world.now)
        world.run(for: .milliseconds(10))
        #expect(server.answers[write]?.code == .changed)
        #expect(server.updates.last?.uriQuery == ["lt=120"])
        #expect(world.saved.last.flatMap { $0.objects[1]?.instances[0]?[1] } == .single(.integer(120)))
    }

    @Test func registrationUpdateTriggerSendsAnUpdate() {
        var (world, server) = registeredWorld()
        let execute = server.send(CoAPRequest(.post, options: [
            CoAPOption(.uriPath, string: "1"), CoAPOption(.uriPath, string: "0"), CoAPOption(.uriPath, string: "8"),
        ]), at: world.now)
        world.run(for: .milliseconds(10))
        #expect(server.answers[execute]?.code == .changed)
        #expect(server.updates.count == 1)
    }

    @Test func disableDeregistersAndComesBackAfterTheTimeout() {
        var (world, server) = registeredWorld()
        try? world.client.servers.write(LwM2MPath(1, 0, 5), .single(.integer(30)))
        let execute = server.send(CoAPRequest(.post, options: [
            CoAPOption(.uriPath, string: "1"), CoAPOption(.uriPath, string: "0"), CoAPOption(.uriPath, string: "4"),
        ]), at: world.now)
        world.run(for: .milliseconds(10))
        #expect(server.answers[execute]?.code == .changed)
        #expect(server.deregistrations.count == 1)
        #expect(world.client.registeredServers.isEmpty)
        world.run(for: .seconds(29))
        #expect(server.registrations.count == 1)
        world.run(for: .seconds(2))
        #expect(server.registrations.count == 2)
        #expect(world.client.registeredServers == [201])
    }

    @Test func stopDeregisters() {
        var (world, server) = registeredWorld()
        world.client.stop(at: world.now)
        world.pump()
        #expect(server.deregistrations.map(\.uriPath) == [["rd", "r1"]])
        #expect(world.client.isStopped)
        #expect(world.events.last == .deregistered(ssid: 201))
    }

    @Test func objectLinksChangeSendsAnUpdateWithThePayload() {
        var (world, server) = registeredWorld()
        let temperature = StaticObject(definition: OMAObjects.definition(3303)!, instanceIDs: [0])
        world.client.registry.register(temperature)
        world.client.advance(to: world.now)
        world.pump()
        #expect(server.updates.count == 1)
        #expect(String(decoding: server.updates[0].payload, as: UTF8.self).contains("</3303/0>"))
    }
}

@Suite struct ClientLossTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func bootstrapAndRegistrationConvergeWithThirtyPercentLoss(seed: UInt64) {
        var world = ClientHarness(factory: bootstrapOnly)
        world.lossRate = 0.3
        world.loss = SplitMix64(seed: seed)
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(1800)) { $0.client.registeredServers == [101] })
    }
}

@Suite struct ClientQueueModeTests {
    @Test func aSleepingClientStoresNotificationsAndWakesWithAnUpdate() throws {
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: Accounts.serverRecords(instance: 0, ssid: 201, lifetime: 3600, binding: "UQ"))
        var configuration = ClientConfiguration.test
        configuration.queueModeAwakeTime = .seconds(10)
        var world = ClientHarness(configuration: configuration, factory: factory)
        let server = FakeManagementServer()
        world.servers = [factoryServerURI: server]
        world.start()
        #expect(server.registrations.first?.uriQuery.contains("Q") == true)
        #expect(server.registrations.first?.uriQuery.contains("b=U") == true)

        // Observe Battery Level (pmin 0) while awake.
        _ = server.send(CoAPRequest(.get, options: [
            CoAPOption(.observe, uint: 0), CoAPOption(.uriPath, string: "3"), CoAPOption(.uriPath, string: "0"),
            CoAPOption(.uriPath, string: "9"),
        ]), at: world.now)
        world.run(for: .seconds(1))
        let device = try #require(world.client.registry.object(3) as? StaticObject)

        // Asleep after 10 s without traffic: a change is stored, then the client wakes itself.
        world.run(for: .seconds(12))
        let before = world.sentByClient.count
        try device.set(LwM2MPath(3, 0, 9), .integer(42))
        world.client.advance(to: world.now)
        world.pump()
        let sent = world.sentByClient[before...].map(\.1)
        let update = try #require(sent.firstIndex { $0.code == .post && $0.uriPath == ["rd", "r1"] })
        let notification = try #require(sent.firstIndex { $0.code == .content && $0.observe != nil })
        #expect(update < notification)
        #expect(server.updates.count == 1)
    }
}

@Suite struct ClientLargeRegistrationTests {
    @Test func objectLinksLongerThanABlockGoOutBlockWise() {
        let factory = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 1, uri: factoryServerURI, bootstrap: false, ssid: 201),
            servers: Accounts.serverRecords(instance: 0, ssid: 201))
        var world = ClientHarness(factory: factory)
        // 150 temperature sensors: "</3303/N>," × 150 is well over one 1024-byte block.
        world.client.registry.register(StaticObject(definition: OMAObjects.definition(3303)!, instanceIDs: Array(0..<150)))
        _ = world.client.registry.takeChanges()
        let server = FakeManagementServer()
        world.servers = [factoryServerURI: server]
        world.start()
        #expect(world.client.registeredServers == [201])
        let payload = String(decoding: server.registrations.first?.payload ?? [], as: UTF8.self)
        #expect(payload.utf8.count > 1024)
        #expect(payload.contains("</3303/0>") && payload.contains("</3303/149>"))
        #expect(world.sentByClient.contains { $0.1.block1 != nil })
    }
}
