import CoAP
@testable import LwM2M
import Testing

/// Sends `message` through a handler holding `store`.
private func handle(_ responder: Responder, _ message: CoAPMessage, _ store: inout AttributeStore) -> CoAPResponse {
    RequestHandler().handle(message, registry: responder.registry, attributes: &store)
}

@Suite struct NotificationAttributesTests {
    // MARK: - Parsing

    @Test(arguments: [
        (["pmin=10"], AttributeChanges(set: NotificationAttributes(pmin: 10))),
        (["pmin=10", "pmax=60"], AttributeChanges(set: NotificationAttributes(pmin: 10, pmax: 60))),
        (["gt=20.5", "lt=-3", "st=0.25"], AttributeChanges(set: NotificationAttributes(gt: 20.5, lt: -3, st: 0.25))),
        (["gt=1e3"], AttributeChanges(set: NotificationAttributes(gt: 1000))),
        (["epmin=1", "epmax=30"], AttributeChanges(set: NotificationAttributes(epmin: 1, epmax: 30))),
        (["pmin"], AttributeChanges(removed: [.pmin])),
        (["pmax=0", "gt"], AttributeChanges(set: NotificationAttributes(pmax: 0), removed: [.gt])),
        ([], AttributeChanges()),
    ])
    func parsesQueryItems(query: [String], expected: AttributeChanges) throws {
        #expect(try AttributeChanges(query: query) == expected)
    }

    @Test(arguments: [
        ["foo=1"], ["dim=2"], ["PMIN=1"], [""], ["=5"], ["pmin=abc"], ["pmin=-1"], ["pmin=1.5"], ["pmin="],
        ["pmin=+1"], ["pmax=99999999999"], ["pmax=4294967296"], ["gt=abc"], ["gt=inf"], ["gt=nan"], ["gt=0x10"],
        ["gt="], ["lt=-"], ["st=."], ["pmin=1", "pmin=2"], ["gt", "gt=1"],
    ])
    func rejectsMalformedQueries(query: [String]) {
        do throws(LwM2MError) {
            _ = try AttributeChanges(query: query)
            Issue.record("\(query) was accepted")
        } catch {
            #expect(error.code == .badRequest)
        }
    }

    @Test func appliesChangesAndRemovals() throws {
        let current = NotificationAttributes(pmin: 5, pmax: 60, gt: 10)
        let changes = try AttributeChanges(query: ["pmax=30", "gt", "st=1"])
        #expect(changes.names == [.pmax, .gt, .st])
        #expect(changes.applied(to: current) == NotificationAttributes(pmin: 5, pmax: 30, st: 1))
    }

    // MARK: - Validation

