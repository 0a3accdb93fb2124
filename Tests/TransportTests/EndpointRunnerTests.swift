// EndpointRunner over real UDP sockets on loopback: two runners (client and server) driven
// alternately from one thread with short runOnce deadlines, plus a raw UDPSocket playing an
// observer (the engine has no client-side Observe API).
import CoAP
import Glibc
import Testing
import TestSupport
import Transport

// MARK: - Helpers (names prefixed so they never clash with other files of this target)

private let runnerIPv6Available: Bool = (try? UDPSocket(bindingTo: .loopback(.ipv6, port: 0))) != nil

/// The 5000-byte body served by `/big`: not periodic in 1024, so a misplaced block shows.
private let runnerBigBody: [UInt8] = (0..<5000).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ $0 / 253) % 251) }

/// A tiny server application answering from a fixed resource table.
private final class RunnerServerApp {
    var requests: [IncomingRequest<SocketAddress>] = []
    var observation: ObservationID?
    var ended: [(ObservationID, ObservationEnd)] = []

    func handle(_ event: EndpointEvent<SocketAddress>, _ endpoint: inout CoAPEndpoint<SocketAddress>, _ now: Instant) {
        switch event {
        case .request(let request):
            requests.append(request)
            let message = request.message
            let response: CoAPResponse
            switch (message.code, message.path) {
            case (.get, "/small"):
                response = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("small body".utf8))
            case (.get, "/big"):
                response = CoAPResponse(.content, contentFormat: ContentFormat.octetStream, payload: runnerBigBody)
            case (.put, "/upload"):
                response = CoAPResponse(.changed, payload: Array("got \(message.payload.count)".utf8))
            case (.get, "/counter"):
                let counter = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("0".utf8))
                observation = endpoint.respond(to: request.exchange, with: counter, acceptObservation: true, at: now)
                return
            default:
                response = .error(.notFound, "nothing at \(message.path)")
            }
            endpoint.respond(to: request.exchange, with: response, at: now)
        case .observationEnded(let id, let reason):
            ended.append((id, reason))
        default:
            break
        }
    }
}

/// What a client runner reported.
private final class RunnerClientLog {
    var responses: [RequestID: CoAPMessage] = [:]
    var failures: [RequestID: RequestFailure] = [:]
    var pongs: Set<RequestID> = []

    func record(_ event: EndpointEvent<SocketAddress>) {
        switch event {
        case .response(let id, let message): responses[id] = message
        case .requestFailed(let id, let failure): failures[id] = failure
        case .pong(let id): pongs.insert(id)
        default: break
        }
    }

    func finished(_ id: RequestID) -> Bool { responses[id] != nil || failures[id] != nil || pongs.contains(id) }
}

/// A server runner with its application, and a client runner with its log, on `family` loopback.
private struct RunnerPair {
    let server: EndpointRunner
    let app = RunnerServerApp()
    let client: EndpointRunner
    let log = RunnerClientLog()

    init(family: SocketAddress.Family, serverConfiguration: EndpointConfiguration = EndpointConfiguration()) throws {
        server = EndpointRunner(
            sockets: [try UDPSocket(bindingTo: .loopback(family, port: 0))], configuration: serverConfiguration, seed: 11)
        client = EndpointRunner(sockets: [try UDPSocket(bindingTo: .loopback(family, port: 0))], seed: 22)
    }

    var serverAddress: SocketAddress { server.sockets[0].localAddress }

    /// Alternates short runOnce calls on both runners until `done` holds (true) or 5 s pass (false).
    func pump(until done: () -> Bool) throws -> Bool {
        let giveUp = MonotonicClock.now() + .seconds(5)
        let app = self.app, log = self.log
        while !done() {
            if MonotonicClock.now() >= giveUp { return false }
            try client.runOnce(until: MonotonicClock.now() + .milliseconds(5)) { event, _, _ in log.record(event) }
            try server.runOnce(until: MonotonicClock.now() + .milliseconds(5)) { event, endpoint, now in
                app.handle(event, &endpoint, now)
            }
        }
        return true
    }

