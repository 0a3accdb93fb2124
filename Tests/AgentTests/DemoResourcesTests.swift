// DemoResources driven through a real CoAPEndpoint<Int> on a virtual clock: requests are fed
// as encoded datagrams, `.request` events go to `DemoResources.handle`, and the datagrams the
// endpoint produced are decoded and checked.
import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import CoAP
import Glibc
import Synchronization
import LwM2M
import TestSupport
import Testing

/// One datagram the endpoint sent, decoded.
struct DemoSent {
    let peer: Int
    let message: CoAPMessage
}

/// An endpoint and the demo resources on a virtual clock.
struct DemoRig {
    var endpoint = CoAPEndpoint<Int>(seed: 0x5EED)
    var demo: DemoResources
    let start = Instant(nanoseconds: 7_000_000_000)
    var now: Instant
    var messageID: UInt16 = 0x2000
    var nextToken: UInt64 = 0x100
    /// Observation ends the endpoint reported (and the rig forwarded to the demo).
    var ended: [(ObservationID, ObservationEnd)] = []

    init(tickInterval: Duration = .seconds(1)) {
        now = start
        demo = DemoResources(tickInterval: tickInterval, now: start)
    }

    /// Delivers pending events (requests to the demo, observation ends to both) and returns the
    /// datagrams the endpoint produced, decoded.
    mutating func process() throws -> [DemoSent] {
        while let event = endpoint.nextEvent() {
            switch event {
            case .request(let request):
                demo.handle(request, endpoint: &endpoint, at: now)
            case .observationEnded(let id, let reason):
                ended.append((id, reason))
                demo.observationEnded(id)
            default:
                Issue.record("unexpected endpoint event \(event)")
            }
        }
        var sent: [DemoSent] = []
        while let datagram = endpoint.nextDatagram() {
            sent.append(DemoSent(peer: datagram.peer, message: try CoAPMessage(decoding: datagram.bytes)))
        }
        return sent
    }

    /// Feeds one datagram from `peer` and returns what the endpoint sent in reply.
    mutating func feed(_ message: CoAPMessage, from peer: Int = 1) throws -> [DemoSent] {
        endpoint.receive(try message.encoded(), from: peer, at: now)
        return try process()
    }

    /// Builds a request with a fresh message ID (and a fresh token unless given).
    mutating func makeRequest(
        _ code: CoAPCode, _ path: String, type: MessageType = .confirmable, token: Token? = nil,
        options: [CoAPOption] = [], payload: [UInt8] = []
    ) -> CoAPMessage {
        messageID &+= 1
        nextToken += 1
        var message = CoAPMessage(
            type: type, code: code, messageID: messageID, token: token ?? Token(value: nextToken, count: 2),
            options: options, payload: payload)
        for segment in path.split(separator: "/") { message.addOption(CoAPOption(.uriPath, string: String(segment))) }
        return message
    }

