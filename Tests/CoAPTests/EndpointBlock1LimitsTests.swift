// Block1 uploads in progress (server role) under the caps of EndpointConfiguration.block1Limits:
// counts and bytes per peer and in total, expiry, the response codes of a refusal, and FETCH
// uploads keyed without their partial body (RFC 8132). Peers are integers so that many source
// addresses can be played; every test runs on a virtual clock.
import Testing
@testable import CoAP

/// One endpoint whose peers are numbered, fed raw datagrams by the test.
private final class UploadDriver {
    var endpoint: CoAPEndpoint<Int>
    var now = EP.at(1000)
    private var mid: UInt16 = 0x4000

    init(_ configure: (inout EndpointConfiguration) -> Void = { _ in }) {
        var configuration = EndpointConfiguration()
        configure(&configuration)
        endpoint = CoAPEndpoint(configuration: configuration, seed: 5)
    }

    /// Sends block `num` of `body` (SZX 6) as a CON request and returns the single reply, or nil
    /// when the endpoint handed the request to the application (the reply is then up to it).
    func block(
        _ body: [UInt8], _ num: UInt32, from peer: Int, path: String = "up", query: String? = nil,
        method: UInt8 = EP.PUT, size1: UInt32? = nil, block2: UInt32? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> CoAPMessage? {
        let start = Int(num) * 1024
        let end = min(start + 1024, body.count)
        var options: [EP.Opt] = path.isEmpty ? [] : [.path(path)]
        if let query { options.append(EP.Opt(15, Array(query.utf8))) }
        if let block2 { options.append(.block2(block2, more: false, szx: 6)) }
        options.append(.block1(num, more: end < body.count, szx: 6))
        if let size1 { options.append(.size1(size1)) }
        mid &+= 1
        endpoint.receive(EP.datagram(EP.CON, method, mid: mid, token: [UInt8(truncatingIfNeeded: num)],
                                     options: options, payload: Array(body[start..<end])), from: peer, at: now)
        var replies: [CoAPMessage] = []
        while let datagram = endpoint.nextDatagram() {
            #expect(datagram.peer == peer, sourceLocation: sourceLocation)
            if let message = EP.decode(datagram.bytes, sourceLocation: sourceLocation) { replies.append(message) }
        }
        #expect(replies.count <= 1, "\(replies)", sourceLocation: sourceLocation)
        return replies.first
    }

    /// The requests handed to the application since the last call.
    func requests() -> [IncomingRequest<Int>] {
        var requests: [IncomingRequest<Int>] = []
        while let event = endpoint.nextEvent() {
            if let request = event.asRequest { requests.append(request) }
        }
        return requests
    }

    func advance(by duration: Duration) {
        now += duration
        endpoint.advance(to: now)
    }

    /// Uploads in progress and their bytes, as the endpoint accounts them.
    var total: Block1Uploads<Int>.Usage { endpoint.uploads.total }
}

@Suite struct EndpointBlock1LimitsTests {
    static let body = EP.body(10 * 1024, salt: 9)

    @Test("a new upload beyond the per-peer count gets 5.03 with the Max-Age until one expires")
    func perPeerCount() throws {
        let d = UploadDriver { $0.block1Limits.uploadsPerPeer = 2 }
        #expect(d.block(Self.body, 0, from: 1, path: "a")?.code == .continue)
        d.advance(by: .seconds(10))
        #expect(d.block(Self.body, 0, from: 1, path: "b")?.code == .continue)
        d.advance(by: .seconds(90))
        let refused = try #require(d.block(Self.body, 0, from: 1, path: "c"))
        #expect(refused.code == .serviceUnavailable)
        // "a" expires EXCHANGE_LIFETIME (247 s) after its block, 100 s ago.
        #expect(refused.maxAge == 147)
        #expect(String(decoding: refused.payload, as: UTF8.self).contains("2 uploads in progress from this peer"))
        #expect(d.total == .init(count: 2, bytes: 2048), "nothing is kept of a refused upload")
        // Another peer is not affected, and the refused peer's uploads carry on.
        #expect(d.block(Self.body, 0, from: 2, path: "c")?.code == .continue)
        #expect(d.block(Self.body, 1, from: 1, path: "a")?.code == .continue)
        // Once "b" ends, "c" can start.
        for num in UInt32(1)...9 { _ = d.block(Self.body, num, from: 1, path: "b") }
        #expect(d.requests().map(\.message.payload) == [Self.body])
        #expect(d.block(Self.body, 0, from: 1, path: "c")?.code == .continue)
    }

