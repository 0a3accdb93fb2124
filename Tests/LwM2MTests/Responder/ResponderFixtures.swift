import CoAP
@testable import LwM2M

// Shared by RequestHandlerTests and ObjectRegistryTests: a registry holding a Device object
// (/3) and a multi-instance test object (/32769), and request builders.

/// Counts executions of a closure.
final class Counter {
    var count = 0
}

/// A multi-instance object with one resource of each kind of access.
let testObjectDefinition = ObjectDefinition(
    id: 32769, name: "Test", version: "1.0", lwm2mVersion: "1.1", isMultiple: true, isMandatory: false,
    resources: [
        ResourceDefinition(id: 0, name: "Name", operations: [.read, .write], isMultiple: false, isMandatory: true,
                           type: .string),
        ResourceDefinition(id: 1, name: "Values", operations: [.read, .write], isMultiple: true, isMandatory: false,
                           type: .integer),
        ResourceDefinition(id: 2, name: "Secret", operations: [.write], isMultiple: false, isMandatory: false,
                           type: .opaque),
        ResourceDefinition(id: 3, name: "Trigger", operations: [.execute], isMultiple: false, isMandatory: false,
                           type: .none),
        ResourceDefinition(id: 4, name: "Level", operations: [.read], isMultiple: false, isMandatory: false,
                           type: .float),
    ])

/// The device's Current Time at start.
let startTime: Int64 = 1_700_000_000

struct Responder {
    let registry = ObjectRegistry()
    let device: StaticObject
    let test: StaticObject
    let reboots = Counter()
    let triggers = Counter()

    /// Device /3/0 with `DeviceInfo.fixture`; test object instance /32769/0 with Name "zero",
    /// Values [10, 20], Secret and Level 1.5. Change reports made while building are drained.
    init() throws {
        let reboots = reboots, triggers = triggers
        device = DeviceSnapshot.make(info: .fixture, currentTime: startTime, reboot: { reboots.count += 1 })
        test = StaticObject(definition: testObjectDefinition, instanceIDs: [0])
        try test.set(LwM2MPath(32769, 0, 0), .string("zero"))
        try test.set(LwM2MPath(32769, 0, 1), .multiple([0: .integer(10), 1: .integer(20)]))
        try test.set(LwM2MPath(32769, 0, 2), .opaque([1, 2, 3]))
        try test.set(LwM2MPath(32769, 0, 4), .float(1.5))
        test.onExecute(3) { _, _ in triggers.count += 1 }
        registry.register(device)
        registry.register(test)
        _ = registry.takeChanges()
    }

    func handle(_ message: CoAPMessage) -> CoAPResponse {
        RequestHandler().handle(message, registry: registry)
    }
}

/// A request for `path` ("/3/0/1"; segments are split on "/", so "/3/abc" stays two segments).
func request(_ code: CoAPCode, _ path: String, accept: UInt16? = nil, format: UInt16? = nil,
             payload: [UInt8] = [], query: [String] = []) -> CoAPMessage {
    var message = CoAPMessage(type: .confirmable, code: code, messageID: 1)
    message.uriPath = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    message.uriQuery = query
    message.accept = accept
    message.contentFormat = format
    message.payload = payload
    return message
}

func utf8(_ string: String) -> [UInt8] { Array(string.utf8) }

extension CoAPResponse {
    var contentFormat: UInt16? {
        options.first { $0.number == .contentFormat }?.uintValue.flatMap { UInt16(exactly: $0) }
    }

    var text: String { String(decoding: payload, as: UTF8.self) }

    var locationPath: [String] { options.filter { $0.number == .locationPath }.map(\.stringValue) }
}
