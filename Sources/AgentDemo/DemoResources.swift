import AgentCommon
import CoAP
import Glibc
import LwM2M

/// A small resource tree served by `lwm2m-demo`: enough to exercise every engine
/// feature from an independent client (libcoap's `coap-client`): discovery, Block2 reads,
/// Block1 writes, Observe, and an Execute-like POST that must never run twice.
///
/// | path | methods | what |
/// |---|---|---|
/// | /.well-known/core | GET | CoRE link format listing |
/// | /demo/hello | GET | a short text |
/// | /demo/large | GET | 4096 bytes of text (Block2) |
/// | /demo/store | GET, PUT, DELETE | a writable body up to the endpoint's limit (Block1) |
/// | /demo/counter | GET (+Observe) | a number that increments every `tickInterval` |
/// | /demo/execute | POST | counts executions |
/// | /3/0 | LwM2M operations | a Device object (Read in TLV, SenML JSON/CBOR, …; Write, Execute, Discover, Write-Attributes, Observe) |
/// | /32769/0 | LwM2M operations | a package sink: Write /32769/0/0 block-wise streams (`DemoPackageObject`) |
/// | /3311/0 | LwM2M operations | a Light Control object (writable, multi-instance: Create, Delete, Write-Replace) |
/// | / | FETCH, iPATCH | LwM2M Read-/Observe-Composite and Write-Composite (SenML JSON / CBOR) |
///
/// The Device object changes so LwM2M observations fire: Current Time (/3/0/13) follows the
/// clock on every tick, Battery Level (/3/0/9) drops by 1 every 10 ticks (back to 100 after 0).
public struct DemoResources {
    public private(set) var counter: UInt32 = 0
    public private(set) var executions = 0
    public private(set) var store: [UInt8] = Array("edit me".utf8)
    private var counterObservers: [ObservationID] = []
    public let tickInterval: Duration
    public private(set) var nextTick: Instant
    /// The LwM2M objects served under /<object id>: a Device object whose Current Time and
    /// Battery Level move on with the ticks.
    public let registry = ObjectRegistry()
    /// Whoever talks to the demo, as one management server with full rights: its attributes
    /// and observations.
    public internal(set) var session: ManagementSession
    /// The notification attributes attached with Write-Attributes.
    public var attributes: AttributeStore { session.attributes }
    /// The observations of LwM2M paths and their reporting rules.
    public var reporting: ReportingEngine { session.reporting }
    /// The Device object, updated on every tick.
    let device: StaticObject
    /// Current Time (/3/0/13) at `start`, and the battery level now.
    let startTime: Int64
    let start: Instant
    public internal(set) var batteryLevel: Int64
    /// When `tick` must run next: the next counter tick or the next LwM2M notification deadline,
    /// whichever comes first. Pass it to the run loop.
    public var nextDeadline: Instant {
        guard let reportingDeadline = session.nextDeadline else { return nextTick }
        return min(nextTick, reportingDeadline)
    }
    /// Reboot (/3/0/4) executions, which the demo only counts.
    public var rebootRequests: Int { rebootCounter.count }

    public static let large: [UInt8] = {
        var text = ""
        for line in 0..<128 {
            let number = String(line + 1000).dropFirst()
            text += "line \(number) of the demo data".padding(toLength: 32)
        }
        return Array(text.utf8)
    }()

    public init(tickInterval: Duration = .seconds(1), now: Instant) {
        self.tickInterval = tickInterval
        nextTick = now + tickInterval
        let rebootCounter = RebootCounter()
        let info = DeviceInfo.demo
        startTime = Int64(time(nil))
        start = now
        batteryLevel = info.batteryLevel
        device = DeviceSnapshot.make(info: info, currentTime: startTime, reboot: { rebootCounter.count += 1 })
        registry.register(device)
        registry.register(Self.makeLight())
        registry.register(package)
        _ = registry.takeChanges()
        session = ManagementSession(registry: registry)
        self.rebootCounter = rebootCounter
    }

    private let rebootCounter: RebootCounter
    /// The demo object taking streamed writes (/32769/0/0).
    public let package = DemoPackageObject()

    /// What the endpoint needs to stream writes of the demo's streaming resources: pass it as
    /// `EndpointConfiguration.block1Streaming.rules`.
    public var block1StreamRules: [Block1StreamRule] { registry.block1StreamRules }

    /// The endpoint abandoned a streamed upload: the object drops what it received.
    public mutating func uploadAbandoned<Peer>(_ upload: AbandonedUpload<Peer>) {
        session.uploadAbandoned(upload, registry: registry)
    }

    public var observerCount: Int { counterObservers.count }

