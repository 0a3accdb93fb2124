// Streamed Block2 downloads: the sans-IO Block2Download (what each response means for the bytes
// stored) and the engine's sendBlockRequest (one block per request, never reassembled).
import Testing
@testable import CoAP

@Suite struct Block2DownloadTests {
    static let body = EP.body(5000)
    static let request = CoAPRequest(.get, path: "fw")

    /// The server's answer for block `number` of `body` (size 2^(szx+4)) with `eTag`.
    static func block(_ number: UInt32, szx: UInt8 = 6, of body: [UInt8] = body, eTag: [UInt8]? = [1, 2],
                      code: CoAPCode = .content) -> CoAPMessage {
        let size = 16 << Int(szx)
        let start = min(Int(number) * size, body.count)
        let end = min(start + size, body.count)
        var message = CoAPMessage(type: .acknowledgement, code: code, payload: Array(body[start..<end]))
        message.block2 = BlockValue(number: number, more: end < body.count, szx: szx)
        if let eTag { message.eTag = eTag }
        if number == 0 { message.size2 = UInt32(body.count) }
        return message
    }

    /// Runs `download` to the end against `serve`, applying each outcome to `stored`.
    static func run(_ download: inout Block2Download, stored: inout [UInt8],
                    serve: (BlockValue) -> CoAPMessage) throws(Block2DownloadError) -> [UInt32] {
        var asked: [UInt32] = []
        while !download.isComplete {
            let next = download.nextBlock
            asked.append(next.number)
            let outcome = try download.receive(serve(next))
            if outcome.restart { stored = [] }
            stored += outcome.payload
            #expect(Int64(stored.count) == download.offset)
            if asked.count > 100 { Issue.record("no end"); break }
        }
        return asked
    }

    @Test func downloadsBlockByBlockHandingEachPayloadOver() throws {
        var download = Block2Download(request: Self.request)
        var stored: [UInt8] = []
        let asked = try Self.run(&download, stored: &stored) { Self.block($0.number, szx: $0.szx) }
        #expect(asked == [0, 1, 2, 3, 4])
        #expect(stored == Self.body)
        #expect(download.totalSize == 5000)
        #expect(download.eTag == [1, 2])
        #expect(download.restarts == 0)
    }

    @Test func resumesAtTheGivenBlockWithoutAskingBlock0() throws {
        var download = Block2Download(request: Self.request, resumingAt: 2048, eTag: [1, 2])
        var stored = Array(Self.body[0..<2048])
        let asked = try Self.run(&download, stored: &stored) { Self.block($0.number, szx: $0.szx) }
        #expect(asked == [2, 3, 4])
        #expect(stored == Self.body)
    }

    @Test func resumeOffsetIsTheLastWholeBlock() {
        #expect(Block2Download.resumeOffset(stored: 0) == 0)
        #expect(Block2Download.resumeOffset(stored: 1023) == 0)
        #expect(Block2Download.resumeOffset(stored: 3000) == 2048)
        #expect(Block2Download.resumeOffset(stored: 3000, blockSZX: 4) == 2816)
        #expect(Block2Download.resumeOffset(stored: -5) == 0)
    }

    @Test func resumeOfAChangedRepresentationStartsAgainFromBlock0() throws {
        let new = EP.body(3000, salt: 9)
        var download = Block2Download(request: Self.request, resumingAt: 2048, eTag: [1, 2])
        var stored = Array(Self.body[0..<2048])
        let asked = try Self.run(&download, stored: &stored) { Self.block($0.number, of: new, eTag: [7]) }
        #expect(asked == [2, 0, 1, 2])
        #expect(stored == new)
        #expect(download.restarts == 1)
        #expect(download.eTag == [7])
    }

