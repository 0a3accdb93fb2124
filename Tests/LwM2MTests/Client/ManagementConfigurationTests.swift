import CoAP
import Credentials
@testable import LwM2M
import Testing

// Issue 10, defects 2, 3, 8, 11, 12: what a management server may do to the configuration
// objects, Lifetime and Binding writes, the registration's form, Bootstrap-Discover.

/// Factory snapshot with factory server 201 and no bootstrap account.
private let factoryServerOnly = Accounts.snapshot(
    security: Accounts.securityRecords(instance: 0, uri: factoryServerURI, bootstrap: false, ssid: 201),
    servers: Accounts.serverRecords(instance: 0, ssid: 201))

/// A saved configuration with server 101 and no bootstrap account.
private let serverOnly = Accounts.snapshot(
    security: Accounts.securityRecords(instance: 0, uri: serverURI, bootstrap: false, ssid: 101),
    servers: Accounts.serverRecords(instance: 0, ssid: 101))

private func request(_ code: CoAPCode, _ path: LwM2MPath, format: UInt16? = nil, accept: UInt16? = nil,
                     payload: [UInt8] = []) -> CoAPRequest {
    var options = path.ids.map { CoAPOption(.uriPath, string: String($0)) }
    if let format { options.append(CoAPOption(.contentFormat, uint: UInt32(format))) }
    if let accept { options.append(CoAPOption(.accept, uint: UInt32(accept))) }
    return CoAPRequest(code, options: options, payload: payload)
}

private func text(_ value: String) -> [UInt8] { Array(value.utf8) }

/// Whether `snapshot` passes the client's own Bootstrap-Finish check.
private func consistent(_ snapshot: ConfigurationSnapshot) -> Bool {
    (try? BootstrapConsistencyCheck(supportedModes: [.noSecurity, .preSharedKey, .certificate])
        .check(security: snapshot.objects[0] ?? ObjectSnapshot(), server: snapshot.objects[1] ?? ObjectSnapshot())) != nil
}

/// A client bootstrapped to server 101 and registered.
private func registeredWorld() -> (ClientHarness, FakeBootstrapServer, FakeManagementServer) {
    var world = ClientHarness(factory: bootstrapOnly)
    let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
    let dm = FakeManagementServer()
    world.servers = [bootstrapURI: bs, serverURI: dm]
    world.start()
    #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
    return (world, bs, dm)
}

extension ClientHarness {
    /// Sends `request` from `server` and returns the client's answer.
    mutating func ask(_ server: FakeManagementServer, _ request: CoAPRequest) -> CoAPMessage? {
        let id = server.send(request, at: now)
        run(for: .milliseconds(10))
        return server.answers[id]
    }
}

@Suite struct ManagementServerAndConfigurationTests {
    // Defect 2: a Create on /1 turned access control on and locked the server out.
    @Test func createOnTheServerObjectIsRefusedAndLocksNobodyOut() throws {
        var (world, _, dm) = registeredWorld()
        let records = [LwM2MRecord(LwM2MPath(1, 5, 0), .integer(102)), LwM2MRecord(LwM2MPath(1, 5, 1), .integer(300)),
                       LwM2MRecord(LwM2MPath(1, 5, 6), .boolean(true)), LwM2MRecord(LwM2MPath(1, 5, 7), .string("U"))]
        let payload = try PayloadCodec.encode(records, base: LwM2MPath(1), format: ContentFormat.senmlJSON)
        let created = world.ask(dm, request(.post, LwM2MPath(1), format: ContentFormat.senmlJSON, payload: payload))
        #expect(created?.code == .methodNotAllowed)
        #expect(world.client.servers.instanceIDs == [1])
        // Still one server: no access control, the server keeps every right.
        #expect(world.ask(dm, request(.get, LwM2MPath(3, 0), accept: ContentFormat.senmlJSON))?.code == .content)
        #expect(world.ask(dm, request(.get, LwM2MPath(1, 1), accept: ContentFormat.lwm2mTLV))?.code == .content)
        #expect(consistent(world.client.persistentState))
        #expect(world.saved.allSatisfy(consistent))
    }

