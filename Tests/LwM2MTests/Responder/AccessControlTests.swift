@testable import CoAP
import Testing
@testable import LwM2M

/// Access Control (object 2) as enforced by `RequestHandler.handle(_:registry:server:attributes:)`.
@Suite struct AccessControlTests {
    let name = LwM2MPath(32769, 0, 0)

    func write(_ path: String, _ text: String) -> CoAPMessage {
        request(.put, path, format: ContentFormat.textPlain, payload: utf8(text))
    }

    @Test func oneServerHasEveryRightWithoutACLInstances() throws {
        let rig = try MultiServer([101])
        #expect(!AccessControl.isEnforced(in: rig.registry))
        #expect(rig.handle(request(.get, "/32769/0/0"), from: 101).text == "zero")
        #expect(rig.handle(write("/32769/0/0", "one"), from: 101).code == .changed)
        #expect(rig.handle(request(.delete, "/32769/0"), from: 101).code == .deleted)
    }

    @Test func twoServersWithoutACLInstanceAreUnauthorized() throws {
        let rig = try MultiServer()
        #expect(AccessControl.isEnforced(in: rig.registry))
        #expect(rig.handle(request(.get, "/32769/0/0"), from: 101).code == .unauthorized)
        #expect(rig.handle(write("/32769/0/0", "x"), from: 101).code == .unauthorized)
        #expect(rig.handle(request(.post, "/32769/0/3"), from: 101).code == .unauthorized)
        #expect(rig.handle(request(.delete, "/32769/0"), from: 102).code == .unauthorized)
        #expect(rig.handle(request(.put, "/32769/0/1", query: ["pmin=5"]), from: 101).code == .unauthorized)
        #expect(rig.responder.triggers.count == 0)
        #expect(try rig.registry.records(at: name) == [LwM2MRecord(name, .string("zero"))])
        // A missing target is 4.04, not a rights problem.
        #expect(rig.handle(request(.get, "/32769/9"), from: 101).code == .notFound)
        // The single-server entry point carries no identity: no access control.
        #expect(RequestHandler().handle(request(.get, "/32769/0/0"), registry: rig.registry).code == .content)
    }

    @Test func ownEntryThenOwnerThenDefault() throws {
        let rig = try MultiServer([101, 102, 103])
        try rig.addACL(0, object: 32769, objectInstance: 0, rights: [101: .read, 0: [.read, .write]], owner: 102)
        // 101: its own entry, read only.
        #expect(rig.handle(request(.get, "/32769/0/0"), from: 101).code == .content)
        #expect(rig.handle(write("/32769/0/0", "x"), from: 101).code == .unauthorized)
        // 102: owner without an entry, every right.
        #expect(rig.handle(request(.post, "/32769/0/3"), from: 102).code == .changed)
        #expect(rig.handle(write("/32769/0/0", "by owner"), from: 102).code == .changed)
        // 103: the default entry (ri 0): read and write, no execute or delete.
        #expect(rig.handle(write("/32769/0/0", "by default"), from: 103).code == .changed)
        #expect(rig.handle(request(.post, "/32769/0/3"), from: 103).code == .unauthorized)
        #expect(rig.handle(request(.delete, "/32769/0"), from: 103).code == .unauthorized)
        #expect(rig.responder.triggers.count == 1)
        #expect(try rig.registry.records(at: name) == [LwM2MRecord(name, .string("by default"))])
        // An owner with its own entry gets that entry, not full rights.
        try rig.addACL(0, object: 32769, objectInstance: 0, rights: [102: .read], owner: 102)
        #expect(rig.handle(request(.delete, "/32769/0"), from: 102).code == .unauthorized)
    }

    @Test func objectReadAndDiscoverListOnlyReadableInstances() throws {
        let rig = try MultiServer()
        try rig.responder.test.set(LwM2MPath(32769, 1, 0), .string("one"))
        try rig.addACL(0, object: 32769, objectInstance: 1, rights: [101: .read], owner: 102)
        let read = rig.handle(request(.get, "/32769", accept: ContentFormat.senmlJSON), from: 101)
        #expect(read.code == .content)
        let records = try PayloadCodec.decode(read.payload, base: LwM2MPath(32769), format: ContentFormat.senmlJSON,
                                              schema: rig.registry.schema)
        #expect(Set(records.map { $0.path.instanceID }) == [1])
        let discover = rig.handle(request(.get, "/32769", accept: ContentFormat.linkFormat), from: 101)
        #expect(discover.text.contains("</32769/1>"))
        #expect(!discover.text.contains("</32769/0"))
        // Server 102 owns /32769/1 but has no ACL instance for /32769/0.
        let other = rig.handle(request(.get, "/32769", accept: ContentFormat.senmlJSON), from: 102)
        let otherRecords = try PayloadCodec.decode(other.payload, base: LwM2MPath(32769), format: ContentFormat.senmlJSON,
                                                   schema: rig.registry.schema)
        #expect(Set(otherRecords.map { $0.path.instanceID }) == [1])
    }