    /// Sends `request` from the client and pumps until it finishes.
    func perform(_ request: CoAPRequest) throws -> RequestID {
        let id = client.endpoint.send(request, to: serverAddress, at: MonotonicClock.now())
        let done = try pump { log.finished(id) }
        #expect(done, "request \(id) did not finish within 5 s")
        return id
    }
}

/// Receives one datagram on a raw socket within `timeout` and decodes it; `nil` if none came.
private func runnerReceiveRaw(
    _ socket: UDPSocket, timeout: Duration = .seconds(3)
) throws -> (message: CoAPMessage, from: SocketAddress)? {
    var poller = Poller()
    poller.register(socket.fileDescriptor)
    var buffer = [UInt8](repeating: 0, count: 2048)
    let deadline = MonotonicClock.now() + timeout
    while true {
        let received = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
        if let received {
            return (try CoAPMessage(decoding: Array(buffer[..<received.count])), received.from)
        }
        let now = MonotonicClock.now()
        if now >= deadline { return nil }
        _ = try poller.wait(until: deadline, now: now)
    }
}


private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

// MARK: - Tests

@Suite struct EndpointRunnerTests {
    @Test func getSmallOverIPv4() throws {
        let pair = try RunnerPair(family: .ipv4)
        let id = try pair.perform(CoAPRequest(.get, path: "/small"))
        let response = try #require(pair.log.responses[id])
        #expect(response.code == .content)
        #expect(response.payload == Array("small body".utf8))
        #expect(response.contentFormat == ContentFormat.textPlain)
        #expect(response.type == .acknowledgement)  // piggybacked
        #expect(pair.app.requests.count == 1)
        #expect(pair.app.requests.first?.message.path == "/small")
        #expect(pair.app.requests.first?.peer == pair.client.sockets[0].localAddress)
        #expect(pair.client.sentCount == 1)
        #expect(pair.client.receivedCount == 1)
        #expect(pair.server.receivedCount == 1)
        #expect(pair.server.sentCount == 1)
        #expect(pair.client.sendErrors.isEmpty && pair.server.sendErrors.isEmpty)
        #expect(pair.client.endpoint.pendingRequestCount == 0)
    }

    @Test(requires(runnerIPv6Available, "IPv6 loopback ::1 cannot be bound on this host"))
    func getSmallOverIPv6() throws {
        let pair = try RunnerPair(family: .ipv6)
        #expect(pair.serverAddress.description == "[::1]:\(pair.serverAddress.port)")
        let id = try pair.perform(CoAPRequest(.get, path: "/small"))
        let response = try #require(pair.log.responses[id])
        #expect(response.code == .content)
        #expect(response.payload == Array("small body".utf8))
        #expect(pair.app.requests.first?.peer.family == .ipv6)
    }

    @Test func unknownPathGets404() throws {
        let pair = try RunnerPair(family: .ipv4)
        let id = try pair.perform(CoAPRequest(.get, path: "/missing/thing"))
        let response = try #require(pair.log.responses[id])
        #expect(response.code == .notFound)
        #expect(response.payload == Array("nothing at /missing/thing".utf8))
    }

    @Test func getLargeBodyIsReassembledFromBlock2() throws {
        let pair = try RunnerPair(family: .ipv4)
        let id = try pair.perform(CoAPRequest(.get, path: "/big"))
        let response = try #require(pair.log.responses[id])
        #expect(response.code == .content)
        #expect(response.payload.count == 5000)
        #expect(response.payload == runnerBigBody)
        #expect(response.block2 == nil, "the reassembled response must not carry Block2")
        #expect(response.contentFormat == ContentFormat.octetStream)
        // 5000 bytes in 1024-byte blocks: 5 exchanges; the application is asked only once,
        // the engine serves blocks 1...4 from its representation cache.
        #expect(pair.server.receivedCount == 5)
        #expect(pair.client.sentCount == 5)
        #expect(pair.app.requests.count == 1)
    }

