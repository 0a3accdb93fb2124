// The endpoint's internal building blocks checked against simple models: the duplicate cache
// (RFC 7252 §4.5 bookkeeping) and the timer heap.
import Testing
@testable import CoAP

@Suite struct EndpointInternalsTests {
    /// A reference duplicate cache: live entries only; when more than `capacity` are live the
    /// oldest-inserted is evicted.
    struct ModelCache {
        struct Item { var expiry: Instant; var sequence: Int; var answer: [UInt8]? }
        var items: [DuplicateCache<EPPeer>.Key: Item] = [:]
        var sequence = 0
        let capacity: Int

        mutating func purge(at now: Instant) { items = items.filter { $0.value.expiry > now } }

        mutating func insert(_ key: DuplicateCache<EPPeer>.Key, expiry: Instant) {
            sequence += 1
            items[key] = Item(expiry: expiry, sequence: sequence, answer: nil)
            while items.count > capacity, let oldest = items.min(by: { $0.value.sequence < $1.value.sequence }) {
                items[oldest.key] = nil
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func duplicateCacheMatchesModel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let capacity = 1 + Int(rng.next() % 8)
        var cache = DuplicateCache<EPPeer>(capacity: capacity)
        var model = ModelCache(capacity: capacity)
        var now = Instant.zero
        let lifetimes: [Duration] = [.seconds(145), .seconds(247)]
        for step in 0..<4000 {
            now += .milliseconds(Int64(rng.next() % 40_000))
            let key = DuplicateCache<EPPeer>.Key(peer: rng.next() & 1 == 0 ? .a : .b, messageID: UInt16(rng.next() % 12))
            // What the endpoint does for each received message.
            cache.purge(at: now)
            model.purge(at: now)
            let found = cache.lookup(key, at: now)
            #expect((found != nil) == (model.items[key] != nil), "step \(step): presence of \(key)")
            if found == nil {
                let expiry = now + lifetimes[Int(rng.next() & 1)]
                cache.insert(key, .pending, expiry: expiry)
                model.insert(key, expiry: expiry)
                if rng.next() % 3 != 0 {
                    let answer = [UInt8(step & 0xFF), UInt8(step >> 8)]
                    cache.setAnswer(answer, for: key)
                    model.items[key]?.answer = answer
                }
            } else if case .answered(let bytes) = found {
                #expect(model.items[key]?.answer == bytes)
            } else {
                #expect(model.items[key]?.answer == nil)
            }
            #expect(cache.count <= capacity)
            // Every key agrees with the model.
            var disagreements: [DuplicateCache<EPPeer>.Key] = []
            for peer in [EPPeer.a, .b] {
                for mid in UInt16(0)..<12 {
                    let k = DuplicateCache<EPPeer>.Key(peer: peer, messageID: mid)
                    if (cache.lookup(k, at: now) != nil) != (model.items[k] != nil) { disagreements.append(k) }
                }
            }
            #expect(disagreements.isEmpty, "step \(step)")
            if !disagreements.isEmpty { return }
        }
    }

    /// The cache keeps its entries in lanes of non-decreasing expiry: any mix of lifetimes (not
    /// only the endpoint's two), purges that are skipped, and keys recorded again while held
    /// must still agree with the model, and the lanes must not grow without bound.
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func duplicateCacheMatchesModelWithAnyLifetimeAndReinsertion(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let capacity = 1 + Int(rng.next() % 16)
        var cache = DuplicateCache<EPPeer>(capacity: capacity)
        var model = ModelCache(capacity: capacity)
        var now = Instant.zero
        for step in 0..<4000 {
            now += .milliseconds(Int64(rng.next() % 20_000))
            let key = DuplicateCache<EPPeer>.Key(peer: rng.next() & 1 == 0 ? .a : .b, messageID: UInt16(rng.next() % 24))
            if rng.next() % 4 != 0 {
                cache.purge(at: now)
                model.purge(at: now)
            }
            // Without a purge, expired entries are still not found.
            let found = cache.lookup(key, at: now)
            #expect((found != nil) == (model.items[key].map { $0.expiry > now } ?? false), "step \(step)")
            // Any lifetime from 1 to 300 s; sometimes a key that is still held is recorded again.
            if found == nil || rng.next() % 5 == 0 {
                cache.purge(at: now)  // as the endpoint does before it records a message
                model.purge(at: now)
                let expiry = now + .milliseconds(1000 + Int64(rng.next() % 299_000))
                cache.insert(key, .answered([UInt8(step & 0xFF)]), expiry: expiry)
                model.insert(key, expiry: expiry)
                model.items[key]?.answer = [UInt8(step & 0xFF)]
            }
            cache.purge(at: now)
            model.purge(at: now)
            #expect(cache.count == model.items.count, "step \(step)")
            var disagreements: [DuplicateCache<EPPeer>.Key] = []
            for peer in [EPPeer.a, .b] {
                for mid in UInt16(0)..<24 {
                    let k = DuplicateCache<EPPeer>.Key(peer: peer, messageID: mid)
                    var answer: [UInt8]? = nil
                    if case .answered(let bytes)? = cache.lookup(k, at: now) { answer = bytes }
                    if answer != model.items[k]?.answer { disagreements.append(k) }
                }
            }
            #expect(disagreements.isEmpty, "step \(step)")
            if !disagreements.isEmpty { return }
        }
    }

    @Test func duplicateCacheExpiryIsExclusive() {
        var cache = DuplicateCache<EPPeer>(capacity: 4)
        let key = DuplicateCache<EPPeer>.Key(peer: .a, messageID: 1)
        cache.insert(key, .answered([1]), expiry: EP.at(10))
        #expect(cache.lookup(key, at: EP.at(9.999)) != nil)
        #expect(cache.lookup(key, at: EP.at(10)) == nil)
        cache.purge(at: EP.at(10))
        #expect(cache.count == 0)
    }

    @Test func duplicateCacheStaysSmallUnderAFlood() {
        var cache = DuplicateCache<EPPeer>(capacity: 8)
        var now = Instant.zero
        for i in 0..<100_000 {
            now += .milliseconds(1)
            cache.purge(at: now)
            let key = DuplicateCache<EPPeer>.Key(peer: .a, messageID: UInt16(truncatingIfNeeded: i))
            if cache.lookup(key, at: now) == nil {
                cache.insert(key, .pending, expiry: now + .seconds(i & 1 == 0 ? 145 : 247))
            }
        }
        #expect(cache.count == 8)
    }

    @Test(arguments: [7, 8, 9] as [UInt64])
    func timerQueuePopsInDeadlineOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var queue = TimerQueue<Int>()
        var model: [(deadline: Instant, id: Int)] = []
        var now = Instant.zero
        var nextID = 0
        for _ in 0..<3000 {
            if rng.next() % 3 != 0 {
                let deadline = now + .milliseconds(Int64(rng.next() % 10_000))
                queue.schedule(nextID, at: deadline)
                model.append((deadline, nextID))
                nextID += 1
            } else {
                now += .milliseconds(Int64(rng.next() % 3_000))
                expectPopsDue(&queue, model: &model, at: now)
            }
            #expect(queue.count == model.count)
            #expect(queue.earliest == model.map(\.deadline).min())
        }
    }
}

/// Pops everything due at `now` from `queue` and checks it against `model` (a list of the
/// scheduled entries): exactly the due entries, in non-decreasing deadline order; removes them
/// from the model.
func expectPopsDue(_ queue: inout TimerQueue<Int>, model: inout [(deadline: Instant, id: Int)], at now: Instant) {
    var popped: [Int] = []
    while let id = queue.popDue(at: now) { popped.append(id) }
    let due = model.filter { $0.deadline <= now }
    model.removeAll { $0.deadline <= now }
    #expect(Set(popped) == Set(due.map(\.id)))
    let deadlines = popped.map { id in due.first { $0.id == id }!.deadline }
    #expect(deadlines == deadlines.sorted())
}
