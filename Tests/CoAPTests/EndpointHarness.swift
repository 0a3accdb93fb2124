// Shared helpers for the Endpoint*Tests suites: a virtual clock, a hand-fed single endpoint,
// a two-endpoint lossy "network", and an independent raw CoAP datagram builder so the
// message-layer tests check the RFC 7252 wire format rather than our own encoder.
import Testing
@testable import CoAP

// MARK: - Peers and aliases

enum EPPeer: Hashable, Sendable, CustomStringConvertible {
    case a, b
    var other: EPPeer { self == .a ? .b : .a }
    var description: String { self == .a ? "A" : "B" }
}

typealias EPEndpoint = CoAPEndpoint<EPPeer>
typealias EPEvent = EndpointEvent<EPPeer>
typealias EPRequest = IncomingRequest<EPPeer>

// MARK: - Raw wire format (RFC 7252 §3), written independently of MessageEncoder

enum EP {
    // Message types (2-bit T field).
    static let CON: UInt8 = 0, NON: UInt8 = 1, ACK: UInt8 = 2, RST: UInt8 = 3
    // Codes as the raw byte c.dd = c << 5 | dd.
    static let GET: UInt8 = 0x01, POST: UInt8 = 0x02, PUT: UInt8 = 0x03
    static let c201: UInt8 = 0x41, c204: UInt8 = 0x44, c205: UInt8 = 0x45, c231: UInt8 = 0x5F
    static let c402: UInt8 = 0x82, c404: UInt8 = 0x84, c405: UInt8 = 0x85, c408: UInt8 = 0x88
    static let c413: UInt8 = 0x8D, c505: UInt8 = 0xA5

    /// A raw option: number and value bytes.
    struct Opt {
        var number: UInt16
        var value: [UInt8]
        init(_ number: UInt16, _ value: [UInt8] = []) {
            self.number = number
            self.value = value
        }
        static func path(_ segment: String) -> Opt { Opt(11, Array(segment.utf8)) }
        static func uint(_ number: UInt16, _ value: UInt32) -> Opt { Opt(number, EP.uint(value)) }
        static func observe(_ value: UInt32) -> Opt { uint(6, value) }
        static func block1(_ num: UInt32, more: Bool, szx: UInt8) -> Opt { uint(27, EP.blockRaw(num, more, szx)) }
        static func block2(_ num: UInt32, more: Bool, szx: UInt8) -> Opt { uint(23, EP.blockRaw(num, more, szx)) }
        static func size1(_ value: UInt32) -> Opt { uint(60, value) }
    }

    /// Shortest big-endian uint (RFC 7252 §3.2).
    static func uint(_ value: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        var v = value
        while v > 0 {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        }
        return bytes
    }

    static func blockRaw(_ num: UInt32, _ more: Bool, _ szx: UInt8) -> UInt32 {
        num << 4 | (more ? 8 : 0) | UInt32(szx)
    }

    /// Builds a datagram byte by byte. `options` must be in ascending number order.
    static func datagram(
        _ type: UInt8, _ code: UInt8, mid: UInt16, token: [UInt8] = [], options: [Opt] = [], payload: [UInt8] = []
    ) -> [UInt8] {
        var out: [UInt8] = [0x40 | type << 4 | UInt8(token.count), code, UInt8(mid >> 8), UInt8(mid & 0xFF)]
        out += token
        var previous = 0
        for option in options {
            let delta = Int(option.number) - previous
            precondition(delta >= 0, "options must be sorted")
            previous = Int(option.number)
            let (dn, dx) = nibble(delta)
            let (ln, lx) = nibble(option.value.count)
            out.append(dn << 4 | ln)
            out += dx
            out += lx
            out += option.value
        }
        if !payload.isEmpty {
            out.append(0xFF)
            out += payload
        }
        return out
    }

    private static func nibble(_ value: Int) -> (UInt8, [UInt8]) {
        if value < 13 { return (UInt8(value), []) }
        if value < 269 { return (13, [UInt8(value - 13)]) }
        let x = value - 269
        return (14, [UInt8(x >> 8), UInt8(x & 0xFF)])
    }

    /// An empty message (ACK, RST or ping).
    static func empty(_ type: UInt8, mid: UInt16) -> [UInt8] {
        [0x40 | type << 4, 0x00, UInt8(mid >> 8), UInt8(mid & 0xFF)]
    }

