// Robustness: 20,000 random, structured-random and mutated datagrams (plus adversarial replies to
// our own requests) into an endpoint whose application answers everything. It must never trap,
// every datagram it emits must be valid CoAP, every ACK/RST must answer a CON it received, and
// afterwards it must still serve a normal GET correctly.
import Testing
@testable import CoAP

/// Seeded datagram generator for the endpoint robustness test.
struct EndpointFuzzGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: rng.next()) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }

    /// A message ID, often from a small range so duplicates happen.
    mutating func mid() -> UInt16 { chance(50) ? UInt16(int(48)) : UInt16(truncatingIfNeeded: rng.next()) }

    /// A token, often from a small set so observations and block transfers collide.
    mutating func token() -> [UInt8] { chance(60) ? [UInt8(int(6))] : bytes(int(9)) }

    static let body2500 = EP.body(2500, salt: 77)

    /// Valid datagrams of every kind the endpoint handles.
    mutating func valid() -> [UInt8] {
        let m = mid(), t = token()
        switch int(20) {
        case 0: return EP.datagram(EP.CON, EP.GET, mid: m, token: t, options: [.path("temp")])
        case 1: return EP.datagram(EP.NON, EP.GET, mid: m, token: t, options: [.path("temp")])
        case 2: return EP.datagram(EP.CON, EP.GET, mid: m, token: t, options: [.observe(0), .path("temp")])
        case 3: return EP.datagram(EP.CON, EP.GET, mid: m, token: t, options: [.observe(1), .path("temp")])
        case 4: return EP.datagram(EP.CON, EP.GET, mid: m, token: t, options: [.path("big")])
        case 5:
            return EP.datagram(EP.CON, EP.GET, mid: m, token: t,
                               options: [.path("big"), .block2(UInt32(int(5)), more: false, szx: UInt8(int(7)))])
        case 6, 7, 8:
            let num = int(3)
            let end = min((num + 1) * 1024, 2500)
            var options: [EP.Opt] = [.path("fw"), .block1(UInt32(num), more: end < 2500, szx: 6)]
            if num == 0 { options.append(.size1(2500)) }
            return EP.datagram(chance(80) ? EP.CON : EP.NON, EP.PUT, mid: m, token: t, options: options,
                               payload: Array(Self.body2500[(num * 1024)..<end]))
        case 9: return EP.datagram(EP.CON, EP.POST, mid: m, token: t, options: [.path("3"), .path("0"), .path("4")])
        case 10: return EP.empty(EP.CON, mid: m)
        case 11: return EP.empty(EP.ACK, mid: m)
        case 12: return EP.empty(EP.RST, mid: m)
        case 13: return EP.datagram(EP.CON, EP.c205, mid: m, token: t, payload: bytes(int(20)))
        case 14: return EP.datagram(EP.NON, EP.c205, mid: m, token: t, options: [.observe(UInt32(int(100)))])
        case 15:
            return EP.datagram(EP.CON, 0x04, mid: m, token: t, options: [.path("1"), EP.Opt(15, Array("x=1".utf8))])
        case 16: return EP.datagram(EP.CON, 0x05, mid: m, token: t, options: [.path("temp")], payload: bytes(8))
        case 17: return EP.datagram(EP.CON, EP.GET, mid: m, token: t, options: [EP.Opt(9, [1]), .path("temp")])
        case 18: return EP.datagram(EP.CON, EP.GET, mid: m, token: t, options: [EP.Opt(35, Array("coap://h/".utf8))])
        default: return EP.datagram(EP.ACK, EP.c205, mid: m, token: t, payload: bytes(int(10)))
        }
    }

    static let interestingOptions: [UInt16] = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 20, 23, 27, 28, 35, 39, 60, 258, 2049, 65000]

    /// A well-encoded datagram with random header fields and random options.
    mutating func structured() -> [UInt8] {
        let type = UInt8(int(4))
        let codes: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x1F, 0x41, 0x44, 0x45, 0x5F, 0x82, 0x8D, 0xA0, byte()]
        let code = codes[int(codes.count)]
        var options: [EP.Opt] = []
        for _ in 0..<int(6) {
            let number = chance(85) ? Self.interestingOptions[int(Self.interestingOptions.count)] : UInt16(truncatingIfNeeded: rng.next())
            let value: [UInt8]
            switch number {
            case 23, 27:
                value = EP.uint(EP.blockRaw(UInt32(int(chance(80) ? 4 : 1 << 20)), chance(50), UInt8(int(8) & 7)))
            case 6, 28, 60, 12, 17, 14, 7:
                value = EP.uint(UInt32(truncatingIfNeeded: rng.next() >> UInt64(int(64))))
            case 11:
                value = Array(["temp", "big", "fw", "3", ""][int(5)].utf8)
            default:
                value = bytes(int(chance(90) ? 9 : 300))
            }
            options.append(EP.Opt(number, value))
        }
        options.sort { $0.number < $1.number }
        let payload = chance(50) ? [] : bytes(chance(90) ? int(64) : 1024 + int(64))
        return EP.datagram(type, code, mid: mid(), token: token(), options: options, payload: payload)
    }

    /// Random mutation of a valid datagram.
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var d = input
        for _ in 0..<(1 + int(4)) {
            switch int(9) {
            case 0 where !d.isEmpty:
                d[int(d.count)] ^= 1 << UInt8(int(8))
            case 1 where !d.isEmpty:
                d[int(d.count)] = byte()
            case 2:
                d.insert(byte(), at: int(d.count + 1))
            case 3 where !d.isEmpty:
                d.remove(at: int(d.count))
            case 4 where !d.isEmpty:
                d.removeLast(int(d.count) + 1)
            case 5:
                d += bytes(int(16))
            case 6 where !d.isEmpty:
                d[0] = (d[0] & 0xF0) | UInt8(int(16))  // token length nibble
            case 7 where d.count > 1:
                d[1] = byte()  // code
            case 8 where !d.isEmpty:
                d[0] = (d[0] & 0xCF) | UInt8(int(4)) << 4  // type
            default:
                break
            }
        }
        return d
    }

    /// A reply to a request we sent: matching MID and/or token, with random block options.
    mutating func reply(to request: CoAPMessage) -> [UInt8] {
        let codes: [UInt8] = [EP.c205, EP.c205, EP.c231, EP.c231, EP.c204, EP.c413, 0xA0, 0x84]
        let code = codes[int(codes.count)]
        var options: [EP.Opt] = []
        if chance(50) { options.append(EP.Opt(4, [UInt8(int(3))])) }
        if chance(50) { options.append(.uint(23, EP.blockRaw(UInt32(int(6)), chance(60), UInt8(int(7))))) }
        if chance(50) { options.append(.uint(27, EP.blockRaw(UInt32(int(6)), chance(60), UInt8(int(7))))) }
        if chance(20) { options.append(.size1(UInt32(int(5000)))) }
        let payload = bytes(chance(50) ? 1024 : int(300))
        switch int(5) {
        case 0: return EP.empty(EP.ACK, mid: request.messageID)
        case 1: return EP.empty(EP.RST, mid: request.messageID)
        case 2: return EP.datagram(EP.CON, code, mid: mid(), token: request.token.bytes, options: options, payload: payload)
        case 3: return EP.datagram(EP.NON, code, mid: mid(), token: request.token.bytes, options: options, payload: payload)
        default:
            return EP.datagram(EP.ACK, code, mid: request.messageID, token: request.token.bytes, options: options, payload: payload)
        }
    }
}

