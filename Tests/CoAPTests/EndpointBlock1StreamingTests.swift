// Streamed Block1 uploads (server role, EndpointConfiguration.block1Streaming): every block goes
// to the application, which answers 2.31 or ends the upload; the engine keeps the order (4.08),
// the size limit (4.13 + Size1), restarts, repeats, expiry and the caps, and holds no body.
// Every test runs on a virtual clock; the test plays the uploading peers with raw datagrams.
import Testing
@testable import CoAP

/// One endpoint streaming PUTs to /fw/<anything>, fed raw Block1 datagrams by the test.
private final class StreamDriver {
    var endpoint: CoAPEndpoint<Int>
    var now = EP.at(1000)
    var mid: UInt16 = 0x2000
    /// Events other than requests, in order.
    var others: [EndpointEvent<Int>] = []

    init(_ configure: (inout EndpointConfiguration) -> Void = { _ in }) {
        var configuration = EndpointConfiguration()
        configuration.block1Streaming.rules = [Block1StreamRule(method: .put, path: ["fw", nil])]
        configure(&configuration)
        endpoint = CoAPEndpoint(configuration: configuration, seed: 11)
    }

    /// Sends block `num` of `body` (block size `16 << szx`) as a CON PUT; returns the replies.
    @discardableResult
    func send(_ body: [UInt8], _ num: UInt32, szx: UInt8 = 6, from peer: Int = 1, path: [String] = ["fw", "pkg"],
              size1: UInt32? = nil, newMID: Bool = true) -> [CoAPMessage] {
        let size = 16 << Int(szx)
        let start = min(Int(num) * size, body.count)
        let end = min(start + size, body.count)
        var options: [EP.Opt] = path.map { .path($0) }
        options.append(.block1(num, more: end < body.count, szx: szx))
        if let size1 { options.append(.size1(size1)) }
        if newMID { mid &+= 1 }
        endpoint.receive(EP.datagram(EP.CON, EP.PUT, mid: mid, token: [UInt8(truncatingIfNeeded: num)],
                                     options: options, payload: Array(body[start..<end])), from: peer, at: now)
        return replies()
    }

    func replies() -> [CoAPMessage] {
        var replies: [CoAPMessage] = []
        while let datagram = endpoint.nextDatagram() { if let m = EP.decode(datagram.bytes) { replies.append(m) } }
        return replies
    }

    /// The requests handed to the application since the last call (other events into `others`).
    func requests() -> [IncomingRequest<Int>] {
        var requests: [IncomingRequest<Int>] = []
        while let event = endpoint.nextEvent() {
            if let request = event.asRequest { requests.append(request) } else { others.append(event) }
        }
        return requests
    }

    /// Takes the abandonments reported since the last call.
    func abandoned() -> [AbandonedUpload<Int>] {
        _ = requests()
        defer { others.removeAll() }
        return others.compactMap { if case .uploadAbandoned(let upload) = $0 { upload } else { nil } }
    }

    /// Sends a block, expects it to reach the application, answers it with `code` and returns the
    /// single reply.
    func deliver(_ body: [UInt8], _ num: UInt32, szx: UInt8 = 6, from peer: Int = 1, answer code: CoAPCode = .continue,
                 sourceLocation: SourceLocation = #_sourceLocation) -> (IncomingRequest<Int>, CoAPMessage)? {
        let early = send(body, num, szx: szx, from: peer)
        #expect(early.isEmpty, "the engine answered by itself: \(early)", sourceLocation: sourceLocation)
        let requests = requests()
        guard requests.count == 1 else {
            Issue.record("expected one request, got \(requests.count)", sourceLocation: sourceLocation)
            return nil
        }
        endpoint.respond(to: requests[0].exchange, with: CoAPResponse(code), at: now)
        let sent = replies()
        guard sent.count == 1 else {
            Issue.record("expected one reply, got \(sent)", sourceLocation: sourceLocation)
            return nil
        }
        return (requests[0], sent[0])
    }

    func advance(by duration: Duration) {
        now += duration
        endpoint.advance(to: now)
    }
}

@Suite struct EndpointBlock1StreamingTests {
    static let body = EP.body(5 * 1024 + 300, salt: 4)

