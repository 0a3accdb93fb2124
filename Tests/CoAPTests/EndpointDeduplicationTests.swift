// RFC 7252 §4.5: duplicate detection. A retransmitted CON request is answered again with the
// same bytes and never reaches the application twice (an Execute must not run twice).
import Testing
@testable import CoAP

@Suite struct EndpointDeduplicationTests {
    /// CON POST /3/0/4 (LwM2M Execute "Reboot"), MID `mid`, token `token`.
    static func execute(mid: UInt16, token: UInt8 = 0x5A, type: UInt8 = EP.CON) -> [UInt8] {
        EP.datagram(type, EP.POST, mid: mid, token: [token], options: [.path("3"), .path("0"), .path("4")])
    }

    @Test func duplicateConfirmableGetsTheCachedResponseAndNoSecondEvent() throws {
        let d = EndpointDriver(start: EP.at(1000))
        let request = Self.execute(mid: 0x0100)
        d.receive(request)
        let incoming = try #require(d.takeRequest())
        #expect(incoming.message.path == "/3/0/4")
        d.respond(incoming.exchange, CoAPResponse(.changed, payload: Array("rebooting".utf8)))
        let original = try #require(d.takeBytes().first)
        #expect(Array(original[0..<5]) == [0x61, EP.c204, 0x01, 0x00, 0x5A])

        for offset in [0.0, 2.5, 10, 100, 246.9] {
            d.advance(to: EP.at(1000 + offset))
            _ = d.take()
            d.receive(request)
            #expect(d.takeBytes() == [original], "byte-identical replay at +\(offset) s")
            #expect(d.takeEvents().isEmpty, "the Execute must not run twice (+\(offset) s)")
        }
        #expect(d.endpoint.pendingExchangeCount == 0)
    }