    @Test func accessControlInstancesAreNeitherCreatedNorDeletedByAServer() {
        var (world, _, dm) = registeredWorld()
        let records = [LwM2MRecord(LwM2MPath(2, 0, 0), .integer(3)), LwM2MRecord(LwM2MPath(2, 0, 1), .integer(0)),
                       LwM2MRecord(LwM2MPath(2, 0, 3), .integer(101))]
        let payload = try! PayloadCodec.encode(records, base: LwM2MPath(2), format: ContentFormat.senmlJSON)
        #expect(world.ask(dm, request(.post, LwM2MPath(2), format: ContentFormat.senmlJSON, payload: payload))?.code
            == .unauthorized)
        #expect(world.client.accessControl.instanceIDs.isEmpty)
    }

    // Defect 3: a server deleting its own Server instance left an orphan Security instance, sent
    // no De-register, and the daemon idled after a restart.
    @Test func deletingItsOwnServerInstanceRemovesTheAccountDeregistersAndBootstraps() {
        var (world, bs, dm) = registeredWorld()
        let savedBefore = world.saved.count
        #expect(world.ask(dm, request(.delete, LwM2MPath(1, 1)))?.code == .deleted)
        let saved = try! #require(world.saved.dropFirst(savedBefore).first)
        #expect(dm.deregistrations.count == 1)
        #expect(world.eventNames().contains("server 101: account deleted by a management server, de-registering"))
        // The whole account went: no orphan Security instance, and what was saved loads.
        #expect(AccountSet(security: saved.objects[0]!, server: saved.objects[1]!).servers.isEmpty)
        #expect(saved.objects[0]?.instances.count == 1)  // the bootstrap account only
        #expect(saved.objects[1]?.instances.isEmpty == true)
        // No server left: bootstrap again, and register with what it provides.
        #expect(world.run(until: .seconds(30)) { $0.client.registeredServers == [101] })
        #expect(bs.requests.count == 2)
        #expect(dm.registrations.count == 2)
    }

    @Test func underAccessControlAServerDeletingItsAccountLeavesTheOtherServerManaged() throws {
        let otherURI = "coap://other.example:5683"
        var state = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 0, uri: serverURI, bootstrap: false, ssid: 101)
                + Accounts.securityRecords(instance: 1, uri: otherURI, bootstrap: false, ssid: 102),
            servers: Accounts.serverRecords(instance: 0, ssid: 101) + Accounts.serverRecords(instance: 1, ssid: 102))
        // Each server owns the ACL instance of its Server instance; both may read /3/0.
        var acl = ObjectSnapshot()
        func aclInstance(_ id: UInt16, object: Int64, instance: Int64, owner: Int64, rights: [UInt16: Int64] = [:]) throws {
            var records = [LwM2MRecord(LwM2MPath(2, id, 0), .integer(object)),
                           LwM2MRecord(LwM2MPath(2, id, 1), .integer(instance)),
                           LwM2MRecord(LwM2MPath(2, id, 3), .integer(owner))]
            for (ssid, bits) in rights { records.append(LwM2MRecord(LwM2MPath(2, id, 2, ssid), .integer(bits))) }
            acl.instances[id] = try ResourceContent.grouping(records, definition: OMAObjects.definition(2)!)
        }
        try aclInstance(0, object: 1, instance: 0, owner: 101)
        try aclInstance(1, object: 1, instance: 1, owner: 102)
        try aclInstance(2, object: 3, instance: 0, owner: 65535, rights: [0: 1])
        state.objects[2] = acl
        var world = ClientHarness(factory: factoryServerOnly, state: state)
        let dm = FakeManagementServer()
        let other = FakeManagementServer()
        world.servers = [serverURI: dm, otherURI: other]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers.sorted() == [101, 102] })
        // Server 102 may not delete 101's account; 101 may delete its own.
        #expect(world.ask(other, request(.delete, LwM2MPath(1, 0)))?.code == .unauthorized)
        #expect(world.ask(dm, request(.delete, LwM2MPath(1, 0)))?.code == .deleted)
        #expect(dm.deregistrations.count == 1)
        #expect(world.client.registeredServers == [102])
        let saved = try #require(world.saved.last)
        #expect(saved.objects[0]?.instances.keys.sorted() == [1])
        #expect(saved.objects[1]?.instances.keys.sorted() == [1])
        #expect(saved.objects[2]?.instances.keys.sorted() == [1, 2])
        #expect(consistent(saved))
        // One server left: access control is off, and 102 keeps its rights.
        #expect(world.ask(other, request(.get, LwM2MPath(3, 0), accept: ContentFormat.senmlJSON))?.code == .content)
        #expect(other.deregistrations.isEmpty)
    }

    @Test func withoutABootstrapAccountTheLastServerDeletingItselfLeadsToTheFactoryAccounts() {
        var world = ClientHarness(factory: factoryServerOnly, state: serverOnly)
        let dm = FakeManagementServer()
        let factoryDM = FakeManagementServer()
        world.servers = [serverURI: dm, factoryServerURI: factoryDM]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        #expect(world.ask(dm, request(.delete, LwM2MPath(1, 0)))?.code == .deleted)
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [201] })
        #expect(dm.deregistrations.count == 1)
        #expect(world.eventNames().contains("no usable server or bootstrap account in the configuration: using the factory accounts"))
        #expect(world.saved.last == factoryServerOnly.withEmptyAccessControl)
    }

    @Test func aSavedConfigurationWithoutAUsableAccountUsesTheFactoryAccounts() {
        // What the old client saved after a Delete of /1/0: an orphan Security instance.
        let orphan = Accounts.snapshot(security: Accounts.securityRecords(instance: 0, uri: serverURI, bootstrap: false, ssid: 101))
        var world = ClientHarness(factory: factoryServerOnly, state: orphan)
        let factoryDM = FakeManagementServer()
        world.servers = [factoryServerURI: factoryDM]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [201] })
        #expect(!world.eventNames().contains("no bootstrap or server account configured: nothing to do"))
    }

    @Test func aSavedConfigurationWithOnlyABootstrapAccountBootstraps() {
        var world = ClientHarness(factory: factoryServerOnly, state: bootstrapOnly)
        let bs = FakeBootstrapServer(plan: Accounts.plan(serverURI: serverURI, ssid: 101))
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        #expect(bs.requests.count == 1)
    }

    // Issue 17: Reads (GET, FETCH) are answered without the guard's snapshots and without the
    // accounts check; they are answered as before and change nothing.
    @Test func readsOfTheConfigurationAreAnsweredWithoutTheGuardsChecks() throws {
        for code in [CoAPCode.get, .fetch] {
            #expect(!ConfigurationGuard.mayChange(CoAPMessage(type: .confirmable, code: code, messageID: 1)))
        }
        for code in [CoAPCode.put, .post, .delete, .iPatch] {
            #expect(ConfigurationGuard.mayChange(CoAPMessage(type: .confirmable, code: code, messageID: 1)))
        }
        var (world, _, dm) = registeredWorld()
        let before = world.client.servers.snapshot()
        let lifetime = world.ask(dm, request(.get, LwM2MPath(1, 1, 1), accept: ContentFormat.textPlain))
        #expect(lifetime?.code == .content)
        #expect(lifetime.map { String(decoding: $0.payload, as: UTF8.self) } == "300")
        #expect(world.ask(dm, request(.get, LwM2MPath(1), accept: ContentFormat.lwm2mTLV))?.code == .content)
        #expect(world.ask(dm, request(.get, LwM2MPath(0), accept: ContentFormat.lwm2mTLV))?.code == .unauthorized)
        #expect(world.client.servers.snapshot() == before)
        #expect(world.client.registeredServers == [101])
        // A Write that would break the configuration is still refused by the guard.
        let answer = world.ask(dm, request(.put, LwM2MPath(1, 1, 1), format: ContentFormat.textPlain, payload: text("0")))
        #expect(answer?.code == .badRequest)
    }

    // Defect 8: Lifetime 0, −5 and 2^32 were accepted; the Update then carried lt=-5, every second.
    @Test(arguments: ["0", "-5", "4294967296", "2147483648"])
    func lifetimeOutOfRangeIsRefused(value: String) {
        var (world, _, dm) = registeredWorld()
        let answer = world.ask(dm, request(.put, LwM2MPath(1, 1, 1), format: ContentFormat.textPlain, payload: text(value)))
        #expect(answer?.code == .badRequest)
        #expect(answer.map { String(decoding: $0.payload, as: UTF8.self) }?.contains("Lifetime") == true)
        world.run(for: .seconds(20))
        #expect(dm.updates.isEmpty)
        #expect(ServerSettings(instance: 1, object: world.client.servers)?.lifetime == 300)
    }

    @Test func aLifetimeInRangeIsTakenAndAnnouncedOnce() {
        var (world, _, dm) = registeredWorld()
        #expect(world.ask(dm, request(.put, LwM2MPath(1, 1, 1), format: ContentFormat.textPlain, payload: text("60")))?.code
            == .changed)
        world.run(for: .seconds(5))
        #expect(dm.updates.map(\.uriQuery) == [["lt=60"]])
    }

    @Test func aSavedOutOfRangeLifetimeNeverMakesUpdatesSpin() {
        var state = serverOnly
        state.objects[1]!.instances[0]![1] = .single(.integer(-5))
        var world = ClientHarness(factory: factoryServerOnly, state: state)
        let dm = FakeManagementServer()
        world.servers = [serverURI: dm]
        world.start()
        #expect(world.run(until: .seconds(5)) { $0.client.registeredServers == [101] })
        #expect(dm.registrations.first?.uriQuery.contains("lt=86400") == true)
        world.run(for: .seconds(120))
        #expect(dm.updates.isEmpty)
    }

    @Test(arguments: ["X", "", "T"])
    func aBindingThatWouldBreakTheAccountIsRefused(binding: String) {
        var (world, _, dm) = registeredWorld()
        let answer = world.ask(dm, request(.put, LwM2MPath(1, 1, 7), format: ContentFormat.textPlain, payload: text(binding)))
        #expect(answer?.code == .badRequest)
        #expect(ServerSettings(instance: 1, object: world.client.servers)?.binding == "U")
        #expect(world.saved.allSatisfy(consistent))
    }

    // Defect 11: Update sent `b=UQ` while Register sent `b=U&Q`.
    @Test func bindingChangesUseThe11FormAndQueueModeReRegisters() {
        var (world, _, dm) = registeredWorld()
        #expect(world.ask(dm, request(.put, LwM2MPath(1, 1, 7), format: ContentFormat.textPlain, payload: text("UQ")))?.code
            == .changed)
        world.run(for: .seconds(1))
        #expect(dm.registrations.count == 2)
        #expect(dm.registrations.last.map { Array($0.uriQuery.suffix(2)) } == ["b=U", "Q"])
        #expect(world.ask(dm, request(.put, LwM2MPath(1, 1, 7), format: ContentFormat.textPlain, payload: text("U")))?.code
            == .changed)
        world.run(for: .seconds(1))
        #expect(dm.registrations.count == 3)
        #expect(dm.registrations.last?.uriQuery.last == "b=U")
        let everything = world.sentByClient.flatMap { $0.1.uriQuery }
        #expect(!everything.contains("b=UQ"))
    }

    // Defect 11: Leshan (1.1) decoded /1/x as opaque bytes: Server 1.2 is an LwM2M 1.2 object.
    @Test func theServerObjectIsServedAsVersion11() throws {
        var (world, _, dm) = registeredWorld()
        let links = String(decoding: try #require(dm.registrations.first).payload, as: UTF8.self)
        #expect(links.contains("</1>;ver=1.1,</1/1>"))
        #expect(links.contains("</3>;ver=1.2,"))  // Device 1.2 is an LwM2M 1.1 object
        let read = world.ask(dm, request(.get, LwM2MPath(1, 1), accept: ContentFormat.lwm2mTLV))
        let answer = try #require(read)
        #expect(answer.code == .content)
        let records = try PayloadCodec.decode(answer.payload, base: LwM2MPath(1, 1), format: ContentFormat.lwm2mTLV,
                                              schema: .oma)
        let resources = Set(records.compactMap(\.path.resourceID))
        #expect(resources.contains(0) && resources.contains(1) && resources.contains(7))
        // Nothing Server 1.1 lacks (24–27) or reserves to the bootstrap server (13–20).
        #expect(resources.allSatisfy { $0 < 13 || (21...23).contains($0) })
    }

    // Defect 12: Bootstrap-Discover quoted the URI twice.
    @Test func bootstrapDiscoverQuotesTheURIOnce() throws {
        var world = ClientHarness(factory: bootstrapOnly)
        let discover = request(.get, .root, accept: ContentFormat.linkFormat)
        let plan = Accounts.plan(serverURI: serverURI, ssid: 101)
        let bs = FakeBootstrapServer(plan: Array(plan.dropLast()) + [discover, plan.last!])
        world.servers = [bootstrapURI: bs, serverURI: FakeManagementServer()]
        world.start()
        #expect(world.run(until: .seconds(10)) { $0.client.registeredServers == [101] })
        let answer = try #require(bs.responses.first { $0.0.options.contains(CoAPOption(.accept, uint: 40)) }?.1)
        let text = String(decoding: answer.payload, as: UTF8.self)
        #expect(text.contains("</0/1>;ssid=101;uri=\"coap://dm.example:5683\""), "\(text)")
        let entries = try LinkFormat.decode(answer.payload)
        #expect(entries.first { $0.target == "/0/1" }?.attribute("uri") == .some("coap://dm.example:5683"))
    }
}

extension ConfigurationSnapshot {
    /// As the client persists it: objects 0, 1 and 2.
    var withEmptyAccessControl: ConfigurationSnapshot {
        var copy = self
        if copy.objects[2] == nil { copy.objects[2] = ObjectSnapshot() }
        return copy
    }
}