    @Test(arguments: [
        (NotificationAttributes(), true),
        (NotificationAttributes(pmin: 10, pmax: 5), true),  // pmax ignored, not an error
        (NotificationAttributes(gt: 50, lt: 10), true),
        (NotificationAttributes(gt: 50, lt: 50), false),
        (NotificationAttributes(gt: 10, lt: 50), false),
        (NotificationAttributes(gt: 50, lt: 10, st: 19.5), true),
        (NotificationAttributes(gt: 50, lt: 10, st: 20), false),
        (NotificationAttributes(st: -1), false),
        (NotificationAttributes(st: 0), true),
        (NotificationAttributes(epmin: 5, epmax: 10), true),
        (NotificationAttributes(epmin: 10, epmax: 10), false),
        (NotificationAttributes(epmin: 11, epmax: 10), false),
        (NotificationAttributes(gt: 50, st: 100), true),  // without lt, st is unconstrained
    ])
    func validatesCombinations(attributes: NotificationAttributes, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try attributes.validate() }
        } else {
            #expect(throws: LwM2MError.self) { try attributes.validate() }
        }
    }

    @Test func pmaxIsIgnoredUnlessGreaterThanPmin() {
        #expect(NotificationAttributes(pmin: 10, pmax: 11).effectivePmax == 11)
        #expect(NotificationAttributes(pmin: 10, pmax: 10).effectivePmax == nil)
        #expect(NotificationAttributes(pmin: 10, pmax: 5).effectivePmax == nil)
        #expect(NotificationAttributes(pmax: 0).effectivePmax == nil)
        #expect(NotificationAttributes(pmax: 1).effectivePmax == 1)
    }

    // MARK: - Precedence

    @Test func moreSpecificLevelsWinAttributeByAttribute() {
        var store = AttributeStore(defaults: NotificationAttributes(pmin: 1, pmax: 300))
        store.setAttributes(NotificationAttributes(pmin: 5, pmax: 100, st: 9), at: LwM2MPath(32769))
        store.setAttributes(NotificationAttributes(pmax: 60), at: LwM2MPath(32769, 0))
        store.setAttributes(NotificationAttributes(gt: 50, lt: 10), at: LwM2MPath(32769, 0, 1))
        store.setAttributes(NotificationAttributes(pmin: 2, st: 2), at: LwM2MPath(32769, 0, 1, 0))
        // An unrelated instance and resource do not leak in.
        store.setAttributes(NotificationAttributes(pmin: 99), at: LwM2MPath(32769, 1))
        store.setAttributes(NotificationAttributes(gt: 99), at: LwM2MPath(32769, 0, 4))

        #expect(store.effective(for: LwM2MPath(32769, 0, 1, 0))
            == NotificationAttributes(pmin: 2, pmax: 60, gt: 50, lt: 10, st: 2))
        #expect(store.effective(for: LwM2MPath(32769, 0, 1, 1))
            == NotificationAttributes(pmin: 5, pmax: 60, gt: 50, lt: 10, st: 9))
        #expect(store.effective(for: LwM2MPath(32769, 0)) == NotificationAttributes(pmin: 5, pmax: 60, st: 9))
        #expect(store.effective(for: LwM2MPath(32769)) == NotificationAttributes(pmin: 5, pmax: 100, st: 9))
        #expect(store.effective(for: LwM2MPath(3, 0, 9)) == NotificationAttributes(pmin: 1, pmax: 300))
        #expect(store.inherited(for: LwM2MPath(3, 0, 9)).isEmpty)
        #expect(store.inherited(for: LwM2MPath(32769, 0, 1)) == NotificationAttributes(pmin: 5, pmax: 60, gt: 50, lt: 10, st: 9))
    }

    @Test func serverDefaultsComeFromTheServerObject() throws {
        let registry = ObjectRegistry()
        let server = StaticObject(definition: try #require(OMAObjects.definition(1)), instanceIDs: [0])
        try server.set(LwM2MPath(1, 0, 2), .integer(15))
        try server.set(LwM2MPath(1, 0, 3), .integer(600))
        registry.register(server)
        var store = AttributeStore()
        store.loadServerDefaults(from: registry, instance: 0)
        #expect(store.defaults == NotificationAttributes(pmin: 15, pmax: 600))
        store.setAttributes(NotificationAttributes(pmax: 60), at: LwM2MPath(1))
        #expect(store.effective(for: LwM2MPath(1, 0, 1)) == NotificationAttributes(pmin: 15, pmax: 60))

        store.loadServerDefaults(from: registry, instance: 7)  // no such instance
        #expect(store.defaults.isEmpty)
    }

    // MARK: - Link format

    @Test func rendersAsLinkAttributes() throws {
        let attributes = NotificationAttributes(pmin: 10, pmax: 60, gt: 50, lt: -42.2, st: 0.5, epmin: 1, epmax: 2)
        let entry = LinkEntry(path: LwM2MPath(3, 0, 9), attributes: attributes.linkAttributes)
        #expect(entry.description == "</3/0/9>;pmin=10;pmax=60;gt=50;lt=-42.2;st=0.5;epmin=1;epmax=2")
        #expect(NotificationAttributes().linkAttributes.isEmpty)
        #expect(NotificationAttributes.format(-0.0) == "0")
        #expect(NotificationAttributes.format(20.5) == "20.5")
    }

    // MARK: - Write-Attributes and Discover through the handler

    @Test func writeAttributesThenDiscoverListsThem() throws {
        let responder = try Responder()
        var store = AttributeStore()
        #expect(handle(responder, request(.put, "/3", query: ["pmin=10"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/3/0", query: ["pmax=60"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/3/0/9", query: ["gt=50", "lt=10", "st=2"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/3/0/7/1", query: ["st=100"]), &store).code == .changed)
        #expect(store.attributes(at: LwM2MPath(3, 0, 9)) == NotificationAttributes(gt: 50, lt: 10, st: 2))

        let object = handle(responder, request(.get, "/3", accept: ContentFormat.linkFormat), &store)
        #expect(object.code == .content)
        #expect(object.text.hasPrefix("</3>;pmin=10,</3/0>;pmax=60,</3/0/0>,"))
        #expect(object.text.contains(",</3/0/9>;gt=50;lt=10;st=2,"))

        let instance = handle(responder, request(.get, "/3/0", accept: ContentFormat.linkFormat), &store)
        #expect(instance.text.hasPrefix("</3/0>;pmax=60,</3/0/0>,"))
        #expect(instance.text.contains(",</3/0/7>;dim=2,"))
        #expect(instance.text.contains(",</3/0/9>;gt=50;lt=10;st=2,</3/0/10>,"))

        // A resource lists what it inherits from its instance and object as well.
        let resource = handle(responder, request(.get, "/3/0/9", accept: ContentFormat.linkFormat), &store)
        #expect(resource.text == "</3/0/9>;pmin=10;pmax=60;gt=50;lt=10;st=2")
        let multiple = handle(responder, request(.get, "/3/0/7", accept: ContentFormat.linkFormat), &store)
        #expect(multiple.text == "</3/0/7>;dim=2;pmin=10;pmax=60")

        // Removing an attribute (no value) and the store-less handler's plain Discover.
        #expect(handle(responder, request(.put, "/3/0/9", query: ["st", "lt"]), &store).code == .changed)
        #expect(handle(responder, request(.get, "/3/0/9", accept: ContentFormat.linkFormat), &store).text
            == "</3/0/9>;pmin=10;pmax=60;gt=50")
        #expect(responder.handle(request(.get, "/3/0/9", accept: ContentFormat.linkFormat)).text == "</3/0/9>")
    }

    @Test func gtLtStNeedANumericResource() throws {
        let responder = try Responder()
        var store = AttributeStore()
        for (path, query) in [("/3/0/0", "gt=1"), ("/3/0/16", "st=1"), ("/32769/0/0", "lt=1"), ("/32769/0/2", "gt=1"),
                              ("/3/0", "gt=1"), ("/3", "st=1")] {
            let response = handle(responder, request(.put, path, query: [query]), &store)
            #expect(response.code == .badRequest, "\(path)?\(query)")
        }
        #expect(store.attached.isEmpty)
        // Periods are fine on any level and any type; numeric resources and their instances take gt.
        #expect(handle(responder, request(.put, "/3/0/0", query: ["pmin=1"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/32769/0/4", query: ["gt=1.5"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/32769/0/1/1", query: ["lt=0"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/3/0/13", query: ["st=60"]), &store).code == .changed)  // Time
    }

    @Test func writeAttributesErrors() throws {
        let responder = try Responder()
        var store = AttributeStore()
        store.setAttributes(NotificationAttributes(gt: 50), at: LwM2MPath(3, 0, 9))
        let cases: [(String, [String], CoAPCode)] = [
            ("/3/0/9", ["lt=60"], .badRequest),  // lt must stay below the stored gt
            ("/3/0/9", ["lt=10", "st=20"], .badRequest),  // lt + 2*st = 50, not below gt
            ("/3/0/9", ["epmin=5", "epmax=5"], .badRequest),
            ("/3/0/9", ["unknown=1"], .badRequest),
            ("/3/0/9", ["pmin=ten"], .badRequest),
            ("/3/1", ["pmin=1"], .notFound),
            ("/4", ["pmin=1"], .notFound),
            ("/3/0/8", ["pmin=1"], .notFound),  // not present in the instance
            ("/3/0/7/5", ["pmin=1"], .notFound),  // no such resource instance
            ("/3/0/9/0", ["pmin=1"], .notFound),  // a single resource has no instances
            ("/", ["pmin=1"], .methodNotAllowed),
        ]
        for (path, query, code) in cases {
            #expect(handle(responder, request(.put, path, query: query), &store).code == code, "\(path)?\(query)")
        }
        #expect(store.attached == [LwM2MPath(3, 0, 9): NotificationAttributes(gt: 50)])
        let withPayload = request(.put, "/3/0/9", format: ContentFormat.textPlain, payload: utf8("1"), query: ["pmin=1"])
        #expect(handle(responder, withPayload, &store).code == .badRequest)
        // pmax not above pmin is accepted (and ignored when reporting).
        #expect(handle(responder, request(.put, "/3/0/9", query: ["pmin=10", "pmax=5"]), &store).code == .changed)
        // The store-less handler does not implement Write-Attributes.
        #expect(responder.handle(request(.put, "/3/0/9", query: ["pmin=1"])).code == .notImplemented)
    }

    @Test func deleteForgetsTheInstancesAttributes() throws {
        let responder = try Responder()
        var store = AttributeStore()
        #expect(handle(responder, request(.put, "/32769/0", query: ["pmin=3"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/32769/0/4", query: ["gt=3"]), &store).code == .changed)
        #expect(handle(responder, request(.put, "/32769", query: ["pmax=30"]), &store).code == .changed)
        #expect(handle(responder, request(.delete, "/32769/0"), &store).code == .deleted)
        #expect(store.attached == [LwM2MPath(32769): NotificationAttributes(pmax: 30)])
    }

    @Test func plainWriteIsStillAWrite() throws {
        let responder = try Responder()
        var store = AttributeStore()
        let write = request(.put, "/32769/0/0", format: ContentFormat.textPlain, payload: utf8("one"))
        #expect(handle(responder, write, &store).code == .changed)
        #expect(try responder.registry.records(at: LwM2MPath(32769, 0, 0)) == [LwM2MRecord(LwM2MPath(32769, 0, 0), .string("one"))])
        #expect(store.attached.isEmpty)
    }
}