    @Test func createNeedsTheObjectLevelRightAndMakesTheCreatorOwner() throws {
        let rig = try MultiServer()
        let payload = utf8(#"[{"n":"/32769/5/0","vs":"five"}]"#)
        let create = request(.post, "/32769", format: ContentFormat.senmlJSON, payload: payload)
        #expect(rig.handle(create, from: 101).code == .unauthorized)
        try rig.addACL(0, object: 32769, objectInstance: 65535, rights: [101: .create], owner: 65535)
        #expect(rig.handle(create, from: 102).code == .unauthorized)
        let created = rig.handle(create, from: 101)
        #expect(created.code == .created)
        #expect(created.locationPath == ["32769", "5"])
        // The new ACL instance: /32769/5 owned by 101.
        let entry = try #require(AccessControl.entries(in: rig.registry).first { $0.objectInstanceID == 5 })
        #expect(entry.objectID == 32769 && entry.owner == 101 && entry.acl.isEmpty)
        #expect(rig.handle(request(.get, "/32769/5/0"), from: 101).text == "five")
        #expect(rig.handle(request(.get, "/32769/5/0"), from: 102).code == .unauthorized)
        // The owner reads its ACL instance; the other server cannot.
        #expect(rig.handle(request(.get, "/2/\(entry.instance)/3"), from: 101).text == "101")
        #expect(rig.handle(request(.get, "/2/\(entry.instance)/3"), from: 102).code == .unauthorized)
        #expect(rig.handle(request(.delete, "/2/\(entry.instance)"), from: 101).code == .unauthorized)
        // Deleting the instance deletes its ACL instance.
        #expect(rig.handle(request(.delete, "/32769/5"), from: 101).code == .deleted)
        #expect(!AccessControl.entries(in: rig.registry).contains { $0.objectInstanceID == 5 })
        #expect(rig.acl.instanceIDs == [0])
    }

    @Test func notificationsCarryOnlyWhatTheServerMayRead() throws {
        let rig = try MultiServer()
        try rig.responder.test.set(LwM2MPath(32769, 1, 0), .string("one"))
        try rig.addACL(0, object: 32769, objectInstance: 1, rights: [101: .read], owner: 102)
        try rig.addACL(1, object: 32769, objectInstance: 0, rights: [101: .read], owner: 102)
        var engine = ReportingEngine()
        engine.server = ServerContext(shortServerID: 101)
        let store = AttributeStore()
        let t0 = Instant(nanoseconds: 1_000_000_000)
        let objectObservation = ObservationID(rawValue: 1), instanceObservation = ObservationID(rawValue: 2)
        engine.observe(path: LwM2MPath(32769), observation: objectObservation, format: ContentFormat.senmlJSON,
                       registry: rig.registry, attributes: store, at: t0)
        engine.observe(path: LwM2MPath(32769, 0), observation: instanceObservation, format: ContentFormat.senmlJSON,
                       registry: rig.registry, attributes: store, at: t0)
        // 101 loses Read on /32769/0: the object notification leaves it out, the instance
        // observation ends with 4.01.
        try rig.addACL(1, object: 32769, objectInstance: 0, rights: [101: .write], owner: 102)
        try rig.responder.test.set(LwM2MPath(32769, 0, 0), .string("changed"))
        try rig.responder.test.set(LwM2MPath(32769, 1, 0), .string("uno"))
        let notifications = engine.update(changed: rig.registry.takeChanges(), registry: rig.registry,
                                          attributes: store, at: t0 + .seconds(1))
        let byID = Dictionary(uniqueKeysWithValues: notifications.map { ($0.observation, $0.response) })
        #expect(byID[objectObservation]?.code == .content)
        #expect(byID[objectObservation]?.text.contains("changed") == false)
        #expect(byID[objectObservation]?.text.contains("uno") == true)
        #expect(byID[instanceObservation]?.code == .unauthorized)
        #expect(engine.observations == [objectObservation])
    }

    @Test func aclBitsMapToOperations() {
        #expect(AccessRights.read.rawValue == 1 && AccessRights.write.rawValue == 2
                && AccessRights.execute.rawValue == 4 && AccessRights.delete.rawValue == 8
                && AccessRights.create.rawValue == 16)
        #expect(AccessRights.all.rawValue == 31)
    }

