// Lazily cancelled timers must not pile up: a client whose requests are answered long before
// their retransmission deadline (a block-wise firmware download from a fast server: thousands of
// blocks a second, each an acknowledged CON) used to leave one dead heap entry per request until
// that deadline, about 64 bytes each: 1.8 MiB of heap for a 32 MiB image with ack-timeout 30 s.
import Testing
@testable import CoAP

@Suite struct EndpointTimerCompactionTests {
    /// Sends `count` GETs, each answered at once with a piggybacked 2.05 `spacing` after it left.
    private func exchange(_ d: EndpointDriver, count: Int, spacing: Duration) throws -> Int {
        var largestHeap = 0
        for n in 0..<count {
            let id = d.send(CoAPRequest(.get, path: "/fw"))
            let request = try #require(d.takeOne())
            largestHeap = max(largestHeap, d.endpoint.timers.count)
            d.advance(by: spacing)
            d.receive(EP.datagram(EP.ACK, EP.c205, mid: request.messageID, token: request.token.bytes,
                                  payload: [UInt8(n & 0xFF)]))
            let events = d.takeEvents()
            #expect(events.count == 1 && events.first?.asResponse?.id == id, "request \(n): \(events)")
        }
        return largestHeap
    }

    @Test("10 000 requests answered within the ACK timeout leave a bounded timer heap")
    func answeredRequestsDoNotPileUpTimers() throws {
        var configuration = EndpointConfiguration()
        configuration.transmission.ackTimeout = .seconds(30)
        let d = EndpointDriver(configuration: configuration)
        // 10 000 exchanges in 1 s, all well inside the first retransmission deadline (30–45 s).
        let largest = try exchange(d, count: 10_000, spacing: .microseconds(100))
        #expect(largest <= 2 * 1 + 64, "heap reached \(largest) entries for 1 live timer")
        #expect(d.endpoint.timers.count <= 64)

        // What is live survives a compaction: a request left unanswered is retransmitted, and
        // one whose empty ACK arrived still times out.
        _ = try exchange(d, count: 200, spacing: .microseconds(100))
        let silent = d.send(CoAPRequest(.get, path: "/silent"), to: .a)  // its own NSTART slot
        let first = try #require(d.takeOne())
        _ = try exchange(d, count: 500, spacing: .microseconds(100))  // compactions meanwhile
        d.advance(by: .seconds(46))
        let again = d.take().compactMap { EP.decode($0.bytes) }.filter { $0.messageID == first.messageID }
        #expect(again.count == 1, "the unanswered request was retransmitted once by T + 46 s")
        #expect(d.takeEvents().isEmpty)
        d.cancel(silent)
    }

    @Test("a response deadline armed by an empty ACK survives compactions and fires")
    func responseDeadlineSurvivesCompaction() throws {
        var configuration = EndpointConfiguration()
        configuration.responseTimeout = .seconds(20)
        let d = EndpointDriver(configuration: configuration)
        let waiting = d.send(CoAPRequest(.get, path: "/slow"), to: .a)
        let request = try #require(d.takeOne())
        d.receive(EP.empty(EP.ACK, mid: request.messageID), from: .a)  // separate response to follow
        #expect(d.takeEvents().isEmpty)
        let largest = try exchange(d, count: 3_000, spacing: .microseconds(100))
        #expect(largest <= 2 * 2 + 64, "heap reached \(largest) entries")
        d.advance(by: .seconds(21))
        let events = d.takeEvents()
        guard case .requestFailed(let id, .timeout)? = events.first else {
            Issue.record("expected the response time-out, got \(events)")
            return
        }
        #expect(id == waiting && events.count == 1)
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func removeAllKeepsTheHeapOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var queue = TimerQueue<Int>()
        var model: [(deadline: Instant, id: Int)] = []
        var nextID = 0
        var now = Instant.zero
        for round in 0..<200 {
            for _ in 0..<Int(rng.next() % 50) {
                let deadline = now + .milliseconds(Int64(rng.next() % 10_000))
                queue.schedule(nextID, at: deadline)
                model.append((deadline, nextID))
                nextID += 1
            }
            let divisor = Int(rng.next() % 4) + 2
            queue.removeAll { $0 % divisor == round % divisor }
            model.removeAll { $0.id % divisor == round % divisor }
            #expect(queue.count == model.count)
            #expect(queue.earliest == model.map(\.deadline).min())
            now += .milliseconds(Int64(rng.next() % 3_000))
            expectPopsDue(&queue, model: &model, at: now)
        }
    }
}