    /// Sends a request and returns the single datagram answering it.
    mutating func request(
        _ code: CoAPCode, _ path: String, type: MessageType = .confirmable, token: Token? = nil,
        options: [CoAPOption] = [], payload: [UInt8] = [], from peer: Int = 1,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> CoAPMessage {
        let message = makeRequest(code, path, type: type, token: token, options: options, payload: payload)
        let sent = try feed(message, from: peer)
        try #require(sent.count == 1, "expected one answer, got \(sent.count)", sourceLocation: sourceLocation)
        #expect(sent[0].peer == peer, sourceLocation: sourceLocation)
        #expect(sent[0].message.token == message.token, sourceLocation: sourceLocation)
        if type == .confirmable {
            #expect(sent[0].message.type == .acknowledgement, sourceLocation: sourceLocation)
            #expect(sent[0].message.messageID == message.messageID, sourceLocation: sourceLocation)
        }
        return sent[0].message
    }

    /// Runs the demo's tick at `instant` and returns the notifications sent.
    mutating func tick(at instant: Instant) throws -> [DemoSent] {
        now = instant
        endpoint.advance(to: now)
        demo.tick(endpoint: &endpoint, at: now)
        return try process()
    }
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct DemoResourcesTests {
    // MARK: Discovery and simple reads

    @Test func wellKnownCoreListsTheResourcesInLinkFormat() throws {
        var rig = DemoRig()
        let response = try rig.request(.get, "/.well-known/core")
        #expect(response.code == .content)
        #expect(response.contentFormat == 40)
        #expect(text(response.payload) == """
            </demo/hello>;rt="demo.text";ct=0,</demo/large>;ct=0;sz=4096,</demo/store>;ct=42,\
            </demo/counter>;obs;ct=0,</demo/execute>,</3/0>;ver=1.2
            """)
        #expect(response.block2 == nil)

        let accepted = try rig.request(.get, "/.well-known/core", options: [CoAPOption(.accept, uint: 40)])
        #expect(accepted.code == .content)
        #expect(accepted.contentFormat == ContentFormat.linkFormat)
    }

    @Test func helloReturnsTextPlain() throws {
        var rig = DemoRig()
        let response = try rig.request(.get, "/demo/hello")
        #expect(response.code == .content)
        #expect(response.contentFormat == ContentFormat.textPlain)
        #expect(response.payload == bytes("Hello from lwm2m-agentd"))
        #expect(response.observe == nil)
    }

    @Test func nonConfirmableRequestGetsNonConfirmableResponse() throws {
        var rig = DemoRig()
        let response = try rig.request(.get, "/demo/hello", type: .nonConfirmable)
        #expect(response.type == .nonConfirmable)
        #expect(response.payload == bytes("Hello from lwm2m-agentd"))
    }

    // MARK: Block2

    @Test func largeBodyIs128LinesOf32Bytes() throws {
        let large = DemoResources.large
        #expect(large.count == 4096)
        let lines = large.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        #expect(lines.count == 129)  // 128 lines and the empty remainder after the last "\n"
        #expect(lines.last?.isEmpty == true)
        for number in 0..<128 {
            let digits = number < 10 ? "00\(number)" : number < 100 ? "0\(number)" : "\(number)"
            let prefix = "line \(digits) of the demo data"
            let expected = prefix + String(repeating: ".", count: 31 - prefix.utf8.count) + "\n"
            let actual = text(Array(large[(number * 32)..<(number * 32 + 32)]))
            #expect(actual == expected, "line \(number)")
        }
        #expect(text(Array(large[0..<32])) == "line 000 of the demo data......\n")
        #expect(text(Array(large[(127 * 32)...])) == "line 127 of the demo data......\n")
    }

    @Test func largeIsServedBlockByBlock() throws {
        var rig = DemoRig()
        let first = try rig.request(.get, "/demo/large")
        #expect(first.code == .content)
        #expect(first.payload.count == 1024)
        #expect(first.payload == Array(DemoResources.large[0..<1024]))
        #expect(first.block2 == BlockValue(number: 0, more: true, szx: 6))
        #expect(first.size2 == 4096)
        #expect(first.contentFormat == ContentFormat.textPlain)
        let eTag = try #require(first.eTag)

        var body = first.payload
        for number in UInt32(1)...3 {
            let block = try rig.request(
                .get, "/demo/large", options: [CoAPOption(.block2, uint: BlockValue(number: number, more: false, szx: 6).rawValue)])
            #expect(block.code == .content)
            #expect(block.block2 == BlockValue(number: number, more: number < 3, szx: 6))
            #expect(block.eTag == eTag)
            #expect(block.payload.count == 1024)
            body += block.payload
        }
        #expect(body == DemoResources.large)
    }

    @Test func largeHonoursASmallerRequestedBlockSize() throws {
        var rig = DemoRig()
        let first = try rig.request(
            .get, "/demo/large", options: [CoAPOption(.block2, uint: BlockValue(number: 0, more: false, szx: 2).rawValue)])
        #expect(first.payload.count == 64)
        #expect(first.block2 == BlockValue(number: 0, more: true, szx: 2))
        #expect(text(first.payload) == "line 000 of the demo data......\nline 001 of the demo data......\n")
    }

    // MARK: Store

    @Test func storeCanBeReadWrittenAndDeleted() throws {
        var rig = DemoRig()
        let initial = try rig.request(.get, "/demo/store")
        #expect(initial.code == .content)
        #expect(initial.contentFormat == ContentFormat.octetStream)
        #expect(initial.payload == bytes("edit me"))

        let put = try rig.request(
            .put, "/demo/store", options: [CoAPOption(.contentFormat, uint: 42)], payload: [0, 1, 2, 0xFF, 0x80])
        #expect(put.code == .changed)
        #expect(put.payload.isEmpty)
        #expect(rig.demo.store == [0, 1, 2, 0xFF, 0x80])

        let read = try rig.request(.get, "/demo/store")
        #expect(read.code == .content)
        #expect(read.payload == [0, 1, 2, 0xFF, 0x80])

        let deleted = try rig.request(.delete, "/demo/store")
        #expect(deleted.code == .deleted)
        #expect(rig.demo.store.isEmpty)

        let empty = try rig.request(.get, "/demo/store")
        #expect(empty.code == .content)
        #expect(empty.payload.isEmpty)
        #expect(empty.contentFormat == ContentFormat.octetStream)
    }

    @Test func storeAcceptsABlock1Upload() throws {
        var rig = DemoRig()
        let body = (0..<2500).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let token = Token(value: 0xB10C, count: 2)
        for number in 0..<3 {
            let more = number < 2
            let chunk = Array(body[(number * 1024)..<min(body.count, number * 1024 + 1024)])
            var options = [CoAPOption(.block1, uint: BlockValue(number: UInt32(number), more: more, szx: 6).rawValue)]
            if number == 0 { options.append(CoAPOption(.size1, uint: 2500)) }
            let answer = try rig.request(.put, "/demo/store", token: token, options: options, payload: chunk)
            #expect(answer.code == (more ? .continue : .changed))
            #expect(answer.block1 == BlockValue(number: UInt32(number), more: more, szx: 6))
        }
        #expect(rig.demo.store == body)
    }

    // MARK: Errors

    @Test func unknownPathIs404() throws {
        var rig = DemoRig()
        let response = try rig.request(.get, "/demo/nothing")
        #expect(response.code == .notFound)
        #expect(text(response.payload) == "no resource at /demo/nothing")
        let root = try rig.request(.get, "/")
        #expect(root.code == .notFound)
    }

    @Test(arguments: [
        (CoAPCode.post, "/demo/hello"), (.put, "/demo/large"), (.delete, "/.well-known/core"),
        (.post, "/demo/store"), (.put, "/demo/counter"), (.get, "/demo/execute"),
    ])
    func wrongMethodIs405(method: CoAPCode, path: String) throws {
        var rig = DemoRig()
        let response = try rig.request(method, path, payload: method == .get ? [] : bytes("x"))
        #expect(response.code == .methodNotAllowed)
        #expect(text(response.payload) == "\(try #require(method.name)) not allowed on \(path)")
        #expect(rig.demo.executions == 0)
        #expect(rig.demo.store == bytes("edit me"))
    }

    @Test(arguments: [
        ("/.well-known/core", UInt32(0)), ("/demo/hello", 50), ("/demo/large", 42), ("/demo/store", 0),
        ("/demo/counter", 60),
    ])
    func unservableAcceptIs406(path: String, accept: UInt32) throws {
        var rig = DemoRig()
        let response = try rig.request(.get, path, options: [CoAPOption(.accept, uint: accept)])
        #expect(response.code == .notAcceptable)
        #expect(response.payload.starts(with: bytes("only content format ")))
        #expect(response.block2 == nil)
    }

    // MARK: Execute

    @Test func executeCountsAndIsNotRepeatedForADuplicate() throws {
        var rig = DemoRig()
        let first = rig.makeRequest(.post, "/demo/execute")
        let answers = try rig.feed(first)
        #expect(answers.count == 1)
        #expect(answers.first?.message.code == .changed)
        #expect(answers.first.map { text($0.message.payload) } == "executions=1")
        #expect(rig.demo.executions == 1)

        // The same CON again (a retransmission): the cached answer is replayed, nothing runs.
        let replay = try rig.feed(first)
        #expect(replay.count == 1)
        #expect(replay.first.map { text($0.message.payload) } == "executions=1")
        #expect(rig.demo.executions == 1)

        let second = try rig.request(.post, "/demo/execute")
        #expect(second.code == .changed)
        #expect(text(second.payload) == "executions=2")
        #expect(rig.demo.executions == 2)
    }

    // MARK: Observe

    @Test func counterObservationReceivesEveryTick() throws {
        var rig = DemoRig(tickInterval: .seconds(1))
        let token = Token(value: 0xC0FFEE, count: 3)
        let registration = try rig.request(.get, "/demo/counter", token: token, options: [CoAPOption(.observe, uint: 0)])
        #expect(registration.code == .content)
        #expect(registration.observe == 0)
        #expect(registration.payload == bytes("0"))
        #expect(registration.contentFormat == ContentFormat.textPlain)
        #expect(rig.demo.observerCount == 1)
        #expect(rig.demo.nextTick == rig.start + .seconds(1))

        // Before the interval has passed nothing happens.
        #expect(try rig.tick(at: rig.start + .milliseconds(999)).isEmpty)
        #expect(rig.demo.counter == 0)

        var lastSequence: UInt32 = 0
        for value in UInt32(1)...12 {
            let sent = try rig.tick(at: rig.start + .seconds(Int64(value)))
            try #require(sent.count == 1, "tick \(value) sent \(sent.count) datagrams")
            let notification = sent[0].message
            #expect(sent[0].peer == 1)
            #expect(rig.demo.counter == value)
            #expect(notification.code == .content)
            #expect(notification.token == token)
            #expect(notification.payload == bytes(String(value)))
            #expect(notification.contentFormat == ContentFormat.textPlain)
            let sequence = try #require(notification.observe)
            #expect(sequence > lastSequence)
            lastSequence = sequence
            // Every tenth notification is confirmable.
            #expect(notification.type == (value % 10 == 0 ? .confirmable : .nonConfirmable), "notification \(value)")
            if notification.type == .confirmable {
                #expect(try rig.feed(.empty(.acknowledgement, messageID: notification.messageID)).isEmpty)
            }
            #expect(rig.demo.nextTick == rig.start + .seconds(Int64(value) + 1))
        }
        #expect(rig.ended.isEmpty)
        #expect(rig.endpoint.observationIDs.count == 1)
    }

    @Test func lateTickIncrementsOnceAndRealigns() throws {
        var rig = DemoRig(tickInterval: .milliseconds(500))
        _ = try rig.request(.get, "/demo/counter", options: [CoAPOption(.observe, uint: 0)])
        let sent = try rig.tick(at: rig.start + .milliseconds(1750))
        #expect(sent.count == 1)
        #expect(rig.demo.counter == 1)
        #expect(rig.demo.nextTick == rig.start + .milliseconds(2000))
        #expect(try rig.tick(at: rig.start + .milliseconds(1999)).isEmpty)
        #expect(try rig.tick(at: rig.start + .milliseconds(2000)).count == 1)
        #expect(rig.demo.counter == 2)
    }

    /// `lwm2m-demo --tick 0` (or any value under 1 ms, which `seconds` truncates to
    /// zero) builds `DemoResources(tickInterval: .zero)`; its first `tick` must return.
    /// Runs on its own thread so a hang fails the test instead of blocking the run (a hung
    /// thread keeps spinning until the test process exits).
    @Test func zeroTickIntervalDoesNotHang() {
        final class Outcome: Sendable {
            let finished = Atomic<Bool>(false)
            let counter = Atomic<UInt32>(0)
        }
        let outcome = Outcome()
        startDetachedThread {
            let start = Instant(nanoseconds: 1_000_000_000)
            var demo = DemoResources(tickInterval: .zero, now: start)
            var endpoint = CoAPEndpoint<Int>(seed: 1)
            demo.tick(endpoint: &endpoint, at: start + .seconds(1))
            outcome.counter.store(demo.counter, ordering: .relaxed)
            outcome.finished.store(true, ordering: .releasing)
        }
        let giveUp = ContinuousClock.now + .seconds(2)
        while !outcome.finished.load(ordering: .acquiring), ContinuousClock.now < giveUp { usleep(1_000) }
        let finished = outcome.finished.load(ordering: .acquiring)
        let counter = outcome.counter.load(ordering: .relaxed)
        #expect(finished, "DemoResources.tick never returned with tickInterval .zero")
        #expect(counter == 1)
    }

    @Test func tickWithoutObserversStillCounts() throws {
        var rig = DemoRig()
        #expect(try rig.tick(at: rig.start + .seconds(1)).isEmpty)
        #expect(rig.demo.counter == 1)
        let read = try rig.request(.get, "/demo/counter")
        #expect(read.payload == bytes("1"))
        #expect(read.observe == nil)
        #expect(rig.demo.observerCount == 0)
    }

    @Test func deregistrationEndsTheObservation() throws {
        var rig = DemoRig()
        let token = Token(value: 0xD1, count: 1)
        _ = try rig.request(.get, "/demo/counter", token: token, options: [CoAPOption(.observe, uint: 0)])
        let observation = try #require(rig.endpoint.observationIDs.first)
        #expect(try rig.tick(at: rig.start + .seconds(1)).count == 1)

        let deregister = try rig.request(.get, "/demo/counter", token: token, options: [CoAPOption(.observe, uint: 1)])
        #expect(deregister.code == .content)
        #expect(deregister.observe == nil)
        #expect(deregister.payload == bytes("1"))
        #expect(rig.ended.count == 1)
        #expect(rig.ended.first?.0 == observation)
        #expect(rig.ended.first?.1 == .deregistered)
        #expect(rig.demo.observerCount == 0)
        #expect(try rig.tick(at: rig.start + .seconds(2)).isEmpty)
        #expect(rig.demo.counter == 2)
    }

    @Test func resetToANotificationEndsTheObservation() throws {
        var rig = DemoRig()
        _ = try rig.request(.get, "/demo/counter", options: [CoAPOption(.observe, uint: 0)])
        let sent = try rig.tick(at: rig.start + .seconds(1))
        let notification = try #require(sent.first?.message)
        #expect(notification.type == .nonConfirmable)
        #expect(try rig.feed(.empty(.reset, messageID: notification.messageID)).isEmpty)
        #expect(rig.ended.count == 1)
        #expect(rig.ended.first?.1 == .reset)
        #expect(rig.demo.observerCount == 0)
        #expect(try rig.tick(at: rig.start + .seconds(2)).isEmpty)
    }

    @Test func observationEndedForgetsOnlyThatObserver() throws {
        var rig = DemoRig()
        _ = try rig.request(.get, "/demo/counter", options: [CoAPOption(.observe, uint: 0)], from: 1)
        _ = try rig.request(.get, "/demo/counter", options: [CoAPOption(.observe, uint: 0)], from: 2)
        #expect(rig.demo.observerCount == 2)
        let both = try rig.tick(at: rig.start + .seconds(1))
        #expect(Set(both.map(\.peer)) == [1, 2])
        #expect(both.allSatisfy { $0.message.payload == bytes("1") })

        // The application cancels peer 1's observation and tells the demo.
        let first = try #require(rig.endpoint.observationIDs.first { rig.endpoint.observationInfo($0)?.peer == 1 })
        rig.endpoint.cancelObservation(first)
        #expect(try rig.process().isEmpty)
        #expect(rig.ended.map(\.0) == [first])
        #expect(rig.demo.observerCount == 1)

        let remaining = try rig.tick(at: rig.start + .seconds(2))
        #expect(remaining.map(\.peer) == [2])
        #expect(remaining.first?.message.payload == bytes("2"))

        // Forgetting an unknown ID changes nothing.
        rig.demo.observationEnded(first)
        #expect(rig.demo.observerCount == 1)
    }

    @Test func reRegistrationOnTheSameTokenKeepsOneObserver() throws {
        var rig = DemoRig()
        let token = Token(value: 0x77, count: 1)
        _ = try rig.request(.get, "/demo/counter", token: token, options: [CoAPOption(.observe, uint: 0)])
        _ = try rig.request(.get, "/demo/counter", token: token, options: [CoAPOption(.observe, uint: 0)])
        #expect(rig.ended.map(\.1) == [.replaced])
        #expect(rig.demo.observerCount == 1)
        #expect(try rig.tick(at: rig.start + .seconds(1)).count == 1)
    }

    @Test func observeWithUnservableAcceptRegistersNothing() throws {
        var rig = DemoRig()
        let response = try rig.request(
            .get, "/demo/counter", options: [CoAPOption(.observe, uint: 0), CoAPOption(.accept, uint: 50)])
        #expect(response.code == .notAcceptable)
        #expect(response.observe == nil)
        #expect(rig.demo.observerCount == 0)
        #expect(rig.endpoint.observationIDs.isEmpty)
    }
}

/// The demo's Device object, reached through the same request path as a management server's.
@Suite struct DemoDeviceObjectTests {
    @Test func readsTheDeviceInstanceAsTLVSenMLJSONAndSenMLCBOR() throws {
        var rig = DemoRig()
        for format in [ContentFormat.lwm2mTLV, ContentFormat.senmlJSON, ContentFormat.senmlCBOR] {
            let response = try rig.request(.get, "/3/0", options: [CoAPOption(.accept, uint: UInt32(format))])
            #expect(response.code == .content)
            #expect(response.contentFormat == format)
            let records = try PayloadCodec.decode(response.payload, base: LwM2MPath(3, 0), format: format, schema: .oma)
            #expect(records.contains(LwM2MRecord(LwM2MPath(3, 0, 16), .string("U"))))
            #expect(records.contains(LwM2MRecord(LwM2MPath(3, 0, 6, 1), .integer(5))))
            #expect(records.contains { $0.path == LwM2MPath(3, 0, 13) && $0.value.type == .time })
        }
    }

    @Test func singleResourceAsTextAndUnknownPaths() throws {
        var rig = DemoRig()
        let binding = try rig.request(.get, "/3/0/16")
        #expect(binding.code == .content && text(binding.payload) == "U")
        #expect(try rig.request(.get, "/3/1").code == .notFound)
        #expect(try rig.request(.get, "/4/0").code == .notFound)
        #expect(try rig.request(.get, "/3/0", options: [CoAPOption(.accept, uint: 0)]).code == .notAcceptable)
    }

    @Test func rebootIsExecutedOnceEvenWhenTheRequestIsRepeated() throws {
        var rig = DemoRig()
        let execute = rig.makeRequest(.post, "/3/0/4")
        let first = try rig.feed(execute, from: 1)
        let again = try rig.feed(execute, from: 1)  // a retransmission: same MID
        #expect(first.count == 1 && first[0].message.code == .changed)
        #expect(again.count == 1 && again[0].message == first[0].message)
        #expect(rig.demo.rebootRequests == 1)
    }
}
