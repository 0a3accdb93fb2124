/// Remembers recently received message IDs per peer and what we answered, so a retransmitted
/// request is answered again from the cache instead of being processed twice (RFC 7252 §4.5).
///
/// Entries expire after their lifetime (EXCHANGE_LIFETIME for CON, NON_LIFETIME for NON);
/// when more than `capacity` are live the oldest are evicted first.
struct DuplicateCache<Peer: Hashable> {
    struct Key: Hashable {
        var peer: Peer
        var messageID: UInt16
    }

    enum Entry {
        /// Received, not answered yet: a duplicate is ignored.
        case pending
        /// Answered: a duplicate gets this datagram again.
        case answered([UInt8])
    }

    private var entries: [Key: (entry: Entry, expiry: Instant)] = [:]
    /// Insertion order, for evicting the oldest entry when full.
    private var order = FIFO<(key: Key, expiry: Instant)>()
    /// Expiry order. CON and NON entries have different lifetimes, so insertion order is not
    /// expiry order: purging by `order` alone would leave expired entries behind a live one,
    /// and a full cache would then evict live entries while keeping dead ones.
    private var expiries = TimerQueue<(key: Key, expiry: Instant)>()
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { entries.count }

    /// The live entry for `key`, if any.
    func lookup(_ key: Key, at now: Instant) -> Entry? {
        guard let found = entries[key], found.expiry > now else { return nil }
        return found.entry
    }

    /// Records a newly received message.
    mutating func insert(_ key: Key, _ entry: Entry, expiry: Instant) {
        entries[key] = (entry, expiry)
        order.append((key, expiry))
        expiries.schedule((key, expiry), at: expiry)
        while entries.count > capacity, let oldest = order.popFirst() {
            removeIfCurrent(oldest)
        }
        // Evicted entries leave stale items in `expiries`: rebuild it now and then to keep it bounded.
        if expiries.count > 4 * capacity {
            expiries = TimerQueue()
            for (key, value) in entries { expiries.schedule((key, value.expiry), at: value.expiry) }
        }
    }

    /// Stores the answer for a message already recorded (no-op if it was evicted meanwhile).
    mutating func setAnswer(_ datagram: [UInt8], for key: Key) {
        if entries[key] != nil { entries[key]!.entry = .answered(datagram) }
    }

    /// Drops expired entries.
    mutating func purge(at now: Instant) {
        while let item = expiries.popDue(at: now) { removeIfCurrent(item) }
        while let oldest = order.first, oldest.expiry <= now {
            _ = order.popFirst()
            removeIfCurrent(oldest)
        }
    }

    private mutating func removeIfCurrent(_ item: (key: Key, expiry: Instant)) {
        // A key recorded again later has a newer expiry: this queue item is stale.
        if let found = entries[item.key], found.expiry == item.expiry { entries[item.key] = nil }
    }
}
