// OneShotClient.perform (blocking, on the test's thread) against an EndpointRunner server that
// runs on its own POSIX thread over loopback UDP.
import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import CoAP
import Glibc
import Synchronization
import Testing
import TestSupport
import Transport

private let oneShotIPv6Available: Bool = (try? UDPSocket(bindingTo: .loopback(.ipv6, port: 0))) != nil


/// Hands a non-Sendable value to exactly one other thread, which then owns it.
private final class Handover<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A CoAP server on its own thread: an EndpointRunner answering a few fixed resources.
private final class BackgroundServer: Sendable {
    static let big: [UInt8] = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ $0 >> 9) }

    let address: SocketAddress
    private let stopRequested = Atomic<Bool>(false)
    private let received = Mutex<[CoAPMessage]>([])
    private let joiner = Mutex<(@Sendable () -> Void)?>(nil)

    init(family: SocketAddress.Family = .ipv4) throws {
        let socket = try UDPSocket(bindingTo: .loopback(family, port: 0))
        address = socket.localAddress
        let runner = Handover(EndpointRunner(sockets: [socket], seed: 77))
        let join = startThread { [self] in serve(runner.value) }
        joiner.withLock { $0 = join }
    }

    /// The requests the server's application saw, in order.
    var requests: [CoAPMessage] { received.withLock { $0 } }

    func stop() {
        stopRequested.store(true, ordering: .releasing)
        let join = joiner.withLock { join in
            defer { join = nil }
            return join
        }
        join?()
    }

    deinit { stop() }

    private func serve(_ runner: EndpointRunner) {
        while !stopRequested.load(ordering: .acquiring) {
            do {
                try runner.runOnce(until: MonotonicClock.now() + .milliseconds(10)) { event, endpoint, now in
                    guard case .request(let request) = event else { return }
                    received.withLock { $0.append(request.message) }
                    endpoint.respond(to: request.exchange, with: Self.answer(request.message), at: now)
                }
            } catch {
                return
            }
        }
    }

    private static func answer(_ message: CoAPMessage) -> CoAPResponse {
        switch (message.code, message.path) {
        case (.get, "/hello"):
            CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("hi there".utf8))
        case (.get, "/big"):
            CoAPResponse(.content, contentFormat: ContentFormat.octetStream, payload: big)
        case (.put, "/echo"), (.post, "/echo"):
            CoAPResponse(.changed, payload: Array("len=\(message.payload.count)".utf8))
        default:
            .error(.notFound, "no \(message.path)")
        }
    }
}

/// A hand-written "server" on its own thread: a raw UDPSocket that answers each datagram it
/// receives with the messages `script` returns (encoded with our codec), until it has seen
/// `count` datagrams or 5 s have passed.
private final class RawServer: Sendable {
    let address: SocketAddress
    private let log = Mutex<[CoAPMessage]>([])
    private let joiner = Mutex<(@Sendable () -> Void)?>(nil)

    init(expecting count: Int, _ script: @escaping @Sendable (CoAPMessage) -> [CoAPMessage]) throws {
        let socket = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        address = socket.localAddress
        let handover = Handover(socket)
        let join = startThread { [self] in serve(handover.value, count: count, script) }
        joiner.withLock { $0 = join }
    }

    /// Everything the server received, decoded, in order (complete once `wait()` returned).
    var received: [CoAPMessage] { log.withLock { $0 } }

    func wait() {
        let join = joiner.withLock { join in
            defer { join = nil }
            return join
        }
        join?()
    }

    private func serve(_ socket: UDPSocket, count: Int, _ script: (CoAPMessage) -> [CoAPMessage]) {
        var poller = Poller()
        poller.register(socket.fileDescriptor)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let deadline = MonotonicClock.now() + .seconds(5)
        var seen = 0
        while seen < count, MonotonicClock.now() < deadline {
            guard let datagram = try? buffer.withUnsafeMutableBytes({ try socket.receive(into: $0) }) else {
                _ = try? poller.wait(until: deadline, now: MonotonicClock.now())
                continue
            }
            seen += 1
            guard let message = try? CoAPMessage(decoding: Array(buffer[..<datagram.count])) else { continue }
            log.withLock { $0.append(message) }
            for reply in script(message) {
                if let bytes = try? reply.encoded() { _ = try? socket.send(bytes, to: datagram.from) }
            }
        }
    }
}