    @Test func putLargeBodyIsSentWithBlock1() throws {
        let pair = try RunnerPair(family: .ipv4)
        let body = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        let id = try pair.perform(CoAPRequest(.put, path: "/upload", contentFormat: ContentFormat.octetStream, payload: body))
        let response = try #require(pair.log.responses[id])
        #expect(response.code == .changed)
        #expect(response.payload == Array("got 5000".utf8))
        #expect(response.block1 == BlockValue(number: 4, more: false, szx: 6))
        // The server application sees one request carrying the whole body.
        #expect(pair.app.requests.count == 1)
        let request = try #require(pair.app.requests.first)
        #expect(request.message.payload == body)
        #expect(request.message.code == .put)
        #expect(request.message.contentFormat == ContentFormat.octetStream)
        #expect(request.message.block1 == BlockValue(number: 4, more: false, szx: 6))
        #expect(pair.server.receivedCount == 5)
        #expect(pair.client.sentCount == 5)
    }

    @Test func pingIsAnsweredWithPong() throws {
        let pair = try RunnerPair(family: .ipv4)
        let id = pair.client.endpoint.ping(pair.serverAddress, at: MonotonicClock.now())
        #expect(try pair.pump { pair.log.finished(id) })
        #expect(pair.log.pongs == [id])
        #expect(pair.app.requests.isEmpty)
    }

    @Test func observeRegistrationAndNotificationsReachARawObserver() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission.ackTimeout = .milliseconds(50)
        let pair = try RunnerPair(family: .ipv4, serverConfiguration: configuration)
        let server = pair.server, app = pair.app
        let handler: EndpointRunner.EventHandler = { event, endpoint, now in app.handle(event, &endpoint, now) }
        let observer = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let token = try #require(Token([0xAB, 0xCD, 0x01]))

        var register = CoAPMessage(type: .confirmable, code: .get, messageID: 0x1234, token: token)
        register.uriPath = ["counter"]
        register.observe = 0
        try observer.send(try register.encoded(), to: pair.serverAddress)

        let giveUp = MonotonicClock.now() + .seconds(5)
        while app.observation == nil, MonotonicClock.now() < giveUp {
            try server.runOnce(until: MonotonicClock.now() + .milliseconds(5), handler)
        }
        let observation = try #require(app.observation)
        #expect(server.endpoint.observationIDs == [observation])

        let registration = try #require(try runnerReceiveRaw(observer))
        #expect(registration.from == pair.serverAddress)
        #expect(registration.message.type == .acknowledgement)
        #expect(registration.message.messageID == 0x1234)
        #expect(registration.message.code == .content)
        #expect(registration.message.token == token)
        #expect(registration.message.observe == 0)
        #expect(registration.message.payload == Array("0".utf8))

