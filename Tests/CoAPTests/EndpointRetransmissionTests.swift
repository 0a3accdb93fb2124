// RFC 7252 §4.2, §4.7, §4.8, §5.2: retransmission with back-off on a virtual clock, NSTART,
// Reset, ping, separate responses and response time-outs (client role).
import Testing
@testable import CoAP

@Suite struct EndpointRetransmissionTests {
    /// Allowed disagreement between the T measured from the first resend and later resends
    /// (Duration × Double and nanosecond truncation may each lose a nanosecond).
    static let tolerance = 1e-6

    /// Sends a CON GET and lets it time out; returns the send instants and the failure instant.
    static func timeOut(
        configuration: EndpointConfiguration, seed: UInt64
    ) throws -> (sends: [Double], failure: Double, id: RequestID, driver: EndpointDriver) {
        let d = EndpointDriver(configuration: configuration, seed: seed, start: EP.at(100))
        let id = d.send(CoAPRequest(.get, path: "/3/0"))
        d.advance(by: .seconds(100_000))
        let sends = d.allSent.map { EP.seconds($0.at) }
        let bytes = d.allSent.map(\.datagram.bytes)
        #expect(Set(bytes).count == 1, "every retransmission is byte-identical (same MID, same token)")
        let failures = d.takeTimedEvents().filter { $0.event.asFailure != nil }
        #expect(failures.count == 1)
        let failure = try #require(failures.first)
        #expect(failure.event.asFailure?.id == id)
        #expect(failure.event.asFailure?.reason == .timeout)
        return (sends, EP.seconds(failure.at), id, d)
    }

    @Test(arguments: [1, 2, 3, 42, 0xDEAD_BEEF] as [UInt64])
    func confirmableRequestBacksOffExponentiallyThenTimesOut(seed: UInt64) throws {
        let run = try Self.timeOut(configuration: EndpointConfiguration(), seed: seed)
        // One transmission + MAX_RETRANSMIT = 4 retransmissions.
        #expect(run.sends.count == 5)
        guard run.sends.count == 5 else { return }
        let t0 = run.sends[0]
        #expect(t0 == 100)
        let T = run.sends[1] - t0
        #expect(T >= 2.0 && T <= 3.0, "initial timeout in [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR]")
        // Gaps T, 2T, 4T, 8T: resends at t0 + T, 3T, 7T, 15T.
        #expect(abs(run.sends[2] - (t0 + 3 * T)) < Self.tolerance)
        #expect(abs(run.sends[3] - (t0 + 7 * T)) < Self.tolerance)
        #expect(abs(run.sends[4] - (t0 + 15 * T)) < Self.tolerance)
        // After the 4th retransmission the timeout doubles once more (16T) and then the attempt is
        // abandoned (RFC 7252 §4.2): failure at t0 + 31T, within MAX_TRANSMIT_WAIT (93 s).
        #expect(abs(run.failure - (t0 + 31 * T)) < Self.tolerance)
        #expect(run.failure - t0 <= 93.0 + Self.tolerance)
        #expect(run.driver.endpoint.pendingRequestCount == 0)
    }

    @Test func initialTimeoutIsRandomisedAcrossSeeds() throws {
        var timeouts: [Double] = []
        for seed in UInt64(1)...20 {
            let d = EndpointDriver(seed: seed, start: .zero)
            _ = d.send(CoAPRequest(.get, path: "/x"))
            _ = d.take()
            let deadline = try #require(d.endpoint.nextDeadline)
            let T = EP.seconds(deadline)
            #expect(T >= 2.0 && T <= 3.0)
            timeouts.append(T)
        }
        #expect(Set(timeouts).count > 15, "the jitter differs between seeds")
        #expect(timeouts.contains { $0 < 2.5 } && timeouts.contains { $0 > 2.5 })
    }