    @Test func sameMessageIDAfterExchangeLifetimeIsANewRequest() throws {
        let d = EndpointDriver(start: EP.at(1000))
        let request = Self.execute(mid: 0x0101)
        d.receive(request)
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed))
        _ = d.take()
        d.advance(to: EP.at(1000 + 248))
        _ = d.take()
        d.receive(request)
        let again = try #require(d.takeRequest(), "EXCHANGE_LIFETIME (247 s) has passed: a new request")
        #expect(again.message.messageID == 0x0101)
        #expect(d.take().isEmpty)
    }

    @Test func exchangeLifetimeFollowsTheTransmissionParameters() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission = TransmissionParameters(ackTimeout: .seconds(10))
        // 10 × 15 × 1.5 + 200 + 10 = 435 s.
        #expect(EP.seconds(configuration.transmission.exchangeLifetime) == 435)
        let d = EndpointDriver(configuration: configuration, start: EP.at(0))
        let request = Self.execute(mid: 0x0102)
        d.receive(request)
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed))
        let original = d.takeBytes()
        d.advance(to: EP.at(400))
        d.receive(request)
        #expect(d.takeBytes() == original)
        #expect(d.takeEvents().isEmpty)
        d.advance(to: EP.at(436))
        d.receive(request)
        #expect(d.takeRequest() != nil)
    }

    @Test func duplicateBeforeTheApplicationAnsweredIsIgnored() throws {
        let d = EndpointDriver()
        let request = Self.execute(mid: 0x0200)
        d.receive(request)
        let incoming = try #require(d.takeRequest())
        d.advance(by: .seconds(2))
        d.receive(request)
        d.receive(request)
        #expect(d.take().isEmpty, "nothing to replay yet")
        #expect(d.takeEvents().isEmpty, "no second .request")
        d.respond(incoming.exchange, CoAPResponse(.changed))
        let answer = d.takeBytes()
        #expect(answer.count == 1)
        d.receive(request)
        #expect(d.takeBytes() == answer)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func duplicateAfterAcknowledgeLaterGetsTheEmptyAckAgain() throws {
        let d = EndpointDriver()
        let request = Self.execute(mid: 0x0300, token: 0x77)
        d.receive(request)
        let incoming = try #require(d.takeRequest())
        d.acknowledgeLater(incoming.exchange)
        #expect(d.takeBytes() == [[0x60, 0x00, 0x03, 0x00]])
        d.acknowledgeLater(incoming.exchange)
        #expect(d.take().isEmpty, "acknowledgeLater is idempotent")

        d.receive(request)
        #expect(d.takeBytes() == [[0x60, 0x00, 0x03, 0x00]])
        #expect(d.takeEvents().isEmpty)

        // The separate response: a CON with a fresh MID and the request's token.
        d.respond(incoming.exchange, CoAPResponse(.changed, payload: [1]))
        let separate = try #require(d.takeOne())
        #expect(separate.type == .confirmable)
        #expect(separate.code == .changed)
        #expect(separate.token.bytes == [0x77])
        #expect(separate.messageID != 0x0300)
        #expect(separate.payload == [1])

        // Still the empty ACK for a duplicate of the request (not the separate response).
        d.receive(request)
        #expect(d.takeBytes() == [[0x60, 0x00, 0x03, 0x00]])
        #expect(d.takeEvents().isEmpty)

        // The separate response is retransmitted until acknowledged.
        d.advance(by: .seconds(3))
        let retransmitted = try #require(d.takeOne())
        #expect(retransmitted == separate)
        d.receive(EP.empty(EP.ACK, mid: separate.messageID))
        d.advance(by: .seconds(300))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func unacknowledgedSeparateResponseGivesUpQuietly() throws {
        let d = EndpointDriver()
        d.receive(Self.execute(mid: 0x0301))
        let incoming = try #require(d.takeRequest())
        d.acknowledgeLater(incoming.exchange)
        _ = d.take()
        d.respond(incoming.exchange, CoAPResponse(.changed))
        d.advance(by: .seconds(300))
        let sent = d.take()
        #expect(sent.count == 5, "1 + MAX_RETRANSMIT")
        #expect(Set(sent.map(\.bytes)).count == 1)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func resetToSeparateResponseStopsIt() throws {
        let d = EndpointDriver()
        d.receive(Self.execute(mid: 0x0302))
        let incoming = try #require(d.takeRequest())
        d.acknowledgeLater(incoming.exchange)
        _ = d.take()
        d.respond(incoming.exchange, CoAPResponse(.changed))
        let separate = try #require(d.takeOne())
        d.receive(EP.empty(EP.RST, mid: separate.messageID))
        d.advance(by: .seconds(300))
        #expect(d.take().isEmpty)
    }

    @Test func nonDuplicatesAreDropped() throws {
        let d = EndpointDriver()
        let request = Self.execute(mid: 0x0400, type: EP.NON)
        d.receive(request)
        let incoming = try #require(d.takeRequest())
        d.receive(request)
        #expect(d.takeEvents().isEmpty)
        d.respond(incoming.exchange, CoAPResponse(.changed))
        #expect(d.take().count == 1)
        d.advance(by: .seconds(100))
        d.receive(request)
        #expect(d.take().isEmpty, "a duplicate NON gets nothing")
        #expect(d.takeEvents().isEmpty)
        // NON_LIFETIME is 145 s.
        d.advance(by: .seconds(46))
        d.receive(request)
        #expect(d.takeRequest() != nil)
    }

    @Test func sameMessageIDFromAnotherPeerIsNotADuplicate() throws {
        let d = EndpointDriver()
        let request = Self.execute(mid: 0x0500)
        d.receive(request, from: .b)
        d.receive(request, from: .a)
        let requests = d.takeEvents().compactMap(\.asRequest)
        #expect(requests.map(\.peer) == [.b, .a])
    }

    @Test func differentMessageIDIsNotADuplicateEvenWithTheSameToken() throws {
        let d = EndpointDriver()
        d.receive(Self.execute(mid: 0x0600))
        d.receive(Self.execute(mid: 0x0601))
        #expect(d.takeEvents().compactMap(\.asRequest).count == 2)
    }

    @Test func cacheCapacityEvictsTheOldest() throws {
        var configuration = EndpointConfiguration()
        configuration.duplicateCacheCapacity = 2
        let d = EndpointDriver(configuration: configuration)
        var answers: [UInt16: [UInt8]] = [:]
        for mid in [UInt16(1), 2, 3] {
            d.receive(Self.execute(mid: mid))
            d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed, payload: [UInt8(mid)]))
            // Through a constant: assigned straight into the optional slot, #require could not fail.
            let answer = try #require(d.takeBytes().first)
            answers[mid] = answer
        }
        // MID 3 and 2 are remembered.
        d.receive(Self.execute(mid: 3))
        #expect(d.takeBytes() == [answers[3]!])
        d.receive(Self.execute(mid: 2))
        #expect(d.takeBytes() == [answers[2]!])
        #expect(d.takeEvents().isEmpty)
        // MID 1 was evicted when MID 3 arrived: it is processed again.
        d.receive(Self.execute(mid: 1))
        #expect(d.take().isEmpty)
        let again = try #require(d.takeRequest())
        #expect(again.message.messageID == 1)
        // … and recording it evicted MID 2 (the oldest live entry).
        d.receive(Self.execute(mid: 2))
        #expect(d.takeRequest() != nil)
        #expect(d.endpoint.duplicates.count <= 2)
    }

    @Test func expiredNonEntriesDoNotPushOutLiveConEntries() throws {
        // NON entries live 145 s, CON entries 247 s, so insertion order is not expiry order.
        // A full cache must drop expired entries before it evicts a live one.
        var configuration = EndpointConfiguration()
        configuration.duplicateCacheCapacity = 2
        let d = EndpointDriver(configuration: configuration, start: EP.at(0))
        let x = Self.execute(mid: 0x0700)
        d.receive(x)                                               // CON, live until 247 s
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed, payload: [1]))
        let answerX = d.takeBytes()
        d.advance(to: EP.at(1))
        d.receive(Self.execute(mid: 0x0701, type: EP.NON))        // NON, live until 146 s
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed))
        _ = d.take()
        d.advance(to: EP.at(200))
        d.receive(Self.execute(mid: 0x0702))                       // live: X and this one
        d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed))
        _ = d.take()
        d.advance(to: EP.at(201))
        d.receive(x)
        #expect(d.takeEvents().isEmpty, "X is live (247 s) and only 2 entries are live: not evicted")
        #expect(d.takeBytes() == answerX)
    }

    @Test func cacheStaysBoundedUnderManyRequests() throws {
        var configuration = EndpointConfiguration()
        configuration.duplicateCacheCapacity = 16
        let d = EndpointDriver(configuration: configuration)
        for mid in UInt16(0)..<500 {
            d.receive(Self.execute(mid: mid))
            d.respond(try #require(d.takeRequest()).exchange, CoAPResponse(.changed))
            _ = d.take()
            #expect(d.endpoint.duplicates.count <= 16)
        }
        // The 16 most recent are still answered from the cache.
        for mid in UInt16(484)..<500 {
            d.receive(Self.execute(mid: mid))
            #expect(d.take().count == 1)
        }
        #expect(d.takeEvents().isEmpty)
    }

    @Test func rejectedRequestDuplicateGetsTheSameRejection() throws {
        let d = EndpointDriver()
        let bad: [UInt8] = [0x41, 0x01, 0x00, 0x10, 0xAA, 0x91, 0x01]  // unknown critical option 9
        d.receive(bad)
        let first = d.takeBytes()
        #expect(first.count == 1)
        d.receive(bad)
        #expect(d.takeBytes() == first)
        #expect(d.takeEvents().isEmpty)
    }
}
