import CoAP
@testable import LwM2M
import Testing

/// A provider whose status the test sets; counts how often it is asked.
final class ScriptedConnectivity: ConnectivityProvider {
    var current: ConnectivityStatus
    private(set) var calls = 0

    init(_ status: ConnectivityStatus) { current = status }

    func status() -> ConnectivityStatus {
        calls += 1
        return current
    }
}

@Suite struct ConnectivityMonitoringObjectTests {
    private let ethernet = ConnectivityStatus(networkBearer: 41, availableBearers: [41, 21],
                                              ipAddresses: ["192.0.2.2", "fd00::2"], routerAddresses: ["192.0.2.1"])

    @Test func presentResourcesFollowWhatTheProviderKnows() throws {
        let provider = ScriptedConnectivity(ethernet)
        let object = ConnectivityMonitoringObject(provider: provider)
        let registry = ObjectRegistry()
        registry.register(object)
        #expect(provider.calls == 0)
        let records = try registry.records(at: LwM2MPath(4, 0))
        #expect(records == [
            LwM2MRecord(LwM2MPath(4, 0, 0), .integer(41)),
            LwM2MRecord(LwM2MPath(4, 0, 1, 0), .integer(41)), LwM2MRecord(LwM2MPath(4, 0, 1, 1), .integer(21)),
            LwM2MRecord(LwM2MPath(4, 0, 4, 0), .string("192.0.2.2")), LwM2MRecord(LwM2MPath(4, 0, 4, 1), .string("fd00::2")),
            LwM2MRecord(LwM2MPath(4, 0, 5, 0), .string("192.0.2.1")),
        ])
        #expect(provider.calls == 1)  // one status per request, not one per resource
        // Signal strength, link quality, utilisation, APN, cell fields: absent, 4.04.
        for resource: UInt16 in [2, 3, 6, 7, 8, 9, 10, 11, 12, 13] {
            let response = RequestHandler().handle(request(.get, "/4/0/\(resource)"), registry: registry)
            #expect(response.code == .notFound, "/4/0/\(resource)")
        }
        #expect(RequestHandler().handle(request(.get, "/4/1"), registry: registry).code == .notFound)
        #expect(RequestHandler().handle(request(.put, "/4/0/0", format: ContentFormat.textPlain, payload: utf8("21")),
                                        registry: registry).code == .methodNotAllowed)
    }

    @Test func readAtReadTime() {
        let provider = ScriptedConnectivity(ethernet)
        let registry = ObjectRegistry()
        registry.register(ConnectivityMonitoringObject(provider: provider))
        #expect(RequestHandler().handle(request(.get, "/4/0/0"), registry: registry).text == "41")
        provider.current = ConnectivityStatus(networkBearer: 21, availableBearers: [21], radioSignalStrength: -60,
                                              linkQuality: 50, ipAddresses: ["10.0.0.5"])
        #expect(RequestHandler().handle(request(.get, "/4/0/0"), registry: registry).text == "21")
        #expect(RequestHandler().handle(request(.get, "/4/0/2"), registry: registry).text == "-60")
        #expect(RequestHandler().handle(request(.get, "/4/0/5"), registry: registry).code == .notFound)
    }

    @Test func sampleReportsOnlyChangedResources() {
        let provider = ScriptedConnectivity(ethernet)
        let object = ConnectivityMonitoringObject(provider: provider)
        var changes: [LwM2MPath] = []
        object.changeHandler = { changes.append($0) }
        object.sample(now: 0)
        object.sample(now: 1)
        #expect(changes.isEmpty)
        provider.current.ipAddresses = ["192.0.2.3"]
        provider.current.routerAddresses = []
        object.sample(now: 2)
        #expect(changes == [LwM2MPath(4, 0, 4), LwM2MPath(4, 0, 5)])
    }

    @Test func emptyStatusKeepsTheMandatoryListsEmpty() throws {
        let registry = ObjectRegistry()
        registry.register(ConnectivityMonitoringObject(provider: ScriptedConnectivity(ConnectivityStatus())))
        #expect(try registry.records(at: LwM2MPath(4, 0)).isEmpty)
        let discover = RequestHandler().handle(request(.get, "/4/0", accept: ContentFormat.linkFormat), registry: registry)
        #expect(discover.text == "</4/0>,</4/0/1>;dim=0,</4/0/4>;dim=0")
    }
}
