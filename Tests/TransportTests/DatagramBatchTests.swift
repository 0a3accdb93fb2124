// UDPSocket.receive(into: DatagramBatch) (one recvmmsg(2) per wake-up) and the event loop's read
// policy on it: every queued datagram in one call, a short batch meaning drained, oversized and
// foreign datagrams skipped and counted as before.
import CoAP
import Glibc
import Testing
import Transport

@Suite struct DatagramBatchTests {
    /// Waits until `socket` is readable (datagrams sent on loopback are queued at once, but wait
    /// anyway so the test never races the kernel).
    func waitReadable(_ socket: UDPSocket) throws {
        var poller = Poller()
        poller.register(socket.fileDescriptor)
        _ = try poller.wait(until: MonotonicClock.now() + Duration.seconds(5), now: MonotonicClock.now())
    }

    func bytes(_ batch: DatagramBatch, _ index: Int) -> [UInt8]? {
        batch.datagram(index).map { Array($0.bytes) }
    }

    @Test func theHeaderLayoutIsTheCOne() {
        #expect(MessageHeaderWithLength.matchesC)
    }

    @Test func oneReceiveTakesEveryQueuedDatagramAndAShortBatchMeansDrained() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        for value: UInt8 in 1...3 { try client.send([value, value], to: server.localAddress) }
        try waitReadable(server)
        let batch = DatagramBatch(capacity: 8, slotSize: 64)
        #expect(try server.receive(into: batch) == 3)
        #expect((0..<3).map { bytes(batch, $0) } == [[1, 1], [2, 2], [3, 3]])
        #expect(batch.datagram(0)?.sender == client.localAddress)
        #expect(batch.datagram(3) == nil)
        #expect(try server.receive(into: batch) == 0)  // nothing pending
        #expect(batch.count == 0)
    }

    @Test func aFullBatchLeavesTheRestQueued() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        for value: UInt8 in 1...3 { try client.send([value], to: server.localAddress) }
        try waitReadable(server)
        let batch = DatagramBatch(capacity: 2, slotSize: 64)
        #expect(try server.receive(into: batch) == 2)
        #expect([bytes(batch, 0), bytes(batch, 1)] == [[1], [2]])
        #expect(try server.receive(into: batch) == 1)
        #expect(bytes(batch, 0) == [3])
    }

    @Test func anOversizedDatagramIsTakenSkippedAndCounted() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        try client.send([UInt8](repeating: 0xAA, count: 17), to: server.localAddress)
        try client.send([UInt8](repeating: 5, count: 16), to: server.localAddress)
        try waitReadable(server)
        let batch = DatagramBatch(capacity: 4, slotSize: 16)
        #expect(try server.receive(into: batch) == 2)
        #expect(batch.datagram(0) == nil)  // never delivered cut short
        #expect(bytes(batch, 1) == [UInt8](repeating: 5, count: 16))  // exactly a slot: delivered
        #expect(server.droppedReceiveCount == 1)
    }

    @Test func aStaleICMPErrorIsConsumedAndCountedOnAConnectedSocket() throws {
        // A port nobody listens on: the send's ICMP port unreachable comes back as ECONNREFUSED.
        let closed = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let peer = closed.localAddress
        closed.close()
        let socket = try UDPSocket(family: .ipv4)
        try socket.connect(to: peer)
        try socket.send([1], to: peer)
        usleep(50_000)
        let batch = DatagramBatch(capacity: 4, slotSize: 64)
        #expect(try socket.receive(into: batch) == 0)
        #expect(socket.unreachableReports == 1)
    }

    @Test func theEventLoopDeliversABatchInOrderThenReportsDrained() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        let loop = EventLoop(datagramsPerWakeUp: 4)
        var log: [String] = []
        loop.watch(server, onDatagram: { bytes, _, _ in log.append("datagram \(bytes.first!)") },
                   onDrained: { log.append("drained") })
        for value: UInt8 in 1...3 { try client.send([value], to: server.localAddress) }
        try waitReadable(server)
        try loop.runOnce(until: MonotonicClock.now() + Duration.seconds(1))
        #expect(log == ["datagram 1", "datagram 2", "datagram 3", "drained"])
        #expect(loop.receivedCount == 3)

        // A full batch: no "drained" (more may be queued); the rest comes at the next wake-up.
        log = []
        for value: UInt8 in 4...9 { try client.send([value], to: server.localAddress) }
        try waitReadable(server)
        try loop.runOnce(until: MonotonicClock.now() + Duration.seconds(1))
        #expect(log == ["datagram 4", "datagram 5", "datagram 6", "datagram 7"])
        try loop.runOnce(until: MonotonicClock.now() + Duration.seconds(1))
        #expect(log.suffix(3) == ["datagram 8", "datagram 9", "drained"])
    }

    @Test func aSourceRemovedByItsHandlerGetsNoFurtherCalls() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        let loop = EventLoop()
        var calls = 0, drained = 0
        var source: EventLoop.SourceID?
        source = loop.watch(server, onDatagram: { _, _, _ in
            calls += 1
            loop.remove(source!)
        }, onDrained: { drained += 1 })
        for value: UInt8 in 1...3 { try client.send([value], to: server.localAddress) }
        try waitReadable(server)
        try loop.runOnce(until: MonotonicClock.now() + Duration.milliseconds(200))
        #expect(calls == 1 && drained == 0)
    }
}