        // Three non-confirmable notifications with increasing Observe numbers.
        var previousSequence: UInt32 = 0
        for value in 1...3 {
            let response = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array(String(value).utf8))
            let accepted = server.endpoint.notify(observation, with: response, at: MonotonicClock.now())
            #expect(accepted)
            server.flush(handler, at: MonotonicClock.now())
            let notification = try #require(try runnerReceiveRaw(observer))
            #expect(notification.message.type == .nonConfirmable)
            #expect(notification.message.code == .content)
            #expect(notification.message.token == token)
            #expect(notification.message.payload == Array(String(value).utf8))
            let sequence = try #require(notification.message.observe)
            #expect(sequence > previousSequence)
            #expect(sequence == UInt32(value))
            previousSequence = sequence
        }

        // A confirmable one, acknowledged: no retransmission follows (ACK_TIMEOUT is 50 ms here,
        // so an unacknowledged one would be resent within the 300 ms we watch).
        let fourth = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("4".utf8))
        let fourthAccepted = server.endpoint.notify(observation, with: fourth, confirmable: true, at: MonotonicClock.now())
        #expect(fourthAccepted)
        server.flush(handler, at: MonotonicClock.now())
        let confirmable = try #require(try runnerReceiveRaw(observer))
        #expect(confirmable.message.type == .confirmable)
        #expect(confirmable.message.observe == 4)
        let ack = CoAPMessage.empty(.acknowledgement, messageID: confirmable.message.messageID)
        try observer.send(try ack.encoded(), to: pair.serverAddress)
        let quietUntil = MonotonicClock.now() + .milliseconds(300)
        while MonotonicClock.now() < quietUntil {
            try server.runOnce(until: min(quietUntil, MonotonicClock.now() + .milliseconds(5)), handler)
        }
        #expect(try runnerReceiveRaw(observer, timeout: .zero) == nil, "acknowledged notification was retransmitted")
        #expect(server.endpoint.observationIDs == [observation])
        #expect(app.ended.isEmpty)

        // A Reset to a non-confirmable notification ends the observation.
        let fifth = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("5".utf8))
        let fifthAccepted = server.endpoint.notify(observation, with: fifth, at: MonotonicClock.now())
        #expect(fifthAccepted)
        server.flush(handler, at: MonotonicClock.now())
        let last = try #require(try runnerReceiveRaw(observer))
        #expect(last.message.type == .nonConfirmable)
        #expect(last.message.observe == 5)
        try observer.send(try CoAPMessage.empty(.reset, messageID: last.message.messageID).encoded(), to: pair.serverAddress)
        while app.ended.isEmpty, MonotonicClock.now() < giveUp {
            try server.runOnce(until: MonotonicClock.now() + .milliseconds(5), handler)
        }
        #expect(app.ended.count == 1)
        #expect(app.ended.first?.0 == observation)
        #expect(app.ended.first?.1 == .reset)
        #expect(server.endpoint.observationIDs.isEmpty)
        let afterEnd = server.endpoint.notify(observation, with: fifth, at: MonotonicClock.now())
        #expect(afterEnd == false)
    }

    @Test func requestToADeadPortTimesOut() throws {
        // A port nothing listens on: bind one, note it, close it.
        let port: UInt16
        do {
            let probe = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
            port = probe.localAddress.port
            probe.close()
        }
        var configuration = EndpointConfiguration()
        configuration.transmission.ackTimeout = .milliseconds(50)
        configuration.transmission.maxRetransmit = 2
        let client = EndpointRunner(
            sockets: [try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))], configuration: configuration, seed: 3)
        let log = RunnerClientLog()
        let start = MonotonicClock.now()
        let id = client.endpoint.send(CoAPRequest(.get, path: "/nobody"), to: .loopback(.ipv4, port: port), at: start)
        while !log.finished(id), MonotonicClock.now() - start < .seconds(5) {
            try client.runOnce(until: MonotonicClock.now() + .milliseconds(5)) { event, _, _ in log.record(event) }
        }
        let elapsed = MonotonicClock.now() - start
        #expect(log.failures[id] == .timeout)
        #expect(log.responses.isEmpty)
        // Initial transmission + MAX_RETRANSMIT (2) retransmissions; the failure comes after
        // T + 2T + 4T with T in [50, 75] ms.
        #expect(client.sentCount == 3)
        #expect(elapsed >= .milliseconds(340), "gave up after \(seconds(elapsed)) s")
        #expect(elapsed < .seconds(2), "took \(seconds(elapsed)) s")
        #expect(client.endpoint.pendingRequestCount == 0)
        #expect(client.endpoint.nextDeadline == nil)
    }

    @Test func sendFailuresAreRecordedNotThrown() throws {
        // An IPv4-only runner cannot reach an IPv6 peer: the send fails with EAFNOSUPPORT, the
        // runner records it and carries on; the engine then times the request out.
        var configuration = EndpointConfiguration()
        configuration.transmission.ackTimeout = .milliseconds(20)
        configuration.transmission.maxRetransmit = 1
        let runner = EndpointRunner(
            sockets: [try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))], configuration: configuration, seed: 4)
        let log = RunnerClientLog()
        let id = runner.endpoint.send(CoAPRequest(.get, path: "/x"), to: .loopback(.ipv6, port: 5683), at: MonotonicClock.now())
        let giveUp = MonotonicClock.now() + .seconds(5)
        while !log.finished(id), MonotonicClock.now() < giveUp {
            try runner.runOnce(until: MonotonicClock.now() + .milliseconds(5)) { event, _, _ in log.record(event) }
        }
        #expect(log.failures[id] == .timeout)
        #expect(runner.sentCount == 0)
        #expect(runner.sendErrors == [.socket(errno: EAFNOSUPPORT, operation: "sendto"),
                                      .socket(errno: EAFNOSUPPORT, operation: "sendto")])
    }

    @Test func runOnceHonoursTheApplicationDeadline() throws {
        let runner = EndpointRunner(sockets: [try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))], seed: 6)
        #expect(runner.endpoint.nextDeadline == nil)
        let start = MonotonicClock.now()
        var events = 0
        let woken = try runner.runOnce(until: start + .milliseconds(40)) { _, _, _ in events += 1 }
        let slept = MonotonicClock.now() - start
        #expect(woken == false)
        #expect(events == 0)
        #expect(slept >= .milliseconds(39) && slept < .seconds(1), "slept \(seconds(slept)) s")
        #expect(runner.receivedCount == 0 && runner.sentCount == 0)
    }

    @Test func wakeUpSignalMakesRunOnceReturnTrue() throws {
        let wakeUp = try WakeUpSignal()
        let runner = EndpointRunner(sockets: [try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))], wakeUp: wakeUp, seed: 5)

        // Signalled before the call: returns at once, with true.
        wakeUp.signal()
        var start = MonotonicClock.now()
        #expect(try runner.runOnce(until: start + .seconds(5)) { _, _, _ in } == true)
        #expect(MonotonicClock.now() - start < .seconds(1))

        // Drained by that call: the next one sleeps until its deadline and returns false.
        start = MonotonicClock.now()
        #expect(try runner.runOnce(until: start + .milliseconds(30)) { _, _, _ in } == false)
        let slept = MonotonicClock.now() - start
        #expect(slept >= .milliseconds(29) && slept < .seconds(1), "slept \(seconds(slept)) s")

        // Signalled from another thread while blocked.
        let join = startThread {
            usleep(50_000)
            wakeUp.signal()
        }
        start = MonotonicClock.now()
        let woken = try runner.runOnce(until: start + .seconds(5)) { _, _, _ in }
        let waited = MonotonicClock.now() - start
        join()
        #expect(woken == true)
        #expect(waited >= .milliseconds(40) && waited < .seconds(2), "waited \(seconds(waited)) s")
    }

    @Test(requires(runnerIPv6Available, "IPv6 loopback ::1 cannot be bound on this host"))
    func runnerWithTwoSocketsServesBothFamilies() throws {
        let v4 = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let v6 = try UDPSocket(bindingTo: .loopback(.ipv6, port: 0))
        let server = EndpointRunner(sockets: [v4, v6], seed: 9)
        #expect(server.socket(for: .loopback(.ipv4, port: 1)) === v4)
        #expect(server.socket(for: .loopback(.ipv6, port: 1)) === v6)
        let app = RunnerServerApp()

        for (family, target) in [(SocketAddress.Family.ipv4, v4.localAddress), (.ipv6, v6.localAddress)] {
            let client = EndpointRunner(sockets: [try UDPSocket(bindingTo: .loopback(family, port: 0))], seed: 10)
            let log = RunnerClientLog()
            let id = client.endpoint.send(CoAPRequest(.get, path: "/small"), to: target, at: MonotonicClock.now())
            let giveUp = MonotonicClock.now() + .seconds(5)
            while !log.finished(id), MonotonicClock.now() < giveUp {
                try client.runOnce(until: MonotonicClock.now() + .milliseconds(5)) { event, _, _ in log.record(event) }
                try server.runOnce(until: MonotonicClock.now() + .milliseconds(5)) { event, endpoint, now in
                    app.handle(event, &endpoint, now)
                }
            }
            let response = try #require(log.responses[id], "no response over \(family)")
            #expect(response.payload == Array("small body".utf8))
            #expect(app.requests.last?.peer == client.sockets[0].localAddress)
        }
        #expect(app.requests.count == 2)
        #expect(server.receivedCount == 2)
        #expect(server.sentCount == 2)
    }
}
