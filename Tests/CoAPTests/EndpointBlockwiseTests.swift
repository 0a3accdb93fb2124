// RFC 7959 block-wise transfers: Block2 and Block1 in the server role (raw datagrams), and both
// directions in the client role through the two-endpoint network, with and without loss.
import Testing
@testable import CoAP

@Suite struct EndpointBlockwiseServerTests {
    static let body3000 = EP.body(3000)

    /// CON GET /big with optional Block2, MID `mid`, token `token`.
    static func get(mid: UInt16, token: UInt8, block2: EP.Opt? = nil, observe: UInt32? = nil) -> [UInt8] {
        var options: [EP.Opt] = []
        if let observe { options.append(.observe(observe)) }
        options.append(.path("big"))
        if let block2 { options.append(block2) }
        return EP.datagram(EP.CON, EP.GET, mid: mid, token: [token], options: options)
    }

    /// Serves GET /big block 0 from a 3000-byte response; returns the driver and block 0.
    static func serveBlock0(
        configuration: EndpointConfiguration = EndpointConfiguration(), block2: EP.Opt? = nil
    ) throws -> (EndpointDriver, CoAPMessage) {
        let d = EndpointDriver(configuration: configuration)
        d.receive(get(mid: 0x1000, token: 0x10, block2: block2))
        let request = try #require(d.takeRequest())
        d.respond(request.exchange, CoAPResponse(.content, contentFormat: ContentFormat.octetStream, payload: body3000))
        let block0 = try #require(d.takeOne())
        return (d, block0)
    }

    @Test func largeResponseIsSentAsBlock0() throws {
        let (_, block0) = try Self.serveBlock0()
        #expect(block0.type == .acknowledgement)
        #expect(block0.messageID == 0x1000)
        #expect(block0.token.bytes == [0x10])
        #expect(block0.code == .content)
        #expect(block0.payload == Array(Self.body3000[0..<1024]))
        #expect(block0.firstValue(.block2) == [0x0E], "NUM 0, M 1, SZX 6")
        #expect(block0.block2 == BlockValue(number: 0, more: true, szx: 6))
        #expect(block0.size2 == 3000)
        let eTag = try #require(block0.eTag)
        #expect((1...8).contains(eTag.count))
        #expect(block0.contentFormat == ContentFormat.octetStream)
    }

    @Test func laterBlocksAreServedFromTheCache() throws {
        let (d, block0) = try Self.serveBlock0()
        d.receive(Self.get(mid: 0x1001, token: 0x11, block2: .block2(1, more: false, szx: 6)))
        #expect(d.takeEvents().isEmpty, "no .request for a cached representation")
        let block1 = try #require(d.takeOne())
        #expect(block1.type == .acknowledgement)
        #expect(block1.messageID == 0x1001)
        #expect(block1.token.bytes == [0x11])
        #expect(block1.code == .content)
        #expect(block1.firstValue(.block2) == [0x1E])
        #expect(block1.payload == Array(Self.body3000[1024..<2048]))
        #expect(block1.eTag == block0.eTag)
        #expect(block1.contentFormat == ContentFormat.octetStream)

        d.receive(Self.get(mid: 0x1002, token: 0x12, block2: .block2(2, more: false, szx: 6)))
        #expect(d.takeEvents().isEmpty)
        let block2 = try #require(d.takeOne())
        #expect(block2.firstValue(.block2) == [0x26], "NUM 2, M 0, SZX 6")
        #expect(block2.payload == Array(Self.body3000[2048...]))
        #expect(block2.payload.count == 952)
        #expect(block2.eTag == block0.eTag)
        #expect(block0.payload + block1.payload + block2.payload == Self.body3000)
    }

    @Test func smallerBlockSizeRequestedByTheClient() throws {
        // Early negotiation: GET with Block2 0/0/64.
        let (d, block0) = try Self.serveBlock0(block2: .block2(0, more: false, szx: 2))
        #expect(block0.payload == Array(Self.body3000[0..<64]))
        #expect(block0.firstValue(.block2) == [0x0A], "NUM 0, M 1, SZX 2")
        #expect(block0.size2 == 3000)
        d.receive(Self.get(mid: 0x1003, token: 0x13, block2: .block2(1, more: false, szx: 2)))
        #expect(d.takeEvents().isEmpty)
        let next = try #require(d.takeOne())
        #expect(next.payload == Array(Self.body3000[64..<128]))
        #expect(next.firstValue(.block2) == [0x1A])
        // Last of 47 blocks: 3000 = 46 × 64 + 56.
        d.receive(Self.get(mid: 0x1004, token: 0x14, block2: .block2(46, more: false, szx: 2)))
        let last = try #require(d.takeOne())
        #expect(last.block2 == BlockValue(number: 46, more: false, szx: 2))
        #expect(last.payload == Array(Self.body3000[2944...]))
    }

    @Test func clientMaySwitchToSmallerBlocksMidTransfer() throws {
        let (d, _) = try Self.serveBlock0()
        // Block 4 of 256 bytes = offset 1024.
        d.receive(Self.get(mid: 0x1005, token: 0x15, block2: .block2(4, more: false, szx: 4)))
        let block = try #require(d.takeOne())
        #expect(block.block2 == BlockValue(number: 4, more: true, szx: 4))
        #expect(block.payload == Array(Self.body3000[1024..<1280]))
    }