@Suite struct EndpointRobustnessTests {
    struct Key: Hashable {
        let peer: EPPeer
        let mid: UInt16
    }

    struct Stats {
        var requests = 0, malformed = 0, responses = 0, failures = 0, observations = 0, notifications = 0
        var resets = 0, acks = 0, sent = 0
    }

    /// 4 seeds × 5,000 = 20,000 datagrams.
    @Test(arguments: [0xF00D, 0xBEEF, 0xCAFE, 0x5EED] as [UInt64])
    func survivesRandomInput(seed: UInt64) throws {
        var configuration = EndpointConfiguration()
        if seed & 1 == 1 {
            configuration.duplicateCacheCapacity = 64
            configuration.blockCacheCapacity = 2
            configuration.maximumBodySize = 4096
            configuration.preferredBlockSZX = 4
        }
        let d = EndpointDriver(configuration: configuration, seed: seed, start: EP.at(0))
        var gen = EndpointFuzzGenerator(seed: seed)
        var receivedCON: Set<Key> = []
        var deferred: [ExchangeID] = []
        var observations: [ObservationID] = []
        var ourRequests: [(peer: EPPeer, message: CoAPMessage)] = []
        var stats = Stats()

        func checkOutput() {
            for (_, datagram) in d.takeTimed() {
                stats.sent += 1
                guard let message = EP.decode(datagram.bytes) else { continue }
                switch message.type {
                case .acknowledgement, .reset:
                    if message.type == .reset { stats.resets += 1 } else { stats.acks += 1 }
                    #expect(receivedCON.contains(Key(peer: datagram.peer, mid: message.messageID)),
                            "\(message.type) \(message.messageID) answers no CON received from \(datagram.peer)")
                    if message.type == .reset { #expect(message.isEmpty) }
                    if !message.isEmpty { #expect(message.code.isResponse) }
                case .confirmable, .nonConfirmable:
                    #expect(!message.isEmpty || message.type == .confirmable, "never an empty NON")
                    if message.code.isRequest { ourRequests.append((datagram.peer, message)) }
                    if ourRequests.count > 16 { ourRequests.removeFirst() }
                }
            }
        }

        func handleEvents() {
            for event in d.takeEvents() {
                switch event {
                case .request(let request):
                    stats.requests += 1
                    switch gen.int(10) {
                    case 0:
                        d.acknowledgeLater(request.exchange)
                        deferred.append(request.exchange)
                    case 1:
                        deferred.append(request.exchange)
                    default:
                        let big = request.message.path == "/big" || gen.chance(5)
                        let codes: [CoAPCode] = [.content, .content, .changed, .created, .notFound, .badRequest, .valid]
                        let code = request.observe == .register ? .content : codes[gen.int(codes.count)]
                        let payload = big ? EP.body(3000) : gen.bytes(gen.int(100))
                        if let id = d.respond(request.exchange, CoAPResponse(code, payload: payload)) {
                            observations.append(id)
                            stats.observations += 1
                        }
                    }
                case .response: stats.responses += 1
                case .requestFailed: stats.failures += 1
                case .malformedDatagram: stats.malformed += 1
                case .uploadAbandoned: Issue.record("no request streams in this test")
                case .observationEnded(let id, _): observations.removeAll { $0 == id }
                case .pong: break
                }
            }
        }

        for step in 0..<5_000 {
            let peer: EPPeer = gen.chance(50) ? .a : .b
            let datagram: [UInt8]
            switch gen.int(10) {
            case 0, 1: datagram = gen.bytes(gen.int(gen.chance(90) ? 40 : 1500))
            case 2, 3: datagram = gen.valid()
            case 4, 5: datagram = gen.structured()
            case 6 where !ourRequests.isEmpty:
                let target = ourRequests[gen.int(ourRequests.count)]
                datagram = gen.reply(to: target.message)
                d.receive(datagram, from: target.peer)
                if let h = MessageHeader(peeking: datagram), h.version == 1, h.type == .confirmable {
                    receivedCON.insert(Key(peer: target.peer, mid: h.messageID))
                }
                checkOutput()
                handleEvents()
                checkOutput()
                continue
            default: datagram = gen.mutate(gen.valid())
            }
            if let h = MessageHeader(peeking: datagram), h.version == 1, h.type == .confirmable {
                receivedCON.insert(Key(peer: peer, mid: h.messageID))
            }
            d.receive(datagram, from: peer)
            checkOutput()
            handleEvents()

            // The application's own activity.
            if !deferred.isEmpty, gen.chance(20) {
                let id = deferred.remove(at: gen.int(deferred.count))
                if let obs = d.respond(id, CoAPResponse(.content, payload: gen.bytes(gen.int(50)))) {
                    observations.append(obs)
                }
            }
            if !observations.isEmpty, gen.chance(10) {
                let id = observations[gen.int(observations.count)]
                let response = gen.chance(5) ? CoAPResponse.error(.notFound, "gone")
                    : CoAPResponse(.content, payload: gen.chance(10) ? EP.body(2000) : gen.bytes(gen.int(40)))
                if d.notify(id, response, confirmable: gen.chance(30)) { stats.notifications += 1 }
            }
            if gen.chance(3) {
                let target: EPPeer = gen.chance(50) ? .a : .b
                switch gen.int(4) {
                case 0: _ = d.ping(target)
                case 1: _ = d.send(CoAPRequest(.put, path: "/up", payload: EP.body(2500)), to: target)
                default: _ = d.send(CoAPRequest(.get, path: "/x", confirmable: gen.chance(70)), to: target)
                }
            }
            if gen.chance(30) {
                d.advance(by: gen.chance(2) ? .seconds(60 + gen.int(300)) : .milliseconds(gen.int(3000)))
            }
            checkOutput()
            handleEvents()
            checkOutput()
        }

        // Answer what is still pending and let every timer run out.
        while !deferred.isEmpty {
            d.respond(deferred.removeLast(), CoAPResponse(.changed))
            checkOutput()
        }
        handleEvents()
        d.advance(by: .seconds(2000))
        checkOutput()
        handleEvents()
        checkOutput()
        while !deferred.isEmpty {
            d.respond(deferred.removeLast(), CoAPResponse(.changed))
            checkOutput()
        }
        #expect(d.endpoint.pendingExchangeCount == 0)

        // The generator really exercised the endpoint.
        #expect(stats.requests > 300)
        #expect(stats.malformed > 500)
        #expect(stats.resets > 100)
        #expect(stats.acks > 500)
        #expect(stats.observations > 10)
        #expect(stats.notifications > 10)

        // A normal exchange still works exactly.
        d.advance(by: .seconds(1000))
        _ = d.take()
        _ = d.takeEvents()
        d.receive([0x41, 0x01, 0x7E, 0x57, 0xAA, 0xB4, 0x74, 0x65, 0x73, 0x74], from: .b)
        let request = try #require(d.takeRequest())
        #expect(request.message.path == "/test")
        d.respond(request.exchange, CoAPResponse(.content, contentFormat: 0, payload: Array("ok".utf8)))
        #expect(d.takeBytes() == [[0x61, 0x45, 0x7E, 0x57, 0xAA, 0xC0, 0xFF, 0x6F, 0x6B]])
        d.receive([0x40, 0x00, 0x7E, 0x58], from: .a)
        #expect(d.takeBytes() == [[0x70, 0x00, 0x7E, 0x58]])
        // And the client role too.
        let id = d.send(CoAPRequest(.get, path: "/after"), to: .a)
        let sent = try #require(d.takeOne())
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: sent.messageID, token: sent.token.bytes, payload: [1]), from: .a)
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.id) == [id])
    }
}
