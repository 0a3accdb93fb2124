// LwM2M Observe on the demo's Device object, through a real CoAPEndpoint on the virtual clock
// of `DemoRig` (DemoResourcesTests.swift): Write-Attributes, registration, notifications paced
// by pmin/pmax, and cancellation.
import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import CoAP
import LwM2M
import Testing

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private func query(_ items: String...) -> [CoAPOption] { items.map { CoAPOption(.uriQuery, string: $0) } }

private let observe0 = CoAPOption(.observe, uint: 0)
private let observe1 = CoAPOption(.observe, uint: 1)

@Suite struct DemoObserveTests {
    @Test func currentTimeObservationIsPacedByPminAndPmax() throws {
        var rig = DemoRig(tickInterval: .seconds(1))
        let written = try rig.request(.put, "/3/0/13", options: query("pmin=2", "pmax=5"))
        #expect(written.code == .changed)
        let discover = try rig.request(.get, "/3/0/13", options: [CoAPOption(.accept, uint: 40)])
        #expect(text(discover.payload) == "</3/0/13>;pmin=2;pmax=5")

        let token = Token(value: 0x0B5E, count: 2)
        let registration = try rig.request(.get, "/3/0/13", token: token, options: [observe0])
        #expect(registration.code == .content)
        #expect(registration.observe == 0)
        #expect(registration.contentFormat == ContentFormat.textPlain)
        let registered = try #require(Int64(text(registration.payload)))
        #expect(rig.demo.reporting.observations.count == 1)
        #expect(rig.demo.nextDeadline == rig.start + .seconds(1))  // the next tick comes first

        // Current Time changes every second; with pmin = 2 a notification goes out every 2 s.
        var lastSequence: UInt32 = 0
        var times: [Int64] = []
        for second in 1...8 {
            let sent = try rig.tick(at: rig.start + .seconds(second))
            #expect(sent.count == (second % 2 == 0 ? 1 : 0), "second \(second)")
            for datagram in sent {
                let message = datagram.message
                #expect(datagram.peer == 1)
                #expect(message.token == token)
                #expect(message.code == .content)
                #expect(message.type == .nonConfirmable)
                #expect(message.contentFormat == ContentFormat.textPlain)
                let sequence = try #require(message.observe)
                #expect(sequence > lastSequence)
                lastSequence = sequence
                times.append(try #require(Int64(text(message.payload))))
            }
        }
        #expect(times == [registered + 2, registered + 4, registered + 6, registered + 8])
        #expect(rig.ended.isEmpty)

        // Deregistration with the same token: the answer is a plain read and nothing follows.
        let deregister = try rig.request(.get, "/3/0/13", token: token, options: [observe1])
        #expect(deregister.code == .content)
        #expect(deregister.observe == nil)
        #expect(rig.ended.map(\.1) == [.deregistered])
        #expect(rig.demo.reporting.observations.isEmpty)
        for second in 9...14 { #expect(try rig.tick(at: rig.start + .seconds(second)).isEmpty) }
    }

    @Test func pmaxNotifiesAnUnchangingResource() throws {
        var rig = DemoRig(tickInterval: .seconds(1))
        #expect(try rig.request(.put, "/3/0/0", options: query("pmax=3")).code == .changed)
        let registration = try rig.request(.get, "/3/0/0", options: [observe0])
        #expect(registration.observe == 0)
        #expect(rig.demo.nextDeadline == rig.start + .seconds(1))
        var notified: [Int] = []
        for second in 1...9 {
            let sent = try rig.tick(at: rig.start + .seconds(second))
            if !sent.isEmpty { notified.append(second) }
            for datagram in sent {
                #expect(text(datagram.message.payload) == "Open Source Gateways")
            }
        }
        #expect(notified == [3, 6, 9])
    }

    @Test func nextDeadlineIncludesTheReportingEngine() throws {
        // With a long counter tick, the run loop must still wake for pmax.
        var rig = DemoRig(tickInterval: .seconds(60))
        #expect(try rig.request(.put, "/3/0/16", options: query("pmax=5")).code == .changed)
        _ = try rig.request(.get, "/3/0/16", options: [observe0])
        #expect(rig.demo.nextTick == rig.start + .seconds(60))
        #expect(rig.demo.nextDeadline == rig.start + .seconds(5))
        let sent = try rig.tick(at: rig.demo.nextDeadline)
        #expect(sent.map { text($0.message.payload) } == ["U"])
        #expect(rig.demo.nextDeadline == rig.start + .seconds(10))
        #expect(rig.demo.counter == 0)
    }

    @Test func batteryLevelDropsEveryTenTicksAndNotifiesInTheRegisteredFormat() throws {
        var rig = DemoRig(tickInterval: .seconds(1))
        let registration = try rig.request(
            .get, "/3/0/9", options: [observe0, CoAPOption(.accept, uint: UInt32(ContentFormat.senmlJSON))])
        #expect(registration.contentFormat == ContentFormat.senmlJSON)
        var sent: [DemoSent] = []
        for second in 1...20 { sent += try rig.tick(at: rig.start + .seconds(second)) }
        #expect(sent.count == 2)
        #expect(rig.demo.batteryLevel == 93)
        let values = try sent.map { datagram in
            #expect(datagram.message.contentFormat == ContentFormat.senmlJSON)
            return try PayloadCodec.decode(datagram.message.payload, base: LwM2MPath(3, 0, 9),
                                           format: ContentFormat.senmlJSON, schema: .oma)
        }
        #expect(values == [[LwM2MRecord(LwM2MPath(3, 0, 9), .integer(94))], [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(93))]])
    }

    @Test func cancelWithANewTokenFallsBackToThePath() throws {
        var rig = DemoRig(tickInterval: .seconds(1))
        _ = try rig.request(.get, "/3/0/13", token: Token(value: 0xA1, count: 1), options: [observe0])
        _ = try rig.request(.get, "/3/0/13", token: Token(value: 0xB1, count: 1), options: [observe0], from: 2)
        #expect(try rig.tick(at: rig.start + .seconds(1)).count == 2)

        // Peer 1 cancels with a token it never registered: its observation of the path ends,
        // peer 2's stays.
        let cancel = try rig.request(.get, "/3/0/13", token: Token(value: 0xA2, count: 1), options: [observe1])
        #expect(cancel.code == .content && cancel.observe == nil)
        #expect(rig.ended.map(\.1) == [.cancelled])
        #expect(rig.demo.reporting.observations.count == 1)
        let next = try rig.tick(at: rig.start + .seconds(2))
        #expect(next.map(\.peer) == [2])
    }

    @Test func aWriteToAnObservedResourceNotifiesAtOnce() throws {
        var rig = DemoRig()
        let token = Token(value: 0x14, count: 1)
        _ = try rig.request(.get, "/3/0/14", token: token, options: [observe0])
        let write = rig.makeRequest(.put, "/3/0/14", options: [CoAPOption(.contentFormat, uint: 0)],
                                    payload: Array("+01:00".utf8))
        let sent = try rig.feed(write)
        #expect(sent.count == 2)
        #expect(sent.first?.message.code == .changed)
        #expect(sent.last?.message.token == token)
        #expect(sent.last.map { text($0.message.payload) } == "+01:00")
        #expect(sent.last?.message.observe == 1)
    }

    @Test func reRegistrationReplacesThePeersObservationOfThePath() throws {
        var rig = DemoRig()
        let first = Token(value: 0xF1, count: 1), second = Token(value: 0xF2, count: 1)
        _ = try rig.request(.get, "/3/0/13", token: first, options: [observe0])
        _ = try rig.request(.get, "/3/0/13", token: second, options: [observe0])
        #expect(rig.ended.map(\.1) == [.cancelled])
        #expect(rig.demo.reporting.observations.count == 1)
        let sent = try rig.tick(at: rig.start + .seconds(1))
        #expect(sent.map(\.message.token) == [second])

        // The same token again: the endpoint replaces it and keeps counting sequence numbers.
        let again = try rig.request(.get, "/3/0/13", token: second, options: [observe0])
        #expect(try #require(again.observe) > (sent.first?.message.observe ?? 0))
        #expect(rig.ended.map(\.1) == [.cancelled, .replaced])
        #expect(rig.demo.reporting.observations.count == 1)
        #expect(try rig.tick(at: rig.start + .seconds(2)).map(\.message.token) == [second])
    }

    @Test func observeOfAMissingPathOrADiscoverRegistersNothing() throws {
        var rig = DemoRig()
        let missing = try rig.request(.get, "/3/0/8", options: [observe0])
        #expect(missing.code == .notFound && missing.observe == nil)
        let discover = try rig.request(.get, "/3/0", options: [observe0, CoAPOption(.accept, uint: 40)])
        #expect(discover.code == .content && discover.observe == nil)
        #expect(rig.endpoint.observationIDs.isEmpty)
        #expect(rig.demo.reporting.observations.isEmpty)
    }

    @Test func resetToANotificationForgetsTheLwM2MObservation() throws {
        var rig = DemoRig()
        _ = try rig.request(.get, "/3/0/13", options: [observe0])
        let sent = try rig.tick(at: rig.start + .seconds(1))
        let notification = try #require(sent.first?.message)
        #expect(try rig.feed(.empty(.reset, messageID: notification.messageID)).isEmpty)
        #expect(rig.ended.map(\.1) == [.reset])
        #expect(rig.demo.reporting.observations.isEmpty)
        #expect(try rig.tick(at: rig.start + .seconds(2)).isEmpty)
    }
}