    @Test("a new upload beyond the total count gets 5.03; restarting one's block 0 does not count twice")
    func totalCount() throws {
        let d = UploadDriver { $0.block1Limits.uploads = 3 }
        for peer in 1...3 { #expect(d.block(Self.body, 0, from: peer)?.code == .continue) }
        #expect(d.total == .init(count: 3, bytes: 3 * 1024))
        let refused = try #require(d.block(Self.body, 0, from: 4))
        #expect(refused.code == .serviceUnavailable)
        #expect(refused.maxAge == 247)
        #expect(d.block(Self.body, 0, from: 2)?.code == .continue, "block 0 again restarts peer 2's upload")
        #expect(d.total == .init(count: 3, bytes: 3 * 1024))
    }

    @Test("a body of maximumBodySize (1 MiB) completes under the default caps, alongside other uploads")
    func largestBodyFits() throws {
        let large = EP.body(1 << 20, salt: 3)
        let d = UploadDriver()
        for peer in 2...4 { #expect(d.block(Self.body, 0, from: peer)?.code == .continue) }
        #expect(d.block(Self.body, 0, from: 1, path: "other")?.code == .continue)
        for num in UInt32(0)..<1023 {
            let reply = d.block(large, num, from: 1, size1: num == 0 ? 1 << 20 : nil)
            if reply?.code != .continue { Issue.record("block \(num): \(String(describing: reply))"); return }
        }
        #expect(d.block(large, 1023, from: 1) == nil)
        #expect(d.requests().map(\.message.payload) == [large])
        #expect(d.total == .init(count: 4, bytes: 4 * 1024))
    }

    @Test("a request body in one block is never refused by the caps")
    func singleBlockBodies() throws {
        let d = UploadDriver {
            $0.block1Limits = Block1Limits(uploads: 1, uploadsPerPeer: 1, bytes: 4096, bytesPerPeer: 4096)
        }
        #expect(d.block(Self.body, 0, from: 1)?.code == .continue)
        let small = EP.body(300)
        #expect(d.block(small, 0, from: 2) == nil)
        #expect(d.block(small, 0, from: 1, path: "other") == nil)
        #expect(d.requests().map(\.message.payload) == [small, small])
        #expect(d.total == .init(count: 1, bytes: 1024))
    }

    @Test("bytes per peer: an upload that outgrows them is dropped with 4.13; Size1 beyond them is refused up front")
    func perPeerBytes() throws {
        let d = UploadDriver { $0.block1Limits.bytesPerPeer = 3000 }
        #expect(d.block(Self.body, 0, from: 1, path: "a")?.code == .continue)
        #expect(d.block(Self.body, 0, from: 1, path: "b")?.code == .continue)
        let dropped = try #require(d.block(Self.body, 1, from: 1, path: "a"))  // 3072 bytes for peer 1
        #expect(dropped.code == .requestEntityTooLarge)
        #expect(dropped.size1 == nil, "no Size1: the body is not too large in itself")
        #expect(d.block(Self.body, 2, from: 1, path: "a")?.code == .requestEntityIncomplete, "a was dropped")
        #expect(d.total == .init(count: 1, bytes: 1024))
        // Size1 announcing more than is left for this peer: 5.03 before anything is stored.
        let announced = try #require(d.block(Self.body, 0, from: 1, path: "c", size1: 2500))
        #expect(announced.code == .serviceUnavailable)
        #expect(announced.maxAge == 247)
        // Size1 beyond what one peer may ever hold: 4.13 with that size.
        let never = try #require(d.block(Self.body, 0, from: 1, path: "c", size1: 3001))
        #expect(never.code == .requestEntityTooLarge)
        #expect(never.size1 == 3000)
        // Other peers have their own budget.
        #expect(d.block(Self.body, 0, from: 2, path: "a", size1: 2900)?.code == .continue)
        #expect(d.block(Self.body, 1, from: 2, path: "a")?.code == .continue)
    }

    @Test("bytes in total: a new upload is refused with 5.03, one in progress is dropped with 4.13")
    func totalBytes() throws {
        let d = UploadDriver { $0.block1Limits.bytes = 5 * 1024 }
        for peer in 1...4 { #expect(d.block(Self.body, 0, from: peer)?.code == .continue) }
        #expect(d.block(Self.body, 1, from: 1)?.code == .continue)  // 5 KiB held
        d.advance(by: .seconds(7))
        let refused = try #require(d.block(Self.body, 0, from: 5))
        #expect(refused.code == .serviceUnavailable)
        #expect(refused.maxAge == 240, "the first upload in its way expires in 240 s")
        #expect(d.block(Self.body, 1, from: 2)?.code == .requestEntityTooLarge)
        #expect(d.total == .init(count: 3, bytes: 4 * 1024))
        #expect(d.block(Self.body, 0, from: 5)?.code == .continue, "room again")
    }

    @Test("uploads left unfinished expire after EXCHANGE_LIFETIME and free their room")
    func expiry() throws {
        let d = UploadDriver { $0.block1Limits = Block1Limits(uploads: 4, uploadsPerPeer: 4, bytes: 1 << 20, bytesPerPeer: 1 << 20) }
        for n in 0..<4 { #expect(d.block(Self.body, 0, from: 1, path: "p\(n)")?.code == .continue) }
        d.advance(by: .seconds(200))
        #expect(d.block(Self.body, 1, from: 1, path: "p3")?.code == .continue, "a block moves the expiry")
        #expect(d.block(Self.body, 0, from: 2)?.code == .serviceUnavailable)
        d.advance(by: .seconds(48))  // 248 s after p0...p2 started
        #expect(d.total == .init(count: 1, bytes: 2048), "the timer purged p0...p2 without any traffic")
        #expect(d.block(Self.body, 0, from: 2)?.code == .continue)
        d.advance(by: .seconds(248))
        #expect(d.total == .init(count: 0, bytes: 0))
        #expect(d.endpoint.nextDeadline == nil, "nothing left to expire: no timer")
    }

    @Test("hundreds of unfinished uploads from many peers: memory and timers stay within the caps")
    func flood() throws {
        let caps = Block1Limits()
        let d = UploadDriver()
        var codes: [CoAPCode: Int] = [:]
        for n in 0..<600 {
            let peer = n % 50
            for num in UInt32(0)..<4 {
                if let reply = d.block(Self.body, num, from: peer, path: "f", query: "n=\(n)") {
                    codes[reply.code, default: 0] += 1
                }
            }
            #expect(d.total.count <= caps.uploads && d.total.bytes <= caps.bytes)
        }
        #expect(d.total.count == caps.uploads)
        #expect(codes[.serviceUnavailable] == 600 - caps.uploads, "\(codes)")
        // One upload restarted 5,000 times: one pending expiry timer, not one per block.
        for _ in 0..<5000 {
            d.advance(by: .milliseconds(10))
            #expect(d.block(Self.body, 0, from: 1, path: "f", query: "n=1")?.code == .continue)
        }
        #expect(d.endpoint.timers.count <= 2, "\(d.endpoint.timers.count) timers pending")
    }

    // MARK: FETCH (RFC 8132) with Block1

    @Test("a FETCH body sent with Block1 is reassembled: the upload is not keyed by its partial body")
    func fetchWithBlock1() throws {
        let body = EP.body(2500, salt: 4)
        let d = UploadDriver()
        let fetch: UInt8 = 0x05
        #expect(d.block(body, 0, from: 1, path: "", method: fetch)?.code == .continue)
        let second = try #require(d.block(body, 1, from: 1, path: "", method: fetch))
        #expect(second.code == .continue, "block 1 continues the FETCH upload (was 4.08)")
        #expect(d.block(body, 2, from: 1, path: "", method: fetch) == nil)
        let request = try #require(d.requests().first)
        #expect(request.message.code == .fetch)
        #expect(request.message.payload == body)
        // The response to the complete FETCH goes out block-wise, cached under the whole body.
        var response = CoAPResponse(.content, payload: EP.body(3000, salt: 8))
        response.options = [CoAPOption(.contentFormat, uint: 110)]
        d.endpoint.respond(to: request.exchange, with: response, at: d.now)
        let first = try #require(d.endpoint.nextDatagram().flatMap { EP.decode($0.bytes) })
        #expect(first.block1 == BlockValue(number: 2, more: false, szx: 6))
        #expect(first.block2 == BlockValue(number: 0, more: true, szx: 6))
        // The next response block: the FETCH again (Block1), its last block asking for Block2
        // block 1, served from the cache without asking the application again.
        #expect(d.block(body, 0, from: 1, path: "", method: fetch)?.code == .continue)
        #expect(d.block(body, 1, from: 1, path: "", method: fetch)?.code == .continue)
        let next = try #require(d.block(body, 2, from: 1, path: "", method: fetch, block2: 1))
        #expect(d.requests().isEmpty)
        #expect(next.code == .content)
        #expect(next.block1 == BlockValue(number: 2, more: false, szx: 6))
        #expect(next.block2 == BlockValue(number: 1, more: true, szx: 6))
        #expect(next.payload == Array(response.payload[1024..<2048]))
        #expect(next.eTag == first.eTag)
    }

    @Test("FETCH and iPATCH uploads to the same path are distinct; a FETCH and a PUT too")
    func methodsAreDistinct() throws {
        let body = EP.body(2100, salt: 2)
        let d = UploadDriver()
        for method: UInt8 in [0x05, 0x07, EP.PUT] {
            #expect(d.block(body, 0, from: 1, path: "x", method: method)?.code == .continue)
        }
        for method: UInt8 in [0x05, 0x07, EP.PUT] {
            #expect(d.block(body, 1, from: 1, path: "x", method: method)?.code == .continue)
            #expect(d.block(body, 2, from: 1, path: "x", method: method) == nil)
        }
        #expect(d.requests().map(\.message.code) == [.fetch, .iPatch, .put])
    }
}