/// The OneShotError `body` throws, or nil (recording an issue) when it returns.
private func oneShotError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(OneShotError) -> CoAPMessage
) -> OneShotError? {
    do {
        let message = try body()
        Issue.record("expected an error, got \(message.code)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

private func fastConfiguration() -> EndpointConfiguration {
    var configuration = EndpointConfiguration()
    configuration.transmission.ackTimeout = .milliseconds(50)
    configuration.transmission.maxRetransmit = 2
    return configuration
}

@Suite struct OneShotClientTests {
    @Test func getReturnsThePiggybackedResponse() throws {
        let server = try BackgroundServer()
        defer { server.stop() }
        let response = try OneShotClient.perform(
            CoAPRequest(.get), uri: "coap://127.0.0.1:\(server.address.port)/hello",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        #expect(response.code == .content)
        #expect(response.type == .acknowledgement)
        #expect(response.payload == Array("hi there".utf8))
        #expect(response.contentFormat == ContentFormat.textPlain)
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.type == .confirmable)
    }

    @Test func uriSuppliesPathAndQueryAndOtherOptionsAreKept() throws {
        let server = try BackgroundServer()
        defer { server.stop() }
        // Uri-Path/Uri-Query in the request are replaced by the URI's; Accept stays.
        let request = CoAPRequest(
            .get, options: [CoAPOption(.uriPath, string: "ignored"), CoAPOption(.uriQuery, string: "old"),
                            CoAPOption(.accept, uint: 0)])
        let response = try OneShotClient.perform(
            request, uri: "coap://127.0.0.1:\(server.address.port)/hello?a=1&b%20c=2",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        #expect(response.code == .content)
        let seen = try #require(server.requests.first)
        #expect(seen.uriPath == ["hello"])
        #expect(seen.uriQuery == ["a=1", "b c=2"])
        #expect(seen.accept == 0)
    }

    @Test func errorResponseIsReturnedNotThrown() throws {
        let server = try BackgroundServer()
        defer { server.stop() }
        let response = try OneShotClient.perform(
            CoAPRequest(.get), uri: "coap://127.0.0.1:\(server.address.port)/missing",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        #expect(response.code == .notFound)
        #expect(response.payload == Array("no /missing".utf8))
    }

    @Test func block2ResponseIsReassembled() throws {
        let server = try BackgroundServer()
        defer { server.stop() }
        var configuration = EndpointConfiguration()
        configuration.preferredBlockSZX = 4  // 256-byte blocks: 12 exchanges for 3000 bytes
        let response = try OneShotClient.perform(
            CoAPRequest(.get), uri: "coap://127.0.0.1:\(server.address.port)/big",
            configuration: configuration, timeout: .seconds(5))
        #expect(response.code == .content)
        #expect(response.payload == BackgroundServer.big)
        #expect(response.block2 == nil)
    }

    @Test func block1RequestBodyArrivesWhole() throws {
        let server = try BackgroundServer()
        defer { server.stop() }
        let body = (0..<2100).map { UInt8(truncatingIfNeeded: $0) }
        let response = try OneShotClient.perform(
            CoAPRequest(.put, payload: body), uri: "coap://127.0.0.1:\(server.address.port)/echo",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        #expect(response.code == .changed)
        #expect(response.payload == Array("len=2100".utf8))
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.payload == body)
    }

    @Test(requires(oneShotIPv6Available, "IPv6 loopback ::1 cannot be bound on this host"))
    func getOverIPv6() throws {
        let server = try BackgroundServer(family: .ipv6)
        defer { server.stop() }
        let response = try OneShotClient.perform(
            CoAPRequest(.get), uri: "coap://[::1]:\(server.address.port)/hello",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        #expect(response.payload == Array("hi there".utf8))
    }

    @Test func pingReturnsAnEmptyReset() throws {
        let server = try BackgroundServer()
        defer { server.stop() }
        let response = try OneShotClient.perform(
            CoAPRequest(.empty), uri: "coap://127.0.0.1:\(server.address.port)",
            configuration: EndpointConfiguration(), timeout: .seconds(5), ping: true)
        #expect(response.type == .reset)
        #expect(response.code == .empty)
        #expect(server.requests.isEmpty)
    }

    @Test func rawServerPiggybackedResponse() throws {
        let server = try RawServer(expecting: 1) { request in
            var response = CoAPMessage(type: .acknowledgement, code: .content, messageID: request.messageID,
                                       token: request.token, payload: Array("raw answer".utf8))
            response.contentFormat = ContentFormat.textPlain
            response.eTag = [0xE7, 0xA9]
            response.maxAge = 30
            return [response]
        }
        let response = try OneShotClient.perform(
            CoAPRequest(.get), uri: "coap://127.0.0.1:\(server.address.port)/raw/path",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        server.wait()
        #expect(response.code == .content)
        #expect(response.payload == Array("raw answer".utf8))
        #expect(response.eTag == [0xE7, 0xA9])
        #expect(response.maxAge == 30)
        let request = try #require(server.received.first)
        #expect(request.type == .confirmable)
        #expect(request.code == .get)
        #expect(request.uriPath == ["raw", "path"])
        #expect(request.token.count == EndpointConfiguration().tokenLength)
        #expect(response.token == request.token)
    }

    @Test func rawServerSeparateResponseIsAcknowledged() throws {
        let server = try RawServer(expecting: 2) { message in
            guard message.code == .get else { return [] }
            // An empty ACK now, the answer later as a separate CON response (RFC 7252 §5.2.2).
            return [.empty(.acknowledgement, messageID: message.messageID),
                    CoAPMessage(type: .confirmable, code: .content, messageID: 0x7777, token: message.token,
                                payload: Array("later".utf8))]
        }
        let response = try OneShotClient.perform(
            CoAPRequest(.get), uri: "coap://127.0.0.1:\(server.address.port)/slow",
            configuration: EndpointConfiguration(), timeout: .seconds(5))
        server.wait()
        #expect(response.type == .confirmable)
        #expect(response.code == .content)
        #expect(response.payload == Array("later".utf8))
        // The client acknowledged the separate response before returning.
        let received = server.received
        try #require(received.count == 2)
        #expect(received[1].type == .acknowledgement)
        #expect(received[1].code == .empty)
        #expect(received[1].messageID == 0x7777)
    }

    @Test func rawServerResetFailsTheRequest() throws {
        let server = try RawServer(expecting: 1) { request in [.empty(.reset, messageID: request.messageID)] }
        let start = MonotonicClock.now()
        let error = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "coap://127.0.0.1:\(server.address.port)/x",
                                      configuration: EndpointConfiguration(), timeout: .seconds(5))
        }
        server.wait()
        guard case .failed(.reset)? = error else {
            Issue.record("expected .failed(.reset), got \(String(describing: error))")
            return
        }
        #expect(MonotonicClock.now() - start < .seconds(1))
    }

    @Test func invalidURIsAreReported() {
        let noScheme = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "127.0.0.1/hello",
                                      configuration: EndpointConfiguration(), timeout: .seconds(1))
        }
        guard case .uri(.missingScheme)? = noScheme else {
            Issue.record("expected .uri(.missingScheme), got \(String(describing: noScheme))")
            return
        }
        let badPort = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "coap://127.0.0.1:70000/",
                                      configuration: EndpointConfiguration(), timeout: .seconds(1))
        }
        guard case .uri(.invalidPort("70000"))? = badPort else {
            Issue.record("expected .uri(.invalidPort), got \(String(describing: badPort))")
            return
        }
        let http = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "http://example.com/",
                                      configuration: EndpointConfiguration(), timeout: .seconds(1))
        }
        guard case .uri(.unsupportedScheme("http"))? = http else {
            Issue.record("expected .uri(.unsupportedScheme), got \(String(describing: http))")
            return
        }
        #expect(noScheme?.description == "invalid URI: not an absolute URI (expected coap://host[:port]/path)")
    }

    @Test func coapsNeedsTheSecureClient() {
        let start = MonotonicClock.now()
        let error = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "coaps://127.0.0.1:5684/x",
                                      configuration: EndpointConfiguration(), timeout: .seconds(5))
        }
        guard case .unsupportedScheme("coaps")? = error else {
            Issue.record("expected .unsupportedScheme(\"coaps\"), got \(String(describing: error))")
            return
        }
        #expect(MonotonicClock.now() - start < .seconds(1))
        #expect(error?.description.hasPrefix("coaps:// is not supported by this client") == true)
    }

    @Test func deadPortFailsWithTimeoutQuickly() throws {
        let port: UInt16
        do {
            let probe = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
            port = probe.localAddress.port
            probe.close()
        }
        let start = MonotonicClock.now()
        let error = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "coap://127.0.0.1:\(port)/x",
                                      configuration: fastConfiguration(), timeout: .seconds(10))
        }
        let elapsed = MonotonicClock.now() - start
        guard case .failed(.timeout)? = error else {
            Issue.record("expected .failed(.timeout), got \(String(describing: error))")
            return
        }
        // ACK_TIMEOUT 50 ms (×1…1.5), 2 retransmissions: fails after 350…525 ms.
        #expect(elapsed >= .milliseconds(340))
        #expect(elapsed < .seconds(2))
        #expect(error?.description == "no response (timeout)")
    }

    @Test func silentPeerHitsTheOverallDeadline() throws {
        // A bound socket nobody reads: datagrams are accepted and never answered.
        let sink = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let start = MonotonicClock.now()
        let error = oneShotError { () throws(OneShotError) in
            try OneShotClient.perform(CoAPRequest(.get), uri: "coap://127.0.0.1:\(sink.localAddress.port)/x",
                                      configuration: EndpointConfiguration(), timeout: .milliseconds(200))
        }
        let elapsed = MonotonicClock.now() - start
        guard case .deadlineExceeded? = error else {
            Issue.record("expected .deadlineExceeded, got \(String(describing: error))")
            return
        }
        #expect(elapsed >= .milliseconds(195))
        #expect(elapsed < .seconds(2))
    }
}