    @Test("each block reaches the application with its offset; its 2.31 (M=1) goes out only when the application says")
    func blockByBlock() throws {
        let d = StreamDriver()
        var received: [UInt8] = []
        for num in UInt32(0)...4 {
            let (request, reply) = try #require(d.deliver(Self.body, num))
            let block = try #require(request.streamedBlock)
            #expect(block.offset == Int64(num) * 1024 && !block.isLast)
            #expect(request.message.payload.count == 1024)
            received += request.message.payload
            #expect(reply.code == .continue)
            #expect(reply.block1 == BlockValue(number: num, more: true, szx: 6))
            #expect(d.endpoint.uploads.total == .init(), "no body in the reassembly table")
            #expect(d.endpoint.streams.count == 1)
        }
        // Not answered yet: nothing goes out.
        #expect(d.send(Self.body, 5).isEmpty)
        let last = try #require(d.requests().first)
        #expect(last.streamedBlock == StreamedBlock(block: BlockValue(number: 5, more: false, szx: 6), offset: 5120))
        received += last.message.payload
        #expect(received == Self.body)
        #expect(d.endpoint.streams.count == 0, "the last block ends the upload in the engine")
        d.endpoint.respond(to: last.exchange, with: CoAPResponse(.changed), at: d.now)
        let final = try #require(d.replies().first)
        #expect(final.code == .changed)
        #expect(final.block1 == BlockValue(number: 5, more: false, szx: 6))
        #expect(d.endpoint.pendingExchangeCount == 0)
    }

    @Test("an error answer ends the upload: its next block gets 4.08, and no abandonment is reported")
    func applicationRefuses() throws {
        let d = StreamDriver()
        _ = try #require(d.deliver(Self.body, 0))
        let (_, refusal) = try #require(d.deliver(Self.body, 1, answer: .requestEntityTooLarge))
        #expect(refusal.code == .requestEntityTooLarge)
        #expect(d.endpoint.streams.count == 0)
        #expect(d.send(Self.body, 2).map(\.code) == [.requestEntityIncomplete])
        #expect(d.requests().isEmpty)
        #expect(d.abandoned().isEmpty, "the application ended it itself")
    }

    @Test("a block out of order gets 4.08 and the application hears the upload was abandoned")
    func outOfOrder() throws {
        let d = StreamDriver()
        _ = try #require(d.deliver(Self.body, 0))
        _ = try #require(d.deliver(Self.body, 1))
        #expect(d.send(Self.body, 3).map(\.code) == [.requestEntityIncomplete])
        let abandoned = d.abandoned()
        #expect(abandoned.count == 1)
        #expect(abandoned.first?.reason == .outOfOrder)
        #expect(abandoned.first?.received == 2048)
        #expect(abandoned.first?.request.uriPath == ["fw", "pkg"])
        #expect(abandoned.first?.request.payload.isEmpty == true)
        #expect(d.send(Self.body, 2).map(\.code) == [.requestEntityIncomplete])
        #expect(d.abandoned().isEmpty, "reported once")
    }

    @Test("a block arriving while the application still answers the previous one is out of order")
    func overtakingBlock() throws {
        let d = StreamDriver()
        _ = try #require(d.deliver(Self.body, 0))
        #expect(d.send(Self.body, 1).isEmpty)
        let pending = try #require(d.requests().first)
        #expect(d.send(Self.body, 2).map(\.code) == [.requestEntityIncomplete])
        #expect(d.abandoned().map(\.reason) == [.outOfOrder])
        // The late answer still goes out, and changes nothing.
        d.endpoint.respond(to: pending.exchange, with: CoAPResponse(.continue), at: d.now)
        #expect(d.replies().map(\.code) == [.continue])
        #expect(d.endpoint.streams.count == 0)
    }