    /// Answers one request.
    public mutating func handle<Peer>(
        _ request: IncomingRequest<Peer>, endpoint: inout CoAPEndpoint<Peer>, at now: Instant
    ) {
        let message = request.message
        let response: CoAPResponse
        switch (message.path, message.code) {
        case ("/.well-known/core", .get):
            response = Self.text(Self.linkFormat, format: ContentFormat.linkFormat, accept: message.accept)
        case ("/demo/hello", .get):
            response = Self.text(Array("Hello from lwm2m-agentd".utf8), format: ContentFormat.textPlain, accept: message.accept)
        case ("/demo/large", .get):
            response = Self.text(Self.large, format: ContentFormat.textPlain, accept: message.accept)
        case ("/demo/store", .get):
            response = Self.text(store, format: ContentFormat.octetStream, accept: message.accept)
        case ("/demo/store", .put):
            store = message.payload
            response = CoAPResponse(.changed)
        case ("/demo/store", .delete):
            store = []
            response = CoAPResponse(.deleted)
        case ("/demo/counter", .get):
            response = Self.text(Array(String(counter).utf8), format: ContentFormat.textPlain, accept: message.accept)
            if request.observe == .register, response.code == .content {
                if let id = endpoint.respond(to: request.exchange, with: response, acceptObservation: true, at: now) {
                    counterObservers.append(id)
                }
                return
            }
        case ("/demo/execute", .post):
            executions += 1
            response = CoAPResponse(.changed, payload: Array("executions=\(executions)".utf8))
        case ("/.well-known/core", _), ("/demo/hello", _), ("/demo/large", _), ("/demo/store", _),
             ("/demo/counter", _), ("/demo/execute", _):
            response = .error(.methodNotAllowed, "\(message.code.name ?? message.code.description) not allowed on \(message.path)")
        default:
            if message.uriPath.isEmpty, message.code == .fetch || message.code == .iPatch {
                // Read-/Observe-Composite and Write-Composite address the root.
                return handleLwM2M(request, endpoint: &endpoint, at: now)
            } else if let first = message.uriPath.first, first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                // An LwM2M object path: the LwM2M responder answers it.
                return handleLwM2M(request, endpoint: &endpoint, at: now)
            } else {
                response = .error(.notFound, "no resource at \(message.path)")
            }
        }
        endpoint.respond(to: request.exchange, with: response, at: now)
    }

    /// Increments the counter when its interval has passed and notifies its observers
    /// (every tenth notification confirmable, so a vanished observer is noticed), updates the
    /// Device object, then sends the LwM2M notifications that are due (see `nextDeadline`).
    public mutating func tick<Peer>(endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        if now >= nextTick { advanceCounter(endpoint: &endpoint, at: now) }
        report(endpoint: &endpoint, at: now)
    }

    private mutating func advanceCounter<Peer>(endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        if tickInterval > .zero {
            while nextTick <= now { nextTick += tickInterval }
        } else {
            nextTick = now + .nanoseconds(1)
        }
        counter &+= 1
        let response = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array(String(counter).utf8))
        counterObservers.removeAll { !endpoint.notify($0, with: response, confirmable: counter % 10 == 0, at: now) }
        updateDevice(at: now)
    }

    /// Forgets an observation the endpoint reported as ended.
    public mutating func observationEnded(_ id: ObservationID) {
        counterObservers.removeAll { $0 == id }
        session.observationEnded(id)
    }

    static let linkFormat = Array((
        "</demo/hello>;rt=\"demo.text\";ct=0,</demo/large>;ct=0;sz=4096,</demo/store>;ct=42,"
        + "</demo/counter>;obs;ct=0,</demo/execute>,</3/0>;ver=1.2"
    ).utf8)

    /// Light Control (/3311) instance 0: On/Off true, Dimmer 50, Colour "warm white", Power
    /// factor 0.9 (read-only).
    static func makeLight() -> StaticObject {
        let light = StaticObject(definition: OMAObjects.definition(3311)!, instanceIDs: [0])
        try? light.set(LwM2MPath(3311, 0, 5850), .boolean(true))
        try? light.set(LwM2MPath(3311, 0, 5851), .integer(50))
        try? light.set(LwM2MPath(3311, 0, 5706), .string("warm white"))
        try? light.set(LwM2MPath(3311, 0, 5820), .float(0.9))
        return light
    }

    /// A 2.05 with `payload`, or 4.06 if the client's Accept asks for another format.
    static func text(_ payload: [UInt8], format: UInt16, accept: UInt16?) -> CoAPResponse {
        if let accept, accept != format {
            return .error(.notAcceptable, "only content format \(format) is available")
        }
        return CoAPResponse(.content, contentFormat: format, payload: payload)
    }
}

/// Counts Reboot executions (the Device object's closure outlives any copy of the struct).
private final class RebootCounter {
    var count = 0
}

extension String {
    /// Pads or cuts to exactly `length` characters, keeping a final newline.
    fileprivate func padding(toLength length: Int) -> String {
        let body = self.hasSuffix("\n") ? String(dropLast()) : self
        let cut = String(body.prefix(length - 1))
        return cut + String(repeating: ".", count: max(0, length - 1 - cut.count)) + "\n"
    }
}

extension DeviceInfo {
    /// The demo server's invented gateway (a USB-powered board with a backup battery): demo
    /// values, for `lwm2m-demo` only; the agent reports the real board (`DeviceObject`).
    public static let demo = DeviceInfo(manufacturer: "Open Source Gateways", modelNumber: "GW-A53", serialNumber: "GW53-000001",
                                        firmwareVersion: "1.0.0", deviceType: "Gateway", hardwareVersion: "rev B",
                                        softwareVersion: "0.1.0", powerSources: [1, 5], powerSourceVoltages: [3700, 5000],
                                        batteryLevel: 95, memoryFree: 65536, memoryTotal: 262_144)
}
