// Issue 10, defect 10: name resolution off the event loop, and connected sockets that report
// ICMP port unreachable.
import CoAP
import Glibc
import Synchronization
import Testing
import Transport

/// A resolve function that blocks until released, as getaddrinfo does when DNS hangs.
private final class HangingDNS: Sendable {
    private let gate = Mutex(false)
    let calls = Atomic<Int>(0)

    func resolve(_ host: String, _ port: UInt16) throws(TransportError) -> [SocketAddress] {
        calls.add(1, ordering: .sequentiallyConsistent)
        while !gate.withLock({ $0 }) { usleep(1000) }
        if host == "missing.example" { throw .resolution(host: host, message: "Name or service not known") }
        return [SocketAddress(ipAddress: "192.0.2.7", port: port)!]
    }

    func release() { gate.withLock { $0 = true } }
}

@Suite struct BackgroundResolverTests {
    /// The loop keeps its timers and its wake-ups (signals) while a resolution hangs, and
    /// collects the result through the poller once it arrives.
    @Test func theLoopKeepsRunningWhileAResolutionHangs() throws {
        let dns = HangingDNS()
        let resolver = try BackgroundResolver(resolve: { (host, port) throws(TransportError) in try dns.resolve(host, port) })
        let signal = try WakeUpSignal()
        var poller = Poller()
        poller.register(resolver.fileDescriptor)
        poller.register(signal.fileDescriptor)

        try resolver.submit(1, host: "bootstrap.example", port: 5684)
        try resolver.submit(2, host: "missing.example", port: 5684)
        #expect(resolver.inFlight == 2)

        // Timers: ten 20 ms deadlines fire on time although both resolutions hang.
        let started = MonotonicClock.now()
        for tick in 1...10 {
            let deadline = started + .milliseconds(20 * tick)
            while MonotonicClock.now() < deadline {
                let ready = try poller.wait(until: deadline, now: MonotonicClock.now())
                #expect(!ready.isReadable(resolver.fileDescriptor), "no result while DNS hangs")
            }
        }
        #expect(MonotonicClock.now() - started < .milliseconds(1000))
        // A signal wakes the loop at once.
        signal.signal()
        let woken = try poller.wait(until: MonotonicClock.now() + .seconds(1), now: MonotonicClock.now())
        #expect(woken.isReadable(signal.fileDescriptor))
        signal.drain()
        #expect(resolver.takeResults().isEmpty)

        // DNS answers: the poller wakes for the results.
        dns.release()
        var results: [BackgroundResolver.Completion] = []
        let deadline = MonotonicClock.now() + .seconds(5)
        while results.count < 2 && MonotonicClock.now() < deadline {
            let ready = try poller.wait(until: deadline, now: MonotonicClock.now())
            if ready.isReadable(resolver.fileDescriptor) { results += resolver.takeResults() }
        }
        #expect(results.count == 2)
        let found = try #require(results.first { $0.token == 1 })
        #expect(try found.result.get() == [SocketAddress(ipAddress: "192.0.2.7", port: 5684)!])
        let missing = try #require(results.first { $0.token == 2 })
        #expect(throws: TransportError.self) { try missing.result.get() }
        #expect(resolver.inFlight == 0)
    }

    @Test func resolutionsInFlightAreCapped() throws {
        let dns = HangingDNS()
        let resolver = try BackgroundResolver(maximumInFlight: 2,
                                              resolve: { (host, port) throws(TransportError) in try dns.resolve(host, port) })
        try resolver.submit(1, host: "a.example", port: 1)
        try resolver.submit(2, host: "b.example", port: 1)
        #expect(throws: TransportError.self) { try resolver.submit(3, host: "c.example", port: 1) }
        dns.release()
        var collected = 0
        let deadline = MonotonicClock.now() + .seconds(5)
        var poller = Poller()
        poller.register(resolver.fileDescriptor)
        while collected < 2 && MonotonicClock.now() < deadline {
            _ = try poller.wait(until: deadline, now: MonotonicClock.now())
            collected += resolver.takeResults().count
        }
        #expect(collected == 2)
        try resolver.submit(4, host: "d.example", port: 1)  // room again
    }

    @Test func theRealResolverAnswersLocalhostOffTheLoop() throws {
        let resolver = try BackgroundResolver()
        try resolver.submit(9, host: "localhost", port: 5683)
        var poller = Poller()
        poller.register(resolver.fileDescriptor)
        let deadline = MonotonicClock.now() + .seconds(10)
        var results: [BackgroundResolver.Completion] = []
        while results.isEmpty && MonotonicClock.now() < deadline {
            _ = try poller.wait(until: deadline, now: MonotonicClock.now())
            results = resolver.takeResults()
        }
        let first = try #require(results.first)
        let addresses = try first.result.get()
        #expect(addresses.allSatisfy { $0.port == 5683 })
        #expect(!addresses.isEmpty)
    }
}

@Suite struct ConnectedSocketTests {
    /// A connected socket counts ICMP port unreachable for its peer: a closed port is noticed
    /// after one round trip, not after the CoAP exchange lifetime.
    @Test func aClosedPortIsReportedAsUnreachable() throws {
        // A port nobody listens on: bind, note it, close.
        let closed = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0)).localAddress
        let client = try UDPSocket(family: .ipv4)
        try client.connect(to: closed)
        #expect(client.connectedPeer == closed)
        #expect(client.unreachableReports == 0)
        try client.send([0x40, 0x00, 0x12, 0x34], to: closed)
        var poller = Poller()
        poller.register(client.fileDescriptor)
        let ready = try poller.wait(until: MonotonicClock.now() + .seconds(2), now: MonotonicClock.now())
        #expect(ready.isReadable(client.fileDescriptor), "POLLERR from the ICMP port unreachable")
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(try buffer.withUnsafeMutableBytes { try client.receive(into: $0) } == nil)
        #expect(client.unreachableReports == 1)
        // The retransmission: a second report.
        try client.send([0x40, 0x00, 0x12, 0x34], to: closed)
        _ = try poller.wait(until: MonotonicClock.now() + .seconds(2), now: MonotonicClock.now())
        _ = try buffer.withUnsafeMutableBytes { try client.receive(into: $0) }
        #expect(client.unreachableReports == 2)
    }

    /// A connected socket only hears its peer: another sender's datagrams never reach it.
    @Test func aConnectedSocketHearsOnlyItsPeer() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let stranger = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        try client.connect(to: server.localAddress)
        try stranger.send([6, 6, 6], to: client.localAddress)
        try server.send([1, 2, 3], to: client.localAddress)
        let received = try #require(try receiveDatagram(on: client, timeout: .seconds(2)))
        #expect(received.bytes == [1, 2, 3])
        #expect(received.from == server.localAddress)
        #expect(try receiveDatagram(on: client, timeout: .milliseconds(100)) == nil)
    }
}