    @Test("block 0 again restarts the upload at offset 0, without an abandonment")
    func restart() throws {
        let d = StreamDriver()
        for num in UInt32(0)...2 { _ = try #require(d.deliver(Self.body, num)) }
        let other = EP.body(3000, salt: 8)
        let (request, reply) = try #require(d.deliver(other, 0))
        #expect(request.streamedBlock?.offset == 0)
        #expect(request.message.payload == Array(other[0..<1024]))
        #expect(reply.code == .continue)
        #expect(d.abandoned().isEmpty)
        #expect(d.endpoint.streams.count == 1)
        #expect(d.deliver(other, 1)?.1.code == .continue)
        #expect(d.send(other, 2).isEmpty)
        #expect(d.requests().first?.streamedBlock?.offset == 2048)
    }

    @Test("a body in one block goes to the application whole, ending an upload at the same key")
    func singleBlock() throws {
        let d = StreamDriver()
        _ = try #require(d.deliver(Self.body, 0))
        let small = EP.body(200)
        #expect(d.send(small, 0).isEmpty)
        let request = try #require(d.requests().first)
        #expect(request.streamedBlock == nil)
        #expect(request.message.payload == small)
        #expect(d.endpoint.streams.count == 0)
        #expect(d.abandoned().isEmpty)
    }

    @Test("retransmissions never reach the application twice: same message ID replays, a repeated block is re-answered")
    func duplicates() throws {
        let d = StreamDriver()
        _ = try #require(d.deliver(Self.body, 0))
        let (_, first) = try #require(d.deliver(Self.body, 1))
        // The same message again (our 2.31 was lost): the cached answer, byte for byte.
        let replay = d.send(Self.body, 1, newMID: false)
        #expect(replay.count == 1 && replay.first?.messageID == first.messageID && replay.first?.code == .continue)
        // The same block under a new message ID: 2.31 again from the engine.
        let again = d.send(Self.body, 1)
        #expect(again.map(\.code) == [.continue])
        #expect(again.first?.block1 == BlockValue(number: 1, more: true, szx: 6))
        #expect(d.requests().isEmpty, "not handed to the application again")
        // A repeat of a block the application is still answering is dropped.
        #expect(d.send(Self.body, 2).isEmpty)
        let pending = try #require(d.requests().first)
        #expect(d.send(Self.body, 2).isEmpty)
        #expect(d.send(Self.body, 2, newMID: false).isEmpty)
        #expect(d.requests().isEmpty)
        d.endpoint.respond(to: pending.exchange, with: CoAPResponse(.continue), at: d.now)
        #expect(d.replies().map(\.code) == [.continue])
        #expect(d.deliver(Self.body, 3)?.0.streamedBlock?.offset == 3072)
        #expect(d.abandoned().isEmpty)
    }

    @Test("an upload with no block for EXCHANGE_LIFETIME is abandoned, reported once, and never continued")
    func expiry() throws {
        let d = StreamDriver()
        _ = try #require(d.deliver(Self.body, 0))
        _ = try #require(d.deliver(Self.body, 1))
        d.advance(by: .seconds(246))
        #expect(d.abandoned().isEmpty)
        #expect(d.endpoint.nextDeadline != nil)
        d.advance(by: .seconds(1))
        let abandoned = d.abandoned()
        #expect(abandoned.map(\.reason) == [.expired] && abandoned.first?.received == 2048)
        #expect(d.endpoint.streams.count == 0)
        #expect(d.send(Self.body, 2).map(\.code) == [.requestEntityIncomplete])
        #expect(d.abandoned().isEmpty)

        // Expired before the timer fires: the late block is refused and the expiry reported once.
        let e = StreamDriver()
        _ = try #require(e.deliver(Self.body, 0))
        e.now += .seconds(300)  // no advance(to:): the timer has not run
        #expect(e.send(Self.body, 1).map(\.code) == [.requestEntityIncomplete])
        #expect(e.abandoned().map(\.reason) == [.expired])
        e.advance(by: .seconds(1))
        #expect(e.abandoned().isEmpty)
    }

    @Test("too large: Size1 beyond maximumBodySize gets 4.13 with Size1 at once; a block beyond it ends the upload")
    func tooLarge() throws {
        let d = StreamDriver { $0.block1Streaming.maximumBodySize = 3000 }
        let refused = d.send(Self.body, 0, size1: UInt32(Self.body.count))
        #expect(refused.map(\.code) == [.requestEntityTooLarge] && refused.first?.size1 == 3000)
        #expect(d.requests().isEmpty && d.endpoint.streams.count == 0)
        _ = try #require(d.deliver(Self.body, 0))
        _ = try #require(d.deliver(Self.body, 1))
        let dropped = d.send(Self.body, 2)
        #expect(dropped.map(\.code) == [.requestEntityTooLarge] && dropped.first?.size1 == 3000)
        #expect(d.abandoned().map(\.reason) == [.tooLarge])
        // A body of exactly the limit passes.
        let exact = EP.body(3000)
        _ = try #require(d.deliver(exact, 0))
        _ = try #require(d.deliver(exact, 1))
        #expect(d.deliver(exact, 2, answer: .changed)?.1.code == .changed)
    }

    @Test("bodies far beyond the reassembly limits stream through, the engine holding no body")
    func largeBody() throws {
        let d = StreamDriver()
        let blocks: UInt32 = 4096  // 4 MiB: four times maximumBodySize, twice block1Limits.bytes
        let chunk = EP.body(1024, salt: 2)
        for num in 0..<blocks {
            d.mid &+= 1
            d.endpoint.receive(EP.datagram(EP.CON, EP.PUT, mid: d.mid, token: [1], options: [
                .path("fw"), .path("img"), .block1(num, more: num + 1 < blocks, szx: 6)], payload: chunk), from: 1, at: d.now)
            guard let request = d.requests().first, request.streamedBlock?.offset == Int64(num) * 1024 else {
                Issue.record("block \(num) not delivered")
                return
            }
            d.endpoint.respond(to: request.exchange, with: CoAPResponse(num + 1 < blocks ? .continue : .changed), at: d.now)
            let reply = d.replies()
            if reply.first?.code != (num + 1 < blocks ? .continue : .changed) {
                Issue.record("block \(num): \(reply)")
                return
            }
            if d.endpoint.uploads.total != .init() || d.endpoint.streams.count > 1 {
                Issue.record("state held at block \(num)")
                return
            }
            d.now += .milliseconds(1)
        }
        #expect(d.endpoint.streams.count == 0 && d.endpoint.pendingExchangeCount == 0)
    }

    @Test("a smaller preferred block size is asked for in the 2.31, and the client's smaller blocks follow on")
    func blockSizeNegotiation() throws {
        let d = StreamDriver { $0.preferredBlockSZX = 4 }
        let (_, reply) = try #require(d.deliver(Self.body, 0))
        #expect(reply.block1 == BlockValue(number: 0, more: true, szx: 4))
        // The client goes on with 256-byte blocks: block 4 is at offset 1024.
        let (request, _) = try #require(d.deliver(Self.body, 4, szx: 4))
        #expect(request.streamedBlock?.offset == 1024 && request.message.payload.count == 256)
    }

    @Test("caps: another peer's upload to the same resource and the per-peer count get 5.03 + Max-Age")
    func caps() throws {
        let d = StreamDriver { $0.block1Streaming.uploadsPerPeer = 1 }
        _ = try #require(d.deliver(Self.body, 0, from: 1))
        d.advance(by: .seconds(7))
        let busy = d.send(Self.body, 0, from: 2)
        #expect(busy.map(\.code) == [.serviceUnavailable] && busy.first?.maxAge == 240)
        let second = d.send(Self.body, 0, from: 1, path: ["fw", "other"])
        #expect(second.map(\.code) == [.serviceUnavailable])
        #expect(d.requests().isEmpty)
        // Peer 1 carries on; once its upload ends, peer 2 may start.
        _ = try #require(d.deliver(Self.body, 1, from: 1))
        _ = try #require(d.deliver(Self.body, 2, from: 1, answer: .internalServerError))
        _ = try #require(d.deliver(Self.body, 0, from: 2))
    }

    @Test("requests the rules do not name are reassembled as before")
    func otherPathsUnchanged() throws {
        let d = StreamDriver()
        let body = EP.body(2500)
        for num in UInt32(0)...1 {
            #expect(d.send(body, num, path: ["store"]).map(\.code) == [.continue])
        }
        #expect(d.endpoint.uploads.total.count == 1 && d.endpoint.streams.count == 0)
        #expect(d.send(body, 2, path: ["store"]).isEmpty)
        let request = try #require(d.requests().first)
        #expect(request.message.payload == body && request.streamedBlock == nil)
        // A POST to a streaming path is not streamed either (the rule names PUT).
        var rule = Block1StreamRule(method: .put, path: ["fw", nil])
        #expect(rule.matches(method: .put, path: ["fw", "x"]) && !rule.matches(method: .post, path: ["fw", "x"]))
        #expect(!rule.matches(method: .put, path: ["fw"]) && !rule.matches(method: .put, path: ["fw", "x", "y"]))
        rule.path = ["5", nil, "0"]
        #expect(rule.matches(method: .put, path: ["5", "1", "0"]) && !rule.matches(method: .put, path: ["5", "1", "1"]))
    }
}