    @Test func requestedBlockLargerThanPreferredIsServedAtPreferredSize() throws {
        var configuration = EndpointConfiguration()
        configuration.preferredBlockSZX = 4
        let (d, block0) = try Self.serveBlock0(configuration: configuration)
        #expect(block0.block2 == BlockValue(number: 0, more: true, szx: 4))
        #expect(block0.payload.count == 256)
        // The client asks 1024-byte blocks anyway: it gets 256-byte blocks.
        d.receive(Self.get(mid: 0x1006, token: 0x16, block2: .block2(1, more: false, szx: 6)))
        let block = try #require(d.takeOne())
        #expect(block.block2?.szx == 4)
        #expect(block.payload.count == 256)
    }

    @Test func blockBeyondTheEndIsBadOption() throws {
        let (d, _) = try Self.serveBlock0()
        d.receive(Self.get(mid: 0x1007, token: 0x17, block2: .block2(3, more: false, szx: 6)))
        #expect(d.takeEvents().isEmpty)
        let reply = try #require(d.takeOne())
        #expect(reply.code == .badOption)
        #expect(reply.type == .acknowledgement)
        #expect(reply.messageID == 0x1007)
        #expect(reply.token.bytes == [0x17])
        #expect(reply.block2 == nil)
    }

    @Test func blockRequestWithoutCacheGoesToTheApplication() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x1008, token: 0x18, block2: .block2(2, more: false, szx: 6)))
        let request = try #require(d.takeRequest())
        #expect(request.message.block2 == BlockValue(number: 2, more: false, szx: 6))
        d.respond(request.exchange, CoAPResponse(.content, payload: Self.body3000))
        let block = try #require(d.takeOne())
        #expect(block.block2 == BlockValue(number: 2, more: false, szx: 6))
        #expect(block.payload == Array(Self.body3000[2048...]))
    }

    @Test func smallResponseToBlockRequestCarriesBlock2() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x1009, token: 0x19, block2: .block2(0, more: false, szx: 5)))
        let request = try #require(d.takeRequest())
        d.respond(request.exchange, CoAPResponse(.content, payload: [1, 2, 3]))
        let reply = try #require(d.takeOne())
        #expect(reply.block2 == BlockValue(number: 0, more: false, szx: 5))
        #expect(reply.payload == [1, 2, 3])
        // Without Block2 in the request, a small response carries none.
        d.receive(Self.get(mid: 0x100A, token: 0x1A))
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.content, payload: [1]))
        #expect(d.takeOne()?.block2 == nil)
    }

    @Test func errorResponsesAreNeverSplit() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x100B, token: 0x1B))
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.internalServerError, payload: Self.body3000))
        let reply = try #require(d.takeOne())
        #expect(reply.block2 == nil)
        #expect(reply.payload.count == 3000)
    }

    @Test func applicationETagIsKept() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x100C, token: 0x1C))
        let request = try #require(d.takeRequest())
        d.respond(request.exchange, CoAPResponse(.content, options: [CoAPOption(.eTag, [9, 9])], payload: Self.body3000))
        #expect(d.takeOne()?.eTag == [9, 9])
        d.receive(Self.get(mid: 0x100D, token: 0x1D, block2: .block2(1, more: false, szx: 6)))
        #expect(d.takeOne()?.eTag == [9, 9])
    }

    @Test func cachedRepresentationIsPerPeerAndPath() throws {
        let (d, _) = try Self.serveBlock0()
        // Same path, other peer: not cached for it.
        d.receive(Self.get(mid: 0x1010, token: 0x20, block2: .block2(1, more: false, szx: 6)), from: .a)
        #expect(d.takeRequest() != nil)
        #expect(d.take().isEmpty)
        // Other path, same peer: not cached.
        d.receive(EP.datagram(EP.CON, EP.GET, mid: 0x1011, token: [0x21],
                              options: [.path("other"), .block2(1, more: false, szx: 6)]))
        #expect(d.takeRequest() != nil)
    }

    @Test func cachedRepresentationExpires() throws {
        let (d, _) = try Self.serveBlock0()
        d.advance(by: .seconds(248))
        d.receive(Self.get(mid: 0x1012, token: 0x22, block2: .block2(1, more: false, szx: 6)))
        #expect(d.takeRequest() != nil, "after EXCHANGE_LIFETIME the application is asked again")
    }

    @Test func expiredRepresentationIsNotServedEvenBeforeAdvance() throws {
        // The outer loop may hand over a datagram before it calls advance(to:) for a deadline
        // that has already passed (EndpointRunner receives first, then advances): an expired
        // representation must not be served then either.
        let (d, _) = try Self.serveBlock0()
        let late = d.now + .seconds(248)
        d.endpoint.receive(Self.get(mid: 0x1013, token: 0x23, block2: .block2(1, more: false, szx: 6)), from: .b, at: late)
        d.collect()
        #expect(d.takeRequest() != nil, "the application is asked again")
        #expect(d.take().isEmpty)
    }

    // MARK: Block1

    /// CON PUT /fw block `num` of `body` at SZX 6.
    static func put(
        _ body: [UInt8], num: UInt32, mid: UInt16, token: UInt8 = 0x30, szx: UInt8 = 6,
        size1: UInt32? = nil, path: String = "fw"
    ) -> [UInt8] {
        let size = 16 << Int(szx)
        let start = Int(num) * size
        let end = min(start + size, body.count)
        let more = end < body.count
        var options: [EP.Opt] = [.path(path), .block1(num, more: more, szx: szx)]
        if let size1 { options.append(.size1(size1)) }
        return EP.datagram(EP.CON, EP.PUT, mid: mid, token: [token], options: options,
                           payload: Array(body[start..<end]))
    }

    @Test func block1UploadIsReassembled() throws {
        let body = EP.body(2500, salt: 3)
        let d = EndpointDriver()
        d.receive(Self.put(body, num: 0, mid: 0x2000, size1: 2500))
        #expect(d.takeEvents().isEmpty)
        let c0 = try #require(d.takeOne())
        #expect(c0.type == .acknowledgement)
        #expect(c0.messageID == 0x2000)
        #expect(c0.code == .continue)
        #expect(c0.firstValue(.block1) == [0x0E], "echo NUM 0, M 1, SZX 6")

        d.receive(Self.put(body, num: 1, mid: 0x2001, token: 0x31))
        #expect(d.takeEvents().isEmpty)
        let c1 = try #require(d.takeOne())
        #expect(c1.code == .continue)
        #expect(c1.firstValue(.block1) == [0x1E])
        #expect(c1.token.bytes == [0x31])

        d.receive(Self.put(body, num: 2, mid: 0x2002, token: 0x32))
        #expect(d.take().isEmpty, "the last block waits for the application")
        let request = try #require(d.takeRequest())
        #expect(request.message.payload == body)
        #expect(request.message.payload.count == 2500)
        #expect(request.message.code == .put)
        #expect(request.message.path == "/fw")
        d.respond(request.exchange, CoAPResponse(.changed))
        let final = try #require(d.takeOne())
        #expect(final.code == .changed)
        #expect(final.messageID == 0x2002)
        #expect(final.token.bytes == [0x32])
        #expect(final.firstValue(.block1) == [0x26], "echo NUM 2, M 0, SZX 6")
    }

    @Test func block1RetransmittedBlockIsNotAppendedTwice() throws {
        let body = EP.body(2500)
        let d = EndpointDriver()
        let b0 = Self.put(body, num: 0, mid: 0x2100)
        d.receive(b0)
        let c0 = d.takeBytes()
        d.receive(b0)  // the 2.31 was lost
        #expect(d.takeBytes() == c0)
        d.receive(Self.put(body, num: 1, mid: 0x2101))
        _ = d.take()
        d.receive(Self.put(body, num: 2, mid: 0x2102))
        #expect(d.takeRequest()?.message.payload == body)
    }

    @Test func block1GapIsRequestEntityIncomplete() throws {
        let body = EP.body(2500)
        let d = EndpointDriver()
        d.receive(Self.put(body, num: 0, mid: 0x2200))
        _ = d.take()
        d.receive(Self.put(body, num: 2, mid: 0x2201, token: 0x33))
        #expect(d.takeEvents().isEmpty)
        let reply = try #require(d.takeOne())
        #expect(reply.code == .requestEntityIncomplete)
        #expect(reply.messageID == 0x2201)
        #expect(reply.token.bytes == [0x33])
        // The transfer was abandoned: block 1 now is a gap too.
        d.receive(Self.put(body, num: 1, mid: 0x2202))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func block1OutOfOrderArrival() throws {
        let body = EP.body(2500)
        let d = EndpointDriver()
        // Block 1 first: no transfer started.
        d.receive(Self.put(body, num: 1, mid: 0x2300))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        // 0, 2, 1: block 2 is a gap.
        d.receive(Self.put(body, num: 0, mid: 0x2301))
        #expect(d.takeOne()?.code == .continue)
        d.receive(Self.put(body, num: 2, mid: 0x2302))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        d.receive(Self.put(body, num: 1, mid: 0x2303))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        #expect(d.takeEvents().isEmpty)
        // The client starts over in order: success.
        for (i, mid) in [UInt16(0x2304), 0x2305, 0x2306].enumerated() {
            d.receive(Self.put(body, num: UInt32(i), mid: mid))
        }
        let codes = d.take().compactMap { EP.decode($0.bytes)?.code }
        #expect(codes == [.continue, .continue])
        #expect(d.takeRequest()?.message.payload == body)
    }

    @Test func block1SizeOverLimitIsRequestEntityTooLarge() throws {
        var configuration = EndpointConfiguration()
        configuration.maximumBodySize = 2000
        let d = EndpointDriver(configuration: configuration)
        let body = EP.body(2500)
        d.receive(Self.put(body, num: 0, mid: 0x2400, size1: 2500))
        #expect(d.takeEvents().isEmpty)
        let reply = try #require(d.takeOne())
        #expect(reply.code == .requestEntityTooLarge)
        #expect(reply.size1 == 2000, "Size1 tells the limit")
        #expect(reply.messageID == 0x2400)
        // Without Size1 the body is refused when it grows past the limit.
        d.receive(Self.put(body, num: 0, mid: 0x2401))
        #expect(d.takeOne()?.code == .continue)
        d.receive(Self.put(body, num: 1, mid: 0x2402))
        let tooLarge = try #require(d.takeOne())
        #expect(tooLarge.code == .requestEntityTooLarge)
        #expect(tooLarge.size1 == 2000)
        d.receive(Self.put(body, num: 2, mid: 0x2403))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func block1TransferExpires() throws {
        let body = EP.body(2500)
        let d = EndpointDriver()
        d.receive(Self.put(body, num: 0, mid: 0x2410))
        #expect(d.takeOne()?.code == .continue)
        d.advance(by: .seconds(248))
        d.receive(Self.put(body, num: 1, mid: 0x2411))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func expiredBlock1TransferIsNotContinuedEvenBeforeAdvance() throws {
        let body = EP.body(2500)
        let d = EndpointDriver()
        d.receive(Self.put(body, num: 0, mid: 0x2420))
        #expect(d.takeOne()?.code == .continue)
        d.endpoint.receive(Self.put(body, num: 1, mid: 0x2421), from: .b, at: d.now + .seconds(248))
        d.collect()
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func block1BodyUpToTheLimitIsAccepted() throws {
        var configuration = EndpointConfiguration()
        configuration.maximumBodySize = 2500
        let d = EndpointDriver(configuration: configuration)
        let body = EP.body(2500)
        for (i, mid) in [UInt16(0x2500), 0x2501, 0x2502].enumerated() {
            d.receive(Self.put(body, num: UInt32(i), mid: mid, size1: i == 0 ? 2500 : nil))
        }
        #expect(d.takeRequest()?.message.payload == body)
    }

    @Test func block1Block0RestartsTheTransfer() throws {
        let old = EP.body(2500, salt: 1)
        let new = EP.body(2100, salt: 2)
        let d = EndpointDriver()
        d.receive(Self.put(old, num: 0, mid: 0x2600))
        d.receive(Self.put(old, num: 1, mid: 0x2601))
        #expect(d.take().count == 2)
        d.receive(Self.put(new, num: 0, mid: 0x2602))
        d.receive(Self.put(new, num: 1, mid: 0x2603))
        d.receive(Self.put(new, num: 2, mid: 0x2604))
        #expect(d.take().compactMap { EP.decode($0.bytes)?.code } == [.continue, .continue])
        let request = try #require(d.takeRequest())
        #expect(request.message.payload == new, "the old body is discarded")
    }

    @Test func block1NonFinalBlockOfWrongSizeIsIncomplete() throws {
        let d = EndpointDriver()
        // Block 0 with M=1 but only 100 bytes of a 1024-byte block.
        d.receive(EP.datagram(EP.CON, EP.PUT, mid: 0x2700, token: [1],
                              options: [.path("fw"), .block1(0, more: true, szx: 6)], payload: EP.body(100)))
        #expect(d.takeOne()?.code == .requestEntityIncomplete)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func block1TransfersToDifferentPathsAreIndependent() throws {
        let x = EP.body(2500, salt: 5)
        let y = EP.body(1500, salt: 6)
        let d = EndpointDriver()
        d.receive(Self.put(x, num: 0, mid: 0x2800, path: "x"))
        d.receive(Self.put(y, num: 0, mid: 0x2801, path: "y"))
        d.receive(Self.put(x, num: 1, mid: 0x2802, path: "x"))
        d.receive(Self.put(y, num: 1, mid: 0x2803, path: "y"))
        d.receive(Self.put(x, num: 2, mid: 0x2804, path: "x"))
        let requests = d.takeEvents().compactMap(\.asRequest)
        #expect(requests.map(\.message.path) == ["/y", "/x"])
        #expect(requests.map(\.message.payload) == [y, x])
    }

    @Test func block1WithSmallerPreferredSizeAsksForSmallerBlocks() throws {
        var configuration = EndpointConfiguration()
        configuration.preferredBlockSZX = 4
        let d = EndpointDriver(configuration: configuration)
        let body = EP.body(2000)
        d.receive(Self.put(body, num: 0, mid: 0x2900))
        let c0 = try #require(d.takeOne())
        #expect(c0.code == .continue)
        #expect(c0.block1 == BlockValue(number: 0, more: true, szx: 4), "RFC 7959 §2.5: ask for 256-byte blocks")
        // The client continues at block 4 of 256 bytes (offset 1024).
        d.receive(Self.put(body, num: 4, mid: 0x2901, szx: 4))
        #expect(d.takeOne()?.block1 == BlockValue(number: 4, more: true, szx: 4))
        for (n, mid) in [(UInt32(5), UInt16(0x2902)), (6, 0x2903)] {
            d.receive(Self.put(body, num: n, mid: mid, szx: 4))
        }
        #expect(d.take().compactMap { EP.decode($0.bytes)?.block1 } == [
            BlockValue(number: 5, more: true, szx: 4), BlockValue(number: 6, more: true, szx: 4),
        ])
        d.receive(Self.put(body, num: 7, mid: 0x2904, szx: 4))
        #expect(d.takeRequest()?.message.payload == body)
    }
}

@Suite struct EndpointBlockwiseClientTests {
    static func configuration(szx: UInt8 = 6, maxRetransmit: Int = 4) -> EndpointConfiguration {
        var configuration = EndpointConfiguration()
        configuration.preferredBlockSZX = szx
        configuration.transmission.maxRetransmit = maxRetransmit
        return configuration
    }

    @Test func clientGetOfLargeResourceIsReassembled() throws {
        let body = EP.body(5000, salt: 9)
        let net = EndpointNetwork()
        net.appB = { request in
            request.message.path == "/big" ? CoAPResponse(.content, contentFormat: 42, payload: body) : nil
        }
        let id = net.send(CoAPRequest(.get, path: "/big"))
        #expect(net.runUntilFinished(id))
        let responses = net.events(.a).compactMap(\.asResponse)
        #expect(responses.count == 1, "delivered whole, once")
        let response = try #require(responses.first)
        #expect(response.id == id)
        #expect(response.message.code == .content)
        #expect(response.message.payload == body)
        #expect(response.message.block2 == nil)
        #expect(response.message.contentFormat == 42)
        #expect(net.events(.b).compactMap(\.asRequest).count == 1, "B's application answered once")
        let requests = net.sent(by: .a)
        #expect(requests.compactMap { $0.block2?.number } == [1, 2, 3, 4])
        #expect(requests.count == 5)
        #expect(net.a.pendingRequestCount == 0)
    }

    @Test func clientPutOfLargeBodyGoesAsBlock1() throws {
        let body = EP.body(5000, salt: 4)
        let net = EndpointNetwork()
        net.appB = { _ in CoAPResponse(.changed) }
        let id = net.send(CoAPRequest(.put, path: "/fw", payload: body))
        #expect(net.runUntilFinished(id))
        let requests = net.events(.b).compactMap(\.asRequest)
        #expect(requests.count == 1)
        #expect(requests.first?.message.payload == body)
        #expect(requests.first?.message.path == "/fw")
        let sent = net.sent(by: .a)
        #expect(sent.compactMap(\.block1) == [
            BlockValue(number: 0, more: true, szx: 6), BlockValue(number: 1, more: true, szx: 6),
            BlockValue(number: 2, more: true, szx: 6), BlockValue(number: 3, more: true, szx: 6),
            BlockValue(number: 4, more: false, szx: 6),
        ])
        #expect(sent.first?.size1 == 5000)
        #expect(sent.map(\.payload.count) == [1024, 1024, 1024, 1024, 904])
        let response = try #require(net.events(.a).compactMap(\.asResponse).first)
        #expect(response.id == id)
        #expect(response.message.code == .changed)
    }

    @Test func clientAdaptsToServersSmallerBlocks() throws {
        let down = EP.body(5000, salt: 1)
        let up = EP.body(5000, salt: 2)
        let net = EndpointNetwork(a: Self.configuration(szx: 6), b: Self.configuration(szx: 4))
        net.appB = { request in
            request.message.code == .get ? CoAPResponse(.content, payload: down) : CoAPResponse(.changed)
        }
        let get = net.send(CoAPRequest(.get, path: "/big"))
        #expect(net.runUntilFinished(get))
        #expect(net.events(.a).compactMap(\.asResponse).first?.message.payload == down)
        let blocks = net.sent(by: .b).compactMap(\.block2)
        #expect(blocks.count == 20, "5000 bytes in 256-byte blocks")
        #expect(blocks.allSatisfy { $0.szx == 4 })

        let put = net.send(CoAPRequest(.put, path: "/fw", payload: up))
        #expect(net.runUntilFinished(put))
        #expect(net.events(.b).compactMap(\.asRequest).last?.message.payload == up)
        let sent = net.sent(by: .a).filter { $0.code == .put }
        // 1024-byte block 0, then 256-byte blocks from block 4 (offset 1024).
        #expect(sent.first?.block1 == BlockValue(number: 0, more: true, szx: 6))
        #expect(sent.dropFirst().first?.block1 == BlockValue(number: 4, more: true, szx: 4))
        #expect(sent.last?.block1 == BlockValue(number: 19, more: false, szx: 4))
        #expect(sent.count == 1 + 16)
        #expect(net.events(.a).compactMap(\.asResponse).last?.message.code == .changed)
    }

    @Test func clientWithSmallerBlocksThanServer() throws {
        let down = EP.body(5000, salt: 7)
        let net = EndpointNetwork(a: Self.configuration(szx: 4), b: Self.configuration(szx: 6))
        net.appB = { _ in CoAPResponse(.content, payload: down) }
        let get = net.send(CoAPRequest(.get, path: "/big"))
        #expect(net.runUntilFinished(get))
        #expect(net.events(.a).compactMap(\.asResponse).first?.message.payload == down)
        // Early negotiation (RFC 7959 §2.4): the GET already asks for 256-byte blocks.
        #expect(net.sent(by: .a).first?.block2 == BlockValue(number: 0, more: false, szx: 4))
        let blocks = net.sent(by: .b).compactMap(\.block2)
        #expect(blocks.count == 20)
        #expect(blocks.allSatisfy { $0.szx == 4 })
        #expect(blocks.last == BlockValue(number: 19, more: false, szx: 4))
    }

    @Test func nonConfirmableBlockwiseGet() throws {
        let body = EP.body(3000)
        let net = EndpointNetwork()
        net.appB = { _ in CoAPResponse(.content, payload: body) }
        let id = net.send(CoAPRequest(.get, path: "/big", confirmable: false))
        #expect(net.runUntilFinished(id))
        #expect(net.events(.a).compactMap(\.asResponse).first?.message.payload == body)
        #expect(net.log.allSatisfy { $0.message?.type == .nonConfirmable })
    }

    @Test func responseLargerThanMaximumBodySizeFails() throws {
        var configuration = EndpointConfiguration()
        configuration.maximumBodySize = 3000
        let net = EndpointNetwork(a: configuration)
        net.appB = { _ in CoAPResponse(.content, payload: EP.body(5000)) }
        let id = net.send(CoAPRequest(.get, path: "/big"))
        #expect(net.runUntilFinished(id))
        #expect(net.finalEvent(id)?.asFailure?.reason == .bodyTooLarge)
    }

    @Test func putRefusedAsTooLargeIsDeliveredAsResponse() throws {
        var server = EndpointConfiguration()
        server.maximumBodySize = 2000
        let net = EndpointNetwork(b: server)
        net.appB = { _ in CoAPResponse(.changed) }
        let id = net.send(CoAPRequest(.put, path: "/fw", payload: EP.body(5000)))
        #expect(net.runUntilFinished(id))
        let response = try #require(net.finalEvent(id)?.asResponse)
        #expect(response.message.code == .requestEntityTooLarge)
        #expect(response.message.size1 == 2000)
        #expect(net.events(.b).compactMap(\.asRequest).isEmpty)
    }

    /// Answers the client's pending CON request (the single datagram it sent) with a raw ACK.
    static func answer(
        _ d: EndpointDriver, block: (num: UInt32, more: Bool), eTag: [UInt8], payload: [UInt8]
    ) throws -> CoAPMessage {
        let request = try #require(d.takeOne())
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes,
                              options: [EP.Opt(4, eTag), .block2(block.num, more: block.more, szx: 6)],
                              payload: payload))
        return request
    }

    @Test func representationChangingMidTransferRestartsFromBlock0() throws {
        let old = EP.body(2048, salt: 1)
        let new = EP.body(1500, salt: 2)
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/big"))
        let r0 = try Self.answer(d, block: (0, true), eTag: [1], payload: Array(old[0..<1024]))
        #expect(r0.block2 == nil, "the first request carries no Block2")
        // Block 1 comes back with another ETag: the representation changed.
        let r1 = try Self.answer(d, block: (1, true), eTag: [2], payload: Array(new[1024..<1500]))
        #expect(r1.block2 == BlockValue(number: 1, more: false, szx: 6))
        #expect(d.takeEvents().isEmpty)
        // The client starts again from block 0.
        let r2 = try Self.answer(d, block: (0, true), eTag: [2], payload: Array(new[0..<1024]))
        #expect(r2.block2 == BlockValue(number: 0, more: false, szx: 6))
        let r3 = try Self.answer(d, block: (1, false), eTag: [2], payload: Array(new[1024...]))
        #expect(r3.block2 == BlockValue(number: 1, more: false, szx: 6))
        let response = try #require(d.takeEvents().first?.asResponse)
        #expect(response.id == id)
        #expect(response.message.payload == new)
        #expect(response.message.eTag == [2])
    }

    @Test func representationThatKeepsChangingFails() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/big"))
        _ = try Self.answer(d, block: (0, true), eTag: [1], payload: EP.body(1024))
        var failure: (id: RequestID, reason: RequestFailure)? = nil
        var changes = 0
        for tag in UInt8(2)...UInt8(10) {
            _ = try Self.answer(d, block: (1, true), eTag: [tag], payload: EP.body(1024))
            changes += 1
            if let f = d.takeEvents().compactMap(\.asFailure).first {
                failure = f
                break
            }
            _ = try Self.answer(d, block: (0, true), eTag: [tag], payload: EP.body(1024))
        }
        #expect(changes == 4, "three restarts, then the fourth change fails the request")
        #expect(failure?.id == id)
        #expect(failure?.reason == .blockTransferFailed("representation kept changing"))
        #expect(d.take().isEmpty)
        #expect(d.endpoint.pendingRequestCount == 0)
    }

    @Test func block1RestartsWithSmallerBlocksAfter413() throws {
        let body = EP.body(3000, salt: 5)
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.put, path: "/fw", payload: body))
        let b0 = try #require(d.takeOne())
        #expect(b0.block1 == BlockValue(number: 0, more: true, szx: 6))
        #expect(b0.size1 == 3000)
        #expect(b0.payload == Array(body[0..<1024]))
        // 4.13 with Block1 SZX 4: "send 256-byte blocks" (RFC 7959 §2.9.3).
        d.receive(EP.datagram(EP.ACK, EP.c413, mid: b0.messageID, token: b0.token.bytes,
                              options: [.block1(0, more: false, szx: 4)]))
        #expect(d.takeEvents().isEmpty)
        let r0 = try #require(d.takeOne())
        #expect(r0.block1 == BlockValue(number: 0, more: true, szx: 4))
        #expect(r0.payload == Array(body[0..<256]))
        #expect(r0.size1 == 3000)
        // Continue to the end, 12 blocks of 256 (the last 184 bytes).
        var current = r0
        var payloads = [r0.payload]
        while let block = current.block1, block.more {
            d.receive(EP.datagram(EP.ACK, EP.c231, mid: current.messageID, token: current.token.bytes,
                                  options: [.block1(block.number, more: true, szx: 4)]))
            current = try #require(d.takeOne())
            payloads.append(current.payload)
        }
        #expect(current.block1 == BlockValue(number: 11, more: false, szx: 4))
        #expect(payloads.flatMap { $0 } == body)
        d.receive(EP.datagram(EP.ACK, EP.c204, mid: current.messageID, token: current.token.bytes,
                              options: [.block1(11, more: false, szx: 4)]))
        let response = try #require(d.takeEvents().first?.asResponse)
        #expect(response.id == id)
        #expect(response.message.code == .changed)
    }

    @Test func block1ContinueWithoutBlock1OptionKeepsTheBlockSize() throws {
        let body = EP.body(2100)
        let d = EndpointDriver()
        _ = d.send(CoAPRequest(.put, path: "/fw", payload: body))
        let b0 = try #require(d.takeOne())
        d.receive(EP.datagram(EP.ACK, EP.c231, mid: b0.messageID, token: b0.token.bytes))
        let b1 = try #require(d.takeOne())
        #expect(b1.block1 == BlockValue(number: 1, more: true, szx: 6))
        #expect(b1.size1 == nil, "Size1 only with block 0")
        #expect(b1.token != b0.token)
        #expect(b1.path == "/fw")
    }

    @Test func block1FinalResponseBeforeTheLastBlockEndsTheRequest() throws {
        // A server that does not do Block1 answers the first block with its final response.
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.put, path: "/fw", payload: EP.body(2100)))
        let b0 = try #require(d.takeOne())
        d.receive(EP.datagram(EP.ACK, EP.c413, mid: b0.messageID, token: b0.token.bytes))
        let response = try #require(d.takeEvents().first?.asResponse)
        #expect(response.id == id)
        #expect(response.message.code == .requestEntityTooLarge)
        #expect(d.take().isEmpty)
    }

    @Test func block2FollowUpWithSeparateResponse() throws {
        var configuration = EndpointConfiguration()
        configuration.responseTimeout = .seconds(20)
        let d = EndpointDriver(configuration: configuration)
        let id = d.send(CoAPRequest(.get, path: "/big", query: ["a=1"]))
        _ = try Self.answer(d, block: (0, true), eTag: [7], payload: EP.body(1024))
        let r1 = try #require(d.takeOne())
        #expect(r1.block2 == BlockValue(number: 1, more: false, szx: 6))
        #expect(r1.uriQuery == ["a=1"], "block requests repeat the request options")
        d.receive(EP.empty(EP.ACK, mid: r1.messageID))
        d.advance(by: .seconds(10))
        d.receive(EP.datagram(EP.CON, EP.c205, mid: 0x5151, token: r1.token.bytes,
                              options: [EP.Opt(4, [7]), .block2(1, more: false, szx: 6)], payload: [1, 2, 3]))
        #expect(d.takeBytes() == [EP.empty(EP.ACK, mid: 0x5151)])
        let response = try #require(d.takeEvents().first?.asResponse)
        #expect(response.id == id)
        #expect(response.message.payload == EP.body(1024) + [1, 2, 3])
    }

    @Test func blockAtUnexpectedOffsetFailsTheTransfer() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/big"))
        _ = try Self.answer(d, block: (0, true), eTag: [1], payload: EP.body(1024))
        _ = try Self.answer(d, block: (2, true), eTag: [1], payload: EP.body(1024))
        let failure = try #require(d.takeEvents().first?.asFailure)
        #expect(failure.id == id)
        if case .blockTransferFailed = failure.reason {} else {
            Issue.record("expected .blockTransferFailed, got \(failure.reason)")
        }
    }

    @Test func postWithLargeRequestAndLargeResponseUsesBlock1ThenBlock2() throws {
        let up = EP.body(3000, salt: 11)
        let down = EP.body(2600, salt: 12)
        let net = EndpointNetwork()
        net.appB = { request in
            request.message.payload == up ? CoAPResponse(.changed, payload: down) : .error(.badRequest, "wrong body")
        }
        let id = net.send(CoAPRequest(.post, path: "/rpc", payload: up))
        #expect(net.runUntilFinished(id))
        let response = try #require(net.finalEvent(id)?.asResponse)
        #expect(response.message.code == .changed)
        #expect(response.message.payload == down)
        #expect(net.events(.b).compactMap(\.asRequest).count == 1)
        let sent = net.sent(by: .a)
        #expect(sent.compactMap(\.block1).map(\.number) == [0, 1, 2])
        #expect(sent.compactMap(\.block2).map(\.number) == [1, 2])
        #expect(sent.filter { $0.block2 != nil }.allSatisfy { $0.payload.isEmpty && $0.code == .post })
    }

    @Test func concurrentBlockTransfersToTheSamePeer() throws {
        let x = EP.body(4000, salt: 21)
        let y = EP.body(3000, salt: 22)
        let net = EndpointNetwork()
        net.appB = { request in
            switch request.message.path {
            case "/x": CoAPResponse(.content, payload: x)
            case "/y": CoAPResponse(.content, payload: y)
            default: CoAPResponse(.changed)
            }
        }
        let gx = net.send(CoAPRequest(.get, path: "/x"))
        let gy = net.send(CoAPRequest(.get, path: "/y"))
        let put = net.send(CoAPRequest(.put, path: "/z", payload: x))
        let done = net.run { [gx, gy, put].allSatisfy { net.finalEvent($0) != nil } }
        #expect(done)
        #expect(net.finalEvent(gx)?.asResponse?.message.payload == x)
        #expect(net.finalEvent(gy)?.asResponse?.message.payload == y)
        #expect(net.finalEvent(put)?.asResponse?.message.code == .changed)
        #expect(net.events(.b).compactMap(\.asRequest).last?.message.payload == x)
    }

    @Test func concurrentBlockTransfersWithNstartTwoAndLoss() throws {
        var configuration = Self.configuration(maxRetransmit: 10)
        configuration.transmission.nstart = 2
        let x = EP.body(4000, salt: 31)
        let y = EP.body(3000, salt: 32)
        let net = EndpointNetwork(a: configuration, b: configuration)
        net.lossRate = 0.2
        net.appB = { request in
            request.message.code == .put ? CoAPResponse(.changed)
                : CoAPResponse(.content, payload: request.message.path == "/x" ? x : y)
        }
        let gx = net.send(CoAPRequest(.get, path: "/x"))
        let gy = net.send(CoAPRequest(.get, path: "/y"))
        let pz = net.send(CoAPRequest(.put, path: "/z", payload: y))
        let done = net.run(for: .seconds(20_000)) { [gx, gy, pz].allSatisfy { net.finalEvent($0) != nil } }
        #expect(done)
        #expect(net.finalEvent(gx)?.asResponse?.message.payload == x)
        #expect(net.finalEvent(gy)?.asResponse?.message.payload == y)
        let puts = net.events(.b).compactMap(\.asRequest).filter { $0.message.code == .put }
        #expect(puts.count == 1)
        #expect(puts.first?.message.payload == y)
    }

    @Test func nonConfirmableBlock1Upload() throws {
        let body = EP.body(2500)
        let net = EndpointNetwork()
        net.appB = { _ in CoAPResponse(.changed) }
        let id = net.send(CoAPRequest(.put, path: "/fw", payload: body, confirmable: false))
        #expect(net.runUntilFinished(id))
        #expect(net.finalEvent(id)?.asResponse?.message.code == .changed)
        #expect(net.events(.b).compactMap(\.asRequest).first?.message.payload == body)
        #expect(net.log.allSatisfy { $0.message?.type == .nonConfirmable })
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func getAndPutCompleteWithThirtyPercentLoss(seed: UInt64) throws {
        // 30 % loss each way: MAX_RETRANSMIT raised to 10 so one exchange fails with
        // probability ≈ 0.51^11 instead of 0.51^5 (which would make a 5-block transfer
        // fail one run in six even though nothing is wrong).
        let configuration = Self.configuration(maxRetransmit: 10)
        let down = EP.body(5000, salt: Int(seed))
        let up = EP.body(5000, salt: Int(seed) + 100)
        let net = EndpointNetwork(a: configuration, b: configuration, seedA: seed, seedB: seed &+ 100)
        net.lossRate = 0.3
        net.lossRandom = SplitMix64(seed: seed &* 7919)
        net.appB = { request in
            request.message.code == .get ? CoAPResponse(.content, payload: down) : CoAPResponse(.changed)
        }
        let get = net.send(CoAPRequest(.get, path: "/big"))
        #expect(net.runUntilFinished(get, for: .seconds(10_000)))
        #expect(net.finalEvent(get)?.asResponse?.message.payload == down)

        let put = net.send(CoAPRequest(.put, path: "/fw", payload: up))
        #expect(net.runUntilFinished(put, for: .seconds(10_000)))
        #expect(net.finalEvent(put)?.asResponse?.message.code == .changed)
        let bRequests = net.events(.b).compactMap(\.asRequest)
        #expect(bRequests.filter { $0.message.code == .put }.count == 1, "the PUT reached the application once")
        #expect(bRequests.first { $0.message.code == .put }?.message.payload == up)
        #expect(net.log.contains { $0.dropped }, "the network did lose datagrams")
        #expect(net.log.filter(\.dropped).count > net.log.count / 6)
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func blockTransfersSurviveLossDuplicationAndReordering(seed: UInt64) throws {
        var configuration = Self.configuration(maxRetransmit: 10)
        configuration.transmission.nstart = 2
        let net = EndpointNetwork(a: configuration, b: configuration, seedA: seed, seedB: ~seed)
        net.lossRandom = SplitMix64(seed: seed)
        net.lossRate = 0.15
        net.duplicateRate = 0.15
        net.delayRate = 0.3
        net.maximumDelay = .seconds(4)
        let bodies = (0..<4).map { EP.body(1500 + 900 * $0, salt: Int(seed) * 10 + $0) }
        net.appB = { request in
            let index = Int(request.message.uriPath.last ?? "") ?? 0
            switch request.message.code {
            case .get: return CoAPResponse(.content, payload: bodies[index])
            case .put: return CoAPResponse(.changed, payload: Array("\(request.message.payload.count)".utf8))
            default: return .error(.methodNotAllowed, "")
            }
        }
        var gets: [RequestID] = [], puts: [RequestID] = []
        for i in 0..<4 {
            gets.append(net.send(CoAPRequest(.get, path: "/r/\(i)")))
            puts.append(net.send(CoAPRequest(.put, path: "/w/\(i)", payload: bodies[i])))
        }
        let done = net.run(for: .seconds(50_000)) { (gets + puts).allSatisfy { net.finalEvent($0) != nil } }
        #expect(done)
        for (i, id) in gets.enumerated() {
            #expect(net.finalEvent(id)?.asResponse?.message.payload == bodies[i], "GET /r/\(i)")
        }
        for (i, id) in puts.enumerated() {
            #expect(net.finalEvent(id)?.asResponse?.message.payload == Array("\(bodies[i].count)".utf8), "PUT /w/\(i)")
        }
        // Each PUT reached B's application exactly once, with the right body.
        let received = net.events(.b).compactMap(\.asRequest).filter { $0.message.code == .put }
        #expect(received.count == 4)
        for r in received {
            let index = Int(r.message.uriPath.last ?? "") ?? -1
            #expect(r.message.payload == bodies[index])
        }
        #expect(net.log.contains { $0.dropped })
    }

    @Test func smallBlocksWithLossComplete() throws {
        let down = EP.body(4000, salt: 3)
        let net = EndpointNetwork(
            a: Self.configuration(szx: 6, maxRetransmit: 10), b: Self.configuration(szx: 4, maxRetransmit: 10),
            seedA: 5, seedB: 6)
        net.lossRate = 0.3
        net.appB = { request in
            request.message.code == .get ? CoAPResponse(.content, payload: down) : CoAPResponse(.changed)
        }
        let get = net.send(CoAPRequest(.get, path: "/big"))
        #expect(net.runUntilFinished(get, for: .seconds(20_000)))
        #expect(net.finalEvent(get)?.asResponse?.message.payload == down)
        let put = net.send(CoAPRequest(.put, path: "/fw", payload: down))
        #expect(net.runUntilFinished(put, for: .seconds(20_000)))
        #expect(net.events(.b).compactMap(\.asRequest).last?.message.payload == down)
    }
}