    /// The message ID of a raw datagram.
    static func mid(_ bytes: [UInt8]) -> UInt16 { UInt16(bytes[2]) << 8 | UInt16(bytes[3]) }
    /// The T field of a raw datagram.
    static func type(_ bytes: [UInt8]) -> UInt8 { (bytes[0] >> 4) & 3 }

    /// A deterministic, non-repeating-looking body.
    static func body(_ count: Int, salt: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ $0 / 251 &+ salt &* 7) % 251) }
    }

    // MARK: Time

    /// An instant `seconds` after the virtual clock's origin.
    static func at(_ seconds: Double) -> Instant { Instant(nanoseconds: Int64((seconds * 1e9).rounded())) }
    static func seconds(_ instant: Instant) -> Double { Double(instant.nanoseconds) / 1e9 }
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Decodes with the library decoder; records an issue if the bytes are not valid CoAP.
    static func decode(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> CoAPMessage? {
        do {
            return try CoAPMessage(decoding: bytes)
        } catch {
            Issue.record("emitted datagram does not decode: \(error) \(bytes)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

// MARK: - Event accessors

extension EndpointEvent {
    var asRequest: IncomingRequest<Peer>? { if case .request(let r) = self { r } else { nil } }
    var asResponse: (id: RequestID, message: CoAPMessage)? {
        if case .response(let id, let m) = self { (id, m) } else { nil }
    }
    var asFailure: (id: RequestID, reason: RequestFailure)? {
        if case .requestFailed(let id, let r) = self { (id, r) } else { nil }
    }
    var asPong: RequestID? { if case .pong(let id) = self { id } else { nil } }
    var asObservationEnded: (id: ObservationID, reason: ObservationEnd)? {
        if case .observationEnded(let id, let r) = self { (id, r) } else { nil }
    }
    var asMalformed: (peer: Peer, error: CoAPDecodingError)? {
        if case .malformedDatagram(let p, let e) = self { (p, e) } else { nil }
    }
}

// MARK: - One endpoint fed by hand

/// One endpoint on a virtual clock; the test plays the remote peer with raw datagrams.
final class EndpointDriver {
    var endpoint: EPEndpoint
    private(set) var now: Instant
    /// Datagrams emitted and not yet taken, with the instant they were emitted.
    private(set) var outbox: [(at: Instant, datagram: OutgoingDatagram<EPPeer>)] = []
    /// Events emitted and not yet taken.
    private(set) var inbox: [(at: Instant, event: EPEvent)] = []
    /// Every datagram ever emitted.
    private(set) var allSent: [(at: Instant, datagram: OutgoingDatagram<EPPeer>)] = []

    init(configuration: EndpointConfiguration = EndpointConfiguration(), seed: UInt64 = 7, start: Instant = EP.at(1000)) {
        endpoint = EPEndpoint(configuration: configuration, seed: seed)
        now = start
    }

    func collect() {
        while let d = endpoint.nextDatagram() {
            outbox.append((now, d))
            allSent.append((now, d))
        }
        while let e = endpoint.nextEvent() { inbox.append((now, e)) }
    }

    func receive(_ bytes: [UInt8], from peer: EPPeer = .b) {
        endpoint.receive(bytes, from: peer, at: now)
        collect()
    }

    /// Takes the emitted datagrams.
    func take() -> [OutgoingDatagram<EPPeer>] {
        defer { outbox.removeAll() }
        return outbox.map(\.datagram)
    }

    /// Takes the emitted datagrams' bytes.
    func takeBytes() -> [[UInt8]] { take().map(\.bytes) }

    /// Takes the emitted datagrams with their instants.
    func takeTimed() -> [(at: Instant, datagram: OutgoingDatagram<EPPeer>)] {
        defer { outbox.removeAll() }
        return outbox
    }

    /// Takes the single emitted datagram, decoded; records an issue unless exactly one was sent.
    func takeOne(sourceLocation: SourceLocation = #_sourceLocation) -> CoAPMessage? {
        let sent = take()
        guard sent.count == 1 else {
            Issue.record("expected exactly one datagram, got \(sent.count)", sourceLocation: sourceLocation)
            return nil
        }
        return EP.decode(sent[0].bytes, sourceLocation: sourceLocation)
    }

    func takeEvents() -> [EPEvent] {
        defer { inbox.removeAll() }
        return inbox.map(\.event)
    }

    func takeTimedEvents() -> [(at: Instant, event: EPEvent)] {
        defer { inbox.removeAll() }
        return inbox
    }

    /// Takes the events and returns the single `.request` among them (records an issue otherwise).
    func takeRequest(sourceLocation: SourceLocation = #_sourceLocation) -> EPRequest? {
        let requests = takeEvents().compactMap(\.asRequest)
        guard requests.count == 1 else {
            Issue.record("expected exactly one .request event, got \(requests.count)", sourceLocation: sourceLocation)
            return nil
        }
        return requests[0]
    }

    /// Moves the clock to `instant`, firing every timer at its own deadline on the way.
    func advance(to instant: Instant) {
        while let deadline = endpoint.nextDeadline, deadline <= instant {
            now = max(now, deadline)
            endpoint.advance(to: now)
            collect()
        }
        now = max(now, instant)
        endpoint.advance(to: now)
        collect()
    }

    func advance(by duration: Duration) { advance(to: now + duration) }

    // Application calls, stamped with the driver's clock.

    @discardableResult
    func respond(_ id: ExchangeID, _ response: CoAPResponse, acceptObservation: Bool = true) -> ObservationID? {
        defer { collect() }
        return endpoint.respond(to: id, with: response, acceptObservation: acceptObservation, at: now)
    }

    func acknowledgeLater(_ id: ExchangeID) {
        endpoint.acknowledgeLater(id)
        collect()
    }

    @discardableResult
    func notify(_ id: ObservationID, _ response: CoAPResponse, confirmable: Bool = false) -> Bool {
        defer { collect() }
        return endpoint.notify(id, with: response, confirmable: confirmable, at: now)
    }

    func send(_ request: CoAPRequest, to peer: EPPeer = .b) -> RequestID {
        defer { collect() }
        return endpoint.send(request, to: peer, at: now)
    }

    func ping(_ peer: EPPeer = .b) -> RequestID {
        defer { collect() }
        return endpoint.ping(peer, at: now)
    }

    func cancel(_ id: RequestID) {
        endpoint.cancel(id, at: now)
        collect()
    }
}

// MARK: - Two endpoints on a lossy virtual network

/// Endpoint A (peer `.a`) and endpoint B (peer `.b`) exchanging datagrams with zero latency on
/// a virtual clock. Datagrams can be dropped by predicate or by a seeded loss rate; everything
/// sent is recorded (decoded). Each side's "application" may answer requests automatically.
final class EndpointNetwork {
    struct Delivery {
        let at: Instant
        let from: EPPeer
        let to: EPPeer
        let bytes: [UInt8]
        let message: CoAPMessage?
        var dropped: Bool
    }

    var a: EPEndpoint
    var b: EPEndpoint
    private(set) var now: Instant
    private(set) var log: [Delivery] = []
    private(set) var eventsA: [(at: Instant, event: EPEvent)] = []
    private(set) var eventsB: [(at: Instant, event: EPEvent)] = []
    /// Drop a datagram when this returns true.
    var dropWhen: ((Delivery) -> Bool)?
    /// Probability in [0, 1) that a datagram is lost, drawn from `lossRandom`.
    var lossRate: Double = 0
    var lossRandom = SplitMix64(seed: 0x1055)
    /// Probability that a delivered datagram is delivered a second time, later.
    var duplicateRate: Double = 0
    /// Probability that a datagram is held back for up to `maximumDelay` (so datagrams reorder).
    var delayRate: Double = 0
    var maximumDelay: Duration = .seconds(2)
    /// Datagrams held back, delivered at their instant.
    private var delayed: [(at: Instant, from: EPPeer, bytes: [UInt8])] = []
    /// The applications: answer a `.request` (nil leaves it to the test).
    var appA: ((EPRequest) -> CoAPResponse?)?
    var appB: ((EPRequest) -> CoAPResponse?)?

    init(
        a configurationA: EndpointConfiguration = EndpointConfiguration(),
        b configurationB: EndpointConfiguration = EndpointConfiguration(),
        seedA: UInt64 = 11, seedB: UInt64 = 22, start: Instant = EP.at(500)
    ) {
        a = EPEndpoint(configuration: configurationA, seed: seedA)
        b = EPEndpoint(configuration: configurationB, seed: seedB)
        now = start
    }

    func events(_ peer: EPPeer) -> [EPEvent] { (peer == .a ? eventsA : eventsB).map(\.event) }

    /// Messages `from` sent (dropped or not), decoded.
    func sent(by from: EPPeer, includingDropped: Bool = true) -> [CoAPMessage] {
        log.filter { $0.from == from && (includingDropped || !$0.dropped) }.compactMap(\.message)
    }

    func send(_ request: CoAPRequest, from peer: EPPeer = .a) -> RequestID {
        let id = peer == .a ? a.send(request, to: .b, at: now) : b.send(request, to: .a, at: now)
        pump()
        return id
    }

    /// Delivers queued datagrams and lets the applications answer, until nothing moves.
    func pump() {
        var moved = true
        while moved {
            moved = false
            while let d = a.nextDatagram() { deliver(from: .a, d); moved = true }
            while let d = b.nextDatagram() { deliver(from: .b, d); moved = true }
            while let e = a.nextEvent() { handle(e, at: .a); moved = true }
            while let e = b.nextEvent() { handle(e, at: .b); moved = true }
        }
    }

    private func handle(_ event: EPEvent, at peer: EPPeer) {
        if peer == .a { eventsA.append((now, event)) } else { eventsB.append((now, event)) }
        guard let request = event.asRequest else { return }
        if peer == .a, let response = appA?(request) {
            a.respond(to: request.exchange, with: response, at: now)
        } else if peer == .b, let response = appB?(request) {
            b.respond(to: request.exchange, with: response, at: now)
        }
    }

    private func deliver(from: EPPeer, _ datagram: OutgoingDatagram<EPPeer>) {
        let to = datagram.peer
        var delivery = Delivery(
            at: now, from: from, to: to, bytes: datagram.bytes,
            message: EP.decode(datagram.bytes), dropped: false)
        if to == from {
            Issue.record("\(from) addressed a datagram to itself")
        }
        if dropWhen?(delivery) == true {
            delivery.dropped = true
        } else if lossRate > 0, Double(lossRandom.next() >> 11) / Double(1 << 53) < lossRate {
            delivery.dropped = true
        }
        log.append(delivery)
        guard !delivery.dropped else { return }
        if duplicateRate > 0, chance(duplicateRate) {
            delayed.append((now + randomDelay(), from, datagram.bytes))
        }
        if delayRate > 0, chance(delayRate) {
            delayed.append((now + randomDelay(), from, datagram.bytes))
            return
        }
        handOver(datagram.bytes, from: from)
    }

    private func handOver(_ bytes: [UInt8], from: EPPeer) {
        if from == .b { a.receive(bytes, from: from, at: now) } else { b.receive(bytes, from: from, at: now) }
    }

    private func chance(_ p: Double) -> Bool { Double(lossRandom.next() >> 11) / Double(1 << 53) < p }

    private func randomDelay() -> Duration {
        .nanoseconds(Int64(lossRandom.next() % UInt64(max(1, maximumDelay.components.seconds * 1_000_000_000))))
    }

    /// Hands over the held-back datagrams that are due.
    private func deliverDelayed() {
        while let index = delayed.indices.min(by: { delayed[$0].at < delayed[$1].at }), delayed[index].at <= now {
            let item = delayed.remove(at: index)
            handOver(item.bytes, from: item.from)
            pump()
        }
    }

    /// Runs from deadline to deadline until `done()` or until `limit` of virtual time passes.
    /// Returns whether `done()` became true.
    @discardableResult
    func run(for limit: Duration = .seconds(3600), until done: () -> Bool) -> Bool {
        pump()
        let end = now + limit
        while !done() {
            let candidates = [a.nextDeadline, b.nextDeadline, delayed.map(\.at).min()].compactMap { $0 }
            guard let next = candidates.min(), next <= end else { return false }
            now = max(now, next)
            deliverDelayed()
            a.advance(to: now)
            b.advance(to: now)
            pump()
        }
        return true
    }

    /// Runs until A has a final event (response or failure) for `id`.
    @discardableResult
    func runUntilFinished(_ id: RequestID, for limit: Duration = .seconds(3600)) -> Bool {
        run(for: limit) { finalEvent(id) != nil }
    }

    /// A's `.response` or `.requestFailed` for `id`.
    func finalEvent(_ id: RequestID, at peer: EPPeer = .a) -> EPEvent? {
        events(peer).first { $0.asResponse?.id == id || $0.asFailure?.id == id }
    }
}