    @Test func securityObjectStaysClosedUnderAccessControl() throws {
        let rig = try MultiServer()
        let security = StaticObject(definition: OMAObjects.definition(0)!, instanceIDs: [0])
        try security.set(LwM2MPath(0, 0, 5), .opaque(utf8("SECRET")))
        rig.registry.register(security)
        try rig.addACL(0, object: 0, objectInstance: 0, rights: [101: .all], owner: 101)
        for path in ["/0", "/0/0", "/0/0/5"] {
            let response = rig.handle(request(.get, path), from: 101)
            #expect(response.code == .unauthorized)
            #expect(!response.text.contains("SECRET"))
        }
    }

    @Test func serverDefaultsComeFromTheServersOwnInstance() throws {
        let rig = try MultiServer()
        var first = AttributeStore()
        first.loadServerDefaults(from: rig.registry, server: ServerContext(shortServerID: 101))
        #expect(first.defaults == NotificationAttributes(pmin: 1, pmax: 60))
        var second = AttributeStore(defaults: NotificationAttributes(pmin: 9))
        second.loadServerDefaults(from: rig.registry, server: ServerContext(shortServerID: 102))
        #expect(second.defaults.isEmpty)
        #expect(ServerContext(shortServerID: 102).serverInstance(in: rig.registry) == 1)
        #expect(ServerContext(shortServerID: 7).serverInstance(in: rig.registry) == nil)
    }

    @Test func writingTheDefaultPeriodsUpdatesThatServersStore() throws {
        let rig = try MultiServer([101])
        let write = request(.put, "/1/0/3", format: ContentFormat.textPlain, payload: utf8("90"))
        #expect(rig.handle(write, from: 101).code == .changed)
        #expect(rig.stores[101]?.defaults == NotificationAttributes(pmin: 1, pmax: 90))
        var engine = ReportingEngine()
        try rig.servers.set(LwM2MPath(1, 0, 6), .boolean(false))
        engine.loadServerSettings(from: rig.registry, server: ServerContext(shortServerID: 101))
        #expect(!engine.storesNotificationsWhenOffline)
    }

    /// A GET (Read, Discover, Observe) or FETCH changes no object: the server's defaults are not
    /// read again from its Server instance after one (they were after every request, the served
    /// Read's among them). A request that may change an object (a Write of /1/0/2) reloads them.
    @Test func onlyRequestsThatMayChangeAnObjectReloadTheDefaults() throws {
        let rig = try MultiServer([101])
        rig.stores[101] = AttributeStore(defaults: NotificationAttributes(pmin: 7))  // not what /1/0/2–3 hold
        #expect(rig.handle(request(.get, "/3/0/9"), from: 101).code == .content)
        #expect(rig.handle(request(.get, "/3/0/9", accept: ContentFormat.linkFormat), from: 101).code == .content)
        #expect(rig.stores[101]?.defaults == NotificationAttributes(pmin: 7))
        let write = request(.put, "/1/0/2", format: ContentFormat.textPlain, payload: utf8("2"))
        #expect(rig.handle(write, from: 101).code == .changed)
        #expect(rig.stores[101]?.defaults == NotificationAttributes(pmin: 2, pmax: 60))
    }

    @Test func attributesArePerServer() throws {
        let rig = try MultiServer([101])
        #expect(rig.handle(request(.put, "/3/0/9", query: ["pmin=5"]), from: 101).code == .changed)
        #expect(rig.stores[101]?.attributes(at: LwM2MPath(3, 0, 9)).pmin == 5)
        #expect(rig.stores[102] == nil)
        let discover = rig.handle(request(.get, "/3/0/9", accept: ContentFormat.linkFormat), from: 101)
        #expect(discover.text == "</3/0/9>;pmin=5")
        #expect(rig.handle(request(.get, "/3/0/9", accept: ContentFormat.linkFormat), from: 102).text == "</3/0/9>")
    }
}