    @Test func eTagChangeMidTransferRestartsThenFailsWhenItKeepsChanging() throws {
        var download = Block2Download(request: Self.request, eTagPolicy: .restart(limit: 2))
        var stored: [UInt8] = []
        var counter: UInt8 = 0
        #expect(throws: Block2DownloadError.representationChanged) {
            _ = try Self.run(&download, stored: &stored) { block in
                counter &+= 1
                return Self.block(block.number, eTag: [block.number == 0 ? counter : counter &- 1])
            }
        }
        #expect(download.restarts == 2)
    }

    @Test func eTagChangeFailsAtOnceWithTheFailPolicy() throws {
        var download = Block2Download(request: Self.request, eTagPolicy: .fail)
        _ = try download.receive(Self.block(0))
        #expect(throws: Block2DownloadError.representationChanged) { try download.receive(Self.block(1, eTag: [9])) }
        var missing = Block2Download(request: Self.request, eTagPolicy: .fail)
        _ = try missing.receive(Self.block(0))
        #expect(throws: Block2DownloadError.representationChanged) { try missing.receive(Self.block(1, eTag: nil)) }
    }

    @Test func serverErrorsAndWrongBlocksAreTypedErrors() throws {
        var download = Block2Download(request: Self.request)
        #expect(throws: Block2DownloadError.status(.notFound)) { try download.receive(Self.block(0, code: .notFound)) }
        _ = try download.receive(Self.block(0))
        #expect(throws: Block2DownloadError.unexpectedBlock(expectedOffset: 1024, receivedOffset: 3072)) {
            try download.receive(Self.block(3))
        }
        var short = Self.block(1)
        short.payload.removeLast()
        #expect(throws: Block2DownloadError.malformedBlock("block 1/1/1024 carries 1023 bytes")) { try download.receive(short) }
        #expect(download.offset == 1024, "nothing accepted from a bad response")
    }

    @Test func smallerBlocksChosenByTheServerAreFollowed() throws {
        var download = Block2Download(request: Self.request)
        var stored: [UInt8] = []
        let asked = try Self.run(&download, stored: &stored) { Self.block($0.number * UInt32($0.size) / 512, szx: 5) }
        #expect(asked == Array(0...9))
        #expect(download.blockSZX == 5)
        #expect(stored == Self.body)
    }

    @Test func aServerThatCannotResumeAnswersBlock0AndTheDownloadRestarts() throws {
        var download = Block2Download(request: Self.request, resumingAt: 1024, eTag: [1, 2])
        let outcome = try download.receive(Self.block(0))
        #expect(outcome.restart && outcome.payload.count == 1024 && !outcome.complete)
        #expect(download.nextBlock.number == 1)
        var whole = Block2Download(request: Self.request, resumingAt: 1024, eTag: [1, 2])
        let single = try whole.receive(CoAPMessage(type: .acknowledgement, code: .content, payload: [1, 2, 3]))
        #expect(single.restart && single.complete && Array(single.payload) == [1, 2, 3])
    }

    @Test func resumePastTheEndStartsAgainFromBlock0() throws {
        // 5120 bytes were stored whole (5 full blocks): block 5 does not exist, the server says 4.02.
        let body = EP.body(5120)
        var download = Block2Download(request: Self.request, resumingAt: 5120, eTag: [1, 2])
        var stored = body
        let asked = try Self.run(&download, stored: &stored) { block in
            block.number >= 5 ? CoAPMessage(type: .acknowledgement, code: .badOption) : Self.block(block.number, of: body)
        }
        #expect(asked == [5, 0, 1, 2, 3, 4])
        #expect(stored == body)
        // Only the first answer of a resumed download may do that: later, 4.02 is an error.
        var later = Block2Download(request: Self.request, resumingAt: 1024, eTag: [1, 2])
        _ = try later.receive(Self.block(1))
        #expect(throws: Block2DownloadError.status(.badOption)) {
            try later.receive(CoAPMessage(type: .acknowledgement, code: .badOption))
        }
    }

    @Test func aBodyBeyond2To20BlocksIsRefused() throws {
        var download = Block2Download(request: Self.request, blockSZX: 0,
                                      resumingAt: Int64(BlockValue.maximumNumber) * 16, eTag: [1, 2])
        var last = CoAPMessage(type: .acknowledgement, code: .content, payload: Array(repeating: 0, count: 16))
        last.block2 = BlockValue(number: BlockValue.maximumNumber, more: true, szx: 0)
        last.eTag = [1, 2]
        #expect(throws: Block2DownloadError.tooManyBlocks) { try download.receive(last) }
    }
}

@Suite struct EndpointBlockRequestTests {
    @Test func blockRequestCarriesTheBlockAndItsResponseIsDeliveredAsItIs() throws {
        let d = EndpointDriver()
        let id = d.endpoint.sendBlockRequest(CoAPRequest(.get, path: "fw"), block2: BlockValue(number: 7, more: true, szx: 6),
                                             to: .b, at: d.now)
        d.collect()
        let sent = try #require(d.takeOne())
        #expect(sent.code == .get && sent.type == .confirmable)
        #expect(sent.block2 == BlockValue(number: 7, more: false, szx: 6), "M bit clear in a request")
        #expect(sent.uriPath == ["fw"])
        let payload = EP.body(1024)
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: sent.messageID, token: sent.token.bytes,
                              options: [EP.Opt(4, [9]), .block2(7, more: true, szx: 6)], payload: payload))
        #expect(d.take().isEmpty, "no request for block 8: the caller drives the transfer")
        let events = d.takeEvents()
        #expect(events.count == 1)
        let response = try #require(events.first?.asResponse)
        #expect(response.id == id)
        #expect(response.message.block2 == BlockValue(number: 7, more: true, szx: 6))
        #expect(response.message.payload == payload)
        #expect(response.message.eTag == [9])
        #expect(d.endpoint.pendingRequestCount == 0)
    }

    @Test func unansweredBlockRequestIsRetransmittedThenTimesOut() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission.maxRetransmit = 2
        let d = EndpointDriver(configuration: configuration)
        let id = d.endpoint.sendBlockRequest(CoAPRequest(.get, path: "fw"), block2: BlockValue(number: 3, more: false, szx: 6),
                                             to: .b, at: d.now)
        d.collect()
        d.advance(by: .seconds(60))
        let sent = d.take().compactMap { EP.decode($0.bytes) }
        #expect(sent.count == 3, "the request and two retransmissions")
        #expect(sent.allSatisfy { $0.block2?.number == 3 })
        let events = d.takeEvents()
        guard case .requestFailed(id, .timeout)? = events.first else {
            Issue.record("expected requestFailed(timeout), got \(events)")
            return
        }
    }
}