    @Test func ackTimeoutScalesTheSchedule() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission = TransmissionParameters(ackTimeout: .seconds(10))
        let run = try Self.timeOut(configuration: configuration, seed: 9)
        #expect(run.sends.count == 5)
        guard run.sends.count == 5 else { return }
        let t0 = run.sends[0]
        let T = run.sends[1] - t0
        #expect(T >= 10.0 && T <= 15.0)
        #expect(abs(run.sends[2] - (t0 + 3 * T)) < Self.tolerance)
        #expect(abs(run.sends[3] - (t0 + 7 * T)) < Self.tolerance)
        #expect(abs(run.sends[4] - (t0 + 15 * T)) < Self.tolerance)
        #expect(abs(run.failure - (t0 + 31 * T)) < Self.tolerance)
    }

    @Test func maxRetransmitAndRandomFactorAreConfigurable() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission = TransmissionParameters(ackTimeout: .seconds(1), ackRandomFactor: 1.0, maxRetransmit: 2)
        let run = try Self.timeOut(configuration: configuration, seed: 5)
        // Factor 1.0: T is exactly ACK_TIMEOUT. Sends at 0, 1, 3; failure at 7.
        #expect(run.sends.map { $0 - 100 } == [0, 1, 3])
        #expect(run.failure - 100 == 7)
    }

    @Test func nothingIsRetransmittedBeforeTheTimeout() throws {
        let d = EndpointDriver(start: EP.at(10))
        _ = d.send(CoAPRequest(.get, path: "/x"))
        #expect(d.take().count == 1)
        d.advance(to: EP.at(11.999))
        #expect(d.take().isEmpty, "T ≥ 2 s")
        d.advance(to: EP.at(13.0))
        #expect(d.take().count == 1, "T ≤ 3 s")
    }

    @Test func piggybackedResponseStopsRetransmission() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/3/0/0"))
        let request = try #require(d.takeOne())
        #expect(request.type == .confirmable)
        #expect(request.code == .get)
        #expect(request.uriPath == ["3", "0", "0"])
        #expect(request.token.count == 4, "default token length")
        d.advance(by: .seconds(3))
        #expect(d.take().count == 1, "one retransmission")

        // ACK 2.05 with the request's MID and token.
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes, payload: [0x41]))
        let events = d.takeEvents()
        #expect(events.count == 1)
        let response = try #require(events.first?.asResponse)
        #expect(response.id == id)
        #expect(response.message.code == .content)
        #expect(response.message.payload == [0x41])
        d.advance(by: .seconds(1000))
        #expect(d.take().isEmpty, "no retransmission after the ACK")
        #expect(d.takeEvents().isEmpty, "no timeout after the response")
        #expect(d.endpoint.pendingRequestCount == 0)
    }

    /// The acknowledged request's retransmission entry is cancelled lazily; it must not stay the
    /// endpoint's next deadline, or an idle agent wakes once for nothing after every
    /// confirmable exchange (the registered daemon's one idle wake-up after its Register).
    @Test func anAcknowledgedRequestLeavesNoDeadline() throws {
        let d = EndpointDriver()
        _ = d.send(CoAPRequest(.post, path: "/rd"))
        let request = try #require(d.takeOne())
        #expect(d.endpoint.nextDeadline != nil, "the retransmission is armed")
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes, payload: []))
        #expect(d.takeEvents().count == 1)
        #expect(d.endpoint.nextDeadline == nil, "nothing left to do: no wake-up")
    }

    @Test func piggybackedResponseWithWrongTokenIsNotOurs() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/x"))
        let request = try #require(d.takeOne())
        var wrong = request.token.bytes
        wrong[0] ^= 0xFF
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: wrong, payload: [1]))
        #expect(d.takeEvents().isEmpty)
        d.advance(by: .seconds(3))
        #expect(d.take().count == 1, "still retransmitting")
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes, payload: [2]))
        #expect(d.takeEvents().first?.asResponse?.id == id)
    }

    @Test func piggybackedResponseWithUnrecognisedCriticalOptionIsRejected() throws {
        // RFC 7252 §5.4.1: such a response MUST be rejected; rejecting an ACK is silently
        // ignoring it (§4.2), so the request is retransmitted as if nothing had arrived.
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/x"))
        let request = try #require(d.takeOne())
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes,
                              options: [EP.Opt(9, [1])], payload: [1]))
        #expect(d.takeEvents().isEmpty)
        #expect(d.take().isEmpty, "no RST for an ACK")
        d.advance(by: .seconds(3))
        #expect(d.take().count == 1, "still retransmitting")
        // So is one with a repeated non-repeatable critical option.
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes,
                              options: [.uint(23, 0x0E), .uint(23, 0x1E)], payload: EP.body(1024)))
        #expect(d.takeEvents().isEmpty)
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes, payload: [2]))
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.message.payload) == [[2]])
        _ = id
    }

    @Test func separateResponseWithUnrecognisedCriticalOptionIsRejected() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/x"))
        let request = try #require(d.takeOne())
        d.receive(EP.empty(EP.ACK, mid: request.messageID))
        // CON: rejected with a Reset carrying its MID.
        d.receive(EP.datagram(EP.CON, EP.c205, mid: 0x6001, token: request.token.bytes, options: [EP.Opt(9, [1])]))
        #expect(d.takeBytes() == [EP.empty(EP.RST, mid: 0x6001)])
        // NON: ignored.
        d.receive(EP.datagram(EP.NON, EP.c205, mid: 0x6002, token: request.token.bytes, options: [EP.Opt(9, [1])]))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
        // A good one is still accepted.
        d.receive(EP.datagram(EP.CON, EP.c205, mid: 0x6003, token: request.token.bytes, options: [EP.Opt(10, [1])]))
        #expect(d.takeBytes() == [EP.empty(EP.ACK, mid: 0x6003)])
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.id) == [id])
    }

    @Test func ackFromAnotherPeerDoesNotMatch() throws {
        let d = EndpointDriver()
        _ = d.send(CoAPRequest(.get, path: "/x"), to: .b)
        let request = try #require(d.takeOne())
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes), from: .a)
        #expect(d.takeEvents().isEmpty)
        #expect(d.endpoint.pendingRequestCount == 1)
    }

    @Test func nstartOneHoldsTheSecondRequestUntilTheFirstIsAcknowledged() throws {
        let d = EndpointDriver()
        let first = d.send(CoAPRequest(.get, path: "/first"))
        let second = d.send(CoAPRequest(.get, path: "/second"))
        let other = d.send(CoAPRequest(.get, path: "/other"), to: .a)
        let sent = d.take()
        #expect(sent.count == 2, "the second request to B waits; NSTART is per peer")
        #expect(sent.map(\.peer) == [.b, .a])
        let m1 = try #require(EP.decode(sent[0].bytes))
        #expect(m1.path == "/first")

        // Retransmissions of the first do not release the slot.
        d.advance(by: .seconds(3))
        let resent = d.take()
        #expect(resent.filter { $0.peer == .b }.map(\.bytes) == [sent[0].bytes])

        d.receive(EP.datagram(EP.ACK, EP.c205, mid: m1.messageID, token: m1.token.bytes))
        let events = d.takeEvents()
        #expect(events.compactMap(\.asResponse).map(\.id) == [first])
        let next = try #require(d.takeOne())
        #expect(next.path == "/second")
        #expect(next.type == .confirmable)
        #expect(next.messageID != m1.messageID)
        #expect(next.token != m1.token)
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: next.messageID, token: next.token.bytes))
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.id) == [second])
        _ = other
    }

    @Test func nstartSlotIsReleasedByTimeoutResetAndCancel() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission = TransmissionParameters(ackTimeout: .seconds(1), ackRandomFactor: 1.0, maxRetransmit: 1)
        let d = EndpointDriver(configuration: configuration, start: .zero)
        let a = d.send(CoAPRequest(.get, path: "/a"))
        let b = d.send(CoAPRequest(.get, path: "/b"))
        let c = d.send(CoAPRequest(.get, path: "/c"))
        let d4 = d.send(CoAPRequest(.get, path: "/d"))
        #expect(d.take().compactMap { EP.decode($0.bytes)?.path } == ["/a"])
        // /a times out at 3 s (sends at 0 and 1): then /b starts.
        d.advance(to: EP.at(3))
        #expect(d.takeEvents().compactMap(\.asFailure).map(\.id) == [a])
        let all = d.take().compactMap { EP.decode($0.bytes) }
        #expect(all.map(\.path) == ["/a", "/b"])
        // /b is reset: then /c starts.
        let mb = all[1]
        d.receive(EP.empty(EP.RST, mid: mb.messageID))
        #expect(d.takeEvents().compactMap(\.asFailure).map(\.reason) == [.reset])
        let mc = try #require(d.takeOne())
        #expect(mc.path == "/c")
        // /c is cancelled: no event for it, /d starts at once, /c is never retransmitted.
        d.cancel(c)
        #expect(d.takeEvents().isEmpty)
        let md = try #require(d.takeOne())
        #expect(md.path == "/d")
        d.advance(by: .seconds(10))
        let later = d.take().compactMap { EP.decode($0.bytes) }
        #expect(later.allSatisfy { $0.path == "/d" })
        #expect(d.takeEvents().compactMap(\.asFailure).map(\.id) == [d4])
        _ = b
    }

    @Test func nstartTwoAllowsTwoOutstanding() {
        var configuration = EndpointConfiguration()
        configuration.transmission.nstart = 2
        let d = EndpointDriver(configuration: configuration)
        for path in ["/1", "/2", "/3"] { _ = d.send(CoAPRequest(.get, path: path)) }
        #expect(d.take().compactMap { EP.decode($0.bytes)?.path } == ["/1", "/2"])
    }

    @Test func nonConfirmableRequestsAreNotLimitedByNstartNorRetransmitted() {
        let d = EndpointDriver()
        _ = d.send(CoAPRequest(.get, path: "/con"))
        _ = d.send(CoAPRequest(.get, path: "/non1", confirmable: false))
        _ = d.send(CoAPRequest(.get, path: "/non2", confirmable: false))
        let sent = d.take().compactMap { EP.decode($0.bytes) }
        #expect(sent.map(\.path) == ["/con", "/non1", "/non2"])
        #expect(sent.map(\.type) == [.confirmable, .nonConfirmable, .nonConfirmable])
        d.advance(by: .seconds(200))
        let resent = d.take().compactMap { EP.decode($0.bytes)?.path }
        #expect(!resent.isEmpty && resent.allSatisfy { $0 == "/con" })
    }

    @Test func resetToOurConfirmableFailsTheRequest() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.post, path: "/x", payload: [1, 2, 3]))
        let request = try #require(d.takeOne())
        d.receive(EP.empty(EP.RST, mid: request.messageID))
        let events = d.takeEvents()
        #expect(events.count == 1)
        #expect(events.first?.asFailure?.id == id)
        #expect(events.first?.asFailure?.reason == .reset)
        d.advance(by: .seconds(500))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
        // A Reset with another MID is ignored.
        let id2 = d.send(CoAPRequest(.get, path: "/y"))
        let r2 = try #require(d.takeOne())
        d.receive(EP.empty(EP.RST, mid: r2.messageID &+ 1))
        #expect(d.takeEvents().isEmpty)
        #expect(d.endpoint.pendingRequestCount == 1)
        _ = id2
    }

    @Test func pingIsAnEmptyConfirmableAnsweredByReset() throws {
        let d = EndpointDriver()
        let id = d.ping()
        let bytes = try #require(d.takeBytes().first)
        #expect(bytes.count == 4)
        #expect(bytes[0] == 0x40 && bytes[1] == 0x00, "empty CON")
        d.receive(EP.empty(EP.RST, mid: EP.mid(bytes)))
        #expect(d.takeEvents().compactMap(\.asPong) == [id])
        d.advance(by: .seconds(300))
        #expect(d.take().isEmpty)
    }

    @Test func pingAnsweredByEmptyAckIsAPongToo() throws {
        let d = EndpointDriver()
        let id = d.ping()
        let bytes = try #require(d.takeBytes().first)
        d.receive(EP.empty(EP.ACK, mid: EP.mid(bytes)))
        #expect(d.takeEvents().compactMap(\.asPong) == [id])
    }

    @Test func twoEndpointsPingEachOther() throws {
        let net = EndpointNetwork()
        let id = net.a.ping(.b, at: net.now)
        net.pump()
        #expect(net.events(.a).compactMap(\.asPong) == [id])
        #expect(net.log.map(\.bytes.count) == [4, 4])
        #expect(net.log.map { $0.message?.type } == [.confirmable, .reset])
    }

    @Test func unansweredPingTimesOut() throws {
        let d = EndpointDriver()
        let id = d.ping()
        d.advance(by: .seconds(200))
        #expect(d.allSent.count == 5)
        #expect(d.takeEvents().compactMap(\.asFailure).map(\.reason) == [.timeout])
        _ = id
    }

    @Test func separateResponseIsAcknowledgedAndDelivered() throws {
        var configuration = EndpointConfiguration()
        configuration.responseTimeout = .seconds(60)
        let d = EndpointDriver(configuration: configuration)
        let id = d.send(CoAPRequest(.get, path: "/slow"))
        let request = try #require(d.takeOne())
        // Empty ACK: the response will come later.
        d.receive(EP.empty(EP.ACK, mid: request.messageID))
        #expect(d.takeEvents().isEmpty)
        d.advance(by: .seconds(30))
        #expect(d.take().isEmpty, "no retransmission after the empty ACK")
        #expect(d.takeEvents().isEmpty)

        // The separate response: CON 2.05, the peer's own MID, our token.
        let response = EP.datagram(EP.CON, EP.c205, mid: 0x7777, token: request.token.bytes, payload: Array("late".utf8))
        d.receive(response)
        #expect(d.takeBytes() == [[0x60, 0x00, 0x77, 0x77]], "empty ACK with the response's MID")
        let events = d.takeEvents()
        #expect(events.count == 1)
        let delivered = try #require(events.first?.asResponse)
        #expect(delivered.id == id)
        #expect(delivered.message.payload == Array("late".utf8))
        #expect(delivered.message.code == .content)

        // A retransmission of the response is acknowledged again but not delivered twice.
        d.receive(response)
        #expect(d.takeBytes() == [[0x60, 0x00, 0x77, 0x77]])
        #expect(d.takeEvents().isEmpty)
        d.advance(by: .seconds(120))
        #expect(d.takeEvents().isEmpty, "the response time-out was disarmed")
    }

    @Test func separateNonResponseIsDeliveredWithoutAck() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/slow"))
        let request = try #require(d.takeOne())
        d.receive(EP.empty(EP.ACK, mid: request.messageID))
        d.receive(EP.datagram(EP.NON, EP.c205, mid: 0x0101, token: request.token.bytes, payload: [9]))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.id) == [id])
    }

    @Test func separateResponseBeforeTheAckStopsRetransmission() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/x"))
        let request = try #require(d.takeOne())
        // The ACK was lost; the CON response arrives directly.
        d.receive(EP.datagram(EP.CON, EP.c205, mid: 0x0202, token: request.token.bytes, payload: [7]))
        #expect(d.takeBytes() == [[0x60, 0x00, 0x02, 0x02]])
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.id) == [id])
        d.advance(by: .seconds(300))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func separateResponseThatNeverComesTimesOut() throws {
        var configuration = EndpointConfiguration()
        configuration.responseTimeout = .seconds(30)
        let d = EndpointDriver(configuration: configuration, start: EP.at(50))
        let id = d.send(CoAPRequest(.get, path: "/slow"))
        let request = try #require(d.takeOne())
        d.advance(to: EP.at(51))
        d.receive(EP.empty(EP.ACK, mid: request.messageID))
        d.advance(to: EP.at(80.999))
        #expect(d.takeEvents().isEmpty)
        d.advance(to: EP.at(81.5))
        let events = d.takeTimedEvents()
        #expect(events.count == 1)
        #expect(events.first?.event.asFailure?.id == id)
        #expect(events.first?.event.asFailure?.reason == .timeout)
        #expect(events.first.map { EP.seconds($0.at) } == 81.0)
        #expect(d.take().isEmpty, "nothing is sent for a response time-out")
        // A late response is now unknown: CON → RST.
        d.receive(EP.datagram(EP.CON, EP.c205, mid: 0x0303, token: request.token.bytes))
        #expect(d.takeBytes() == [[0x70, 0x00, 0x03, 0x03]])
        #expect(d.takeEvents().isEmpty)
    }

    @Test func defaultResponseTimeoutIsExchangeLifetime() throws {
        let d = EndpointDriver(start: .zero)
        #expect(EP.seconds(d.endpoint.configuration.transmission.exchangeLifetime) == 247)
        let id = d.send(CoAPRequest(.get, path: "/slow"))
        let request = try #require(d.takeOne())
        d.receive(EP.empty(EP.ACK, mid: request.messageID))
        d.advance(to: EP.at(246.9))
        #expect(d.takeEvents().isEmpty)
        d.advance(to: EP.at(247.1))
        #expect(d.takeEvents().compactMap(\.asFailure).map(\.id) == [id])
    }

    @Test func nonRequestTimesOutWithoutResponse() throws {
        var configuration = EndpointConfiguration()
        configuration.responseTimeout = .seconds(5)
        let d = EndpointDriver(configuration: configuration, start: .zero)
        let id = d.send(CoAPRequest(.get, path: "/x", confirmable: false))
        #expect(d.takeOne()?.type == .nonConfirmable)
        d.advance(to: EP.at(4.9))
        #expect(d.takeEvents().isEmpty)
        d.advance(to: EP.at(5))
        #expect(d.takeEvents().compactMap(\.asFailure).map(\.id) == [id])
        #expect(d.allSent.count == 1, "a NON is never retransmitted")
    }

    @Test func nonRequestIsAnsweredByNonResponse() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/x", confirmable: false))
        let request = try #require(d.takeOne())
        d.receive(EP.datagram(EP.NON, EP.c205, mid: 0x4444, token: request.token.bytes, payload: [1]))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().compactMap(\.asResponse).map(\.id) == [id])
    }

    @Test func cancelledRequestProducesNoEventAndStopsRetransmitting() throws {
        let d = EndpointDriver()
        let id = d.send(CoAPRequest(.get, path: "/x"))
        let request = try #require(d.takeOne())
        d.cancel(id)
        d.advance(by: .seconds(500))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
        // A late piggybacked answer is ignored.
        d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes))
        #expect(d.takeEvents().isEmpty)
        #expect(d.endpoint.pendingRequestCount == 0)
    }

    @Test func requestsUseDistinctMessageIDsAndTokens() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission.nstart = 100
        configuration.tokenLength = 8
        let d = EndpointDriver(configuration: configuration)
        for i in 0..<50 { _ = d.send(CoAPRequest(.get, path: "/\(i)")) }
        let messages = d.take().compactMap { EP.decode($0.bytes) }
        #expect(messages.count == 50)
        #expect(Set(messages.map(\.messageID)).count == 50)
        #expect(Set(messages.map(\.token)).count == 50)
        #expect(messages.allSatisfy { $0.token.count == 8 })
    }

    @Test func sameSeedGivesTheSameDatagrams() {
        func run() -> [[UInt8]] {
            let d = EndpointDriver(seed: 1234)
            _ = d.send(CoAPRequest(.get, path: "/x"))
            _ = d.ping(.a)
            d.advance(by: .seconds(100))
            return d.allSent.map(\.datagram.bytes)
        }
        let first = run()
        #expect(first.count == 10)
        #expect(first == run())
    }
}
