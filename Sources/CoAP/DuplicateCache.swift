/// Remembers recently received message IDs per peer and what we answered, so a retransmitted
/// request is answered again from the cache instead of being processed twice (RFC 7252 §4.5).
///
/// Entries expire after their lifetime (EXCHANGE_LIFETIME for CON, NON_LIFETIME for NON);
/// when more than `capacity` are live the oldest are evicted first.
///
/// Cost per received message: one hash look-up, one insertion, and when full one removal (the
/// oldest entry's); no heap. Entries are kept in insertion order in a few *lanes*, each a queue
/// whose expiries never decrease: an entry joins the first lane whose last expiry is not later
/// than its own. The endpoint gives every entry one of two lifetimes and its clock never goes
/// back, so there are at most two lanes (CON, NON), and each lane's expired entries are at its
/// front. The oldest entry overall is at the front of one lane (the smallest sequence number).
struct DuplicateCache<Peer: Hashable> {
    struct Key: Hashable {
        var peer: Peer
        var messageID: UInt16

        // Written out rather than derived: the derived conformance of this generic type was not
        // specialised for the endpoint's peer type, and instantiated type metadata on every
        // comparison (perf: a seventh of the cache's time). The message ID is compared first.
        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.messageID == rhs.messageID && lhs.peer == rhs.peer
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(messageID)
            hasher.combine(peer)
        }
    }

    enum Entry {
        /// Received, not answered yet: a duplicate is ignored.
        case pending
        /// Answered: a duplicate gets this datagram again.
        case answered([UInt8])
    }

    /// What the cache holds for a key: the entry, when it expires, and when it was recorded.
    private struct Record {
        var entry: Entry
        var expiry: Instant
        var sequence: UInt64
    }

    /// A lane's item: which key, recorded when (a key recorded again later has a newer
    /// sequence: the older item is then stale and skipped), expiring when.
    private struct Item {
        var key: Key
        var sequence: UInt64
        var expiry: Instant
    }

    private var records: [Key: Record] = [:]
    private var lanes: [FIFO<Item>] = []
    /// The sequence number of the next entry (insertion order across lanes).
    private var nextSequence: UInt64 = 0
    /// Lane items whose key was recorded again later (the endpoint never does that: it inserts
    /// only what `lookup` did not find); while there are none, no item needs checking.
    private var staleItems = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { records.count }

    /// The live entry for `key`, if any.
    func lookup(_ key: Key, at now: Instant) -> Entry? {
        guard let found = records[key], found.expiry > now else { return nil }
        return found.entry
    }

    /// Records a newly received message.
    mutating func insert(_ key: Key, _ entry: Entry, expiry: Instant) {
        let sequence = nextSequence
        nextSequence &+= 1
        if records.updateValue(Record(entry: entry, expiry: expiry, sequence: sequence), forKey: key) != nil {
            staleItems += 1
        }
        let item = Item(key: key, sequence: sequence, expiry: expiry)
        if let lane = lanes.firstIndex(where: { ($0.last?.expiry ?? expiry) <= expiry }) {
            lanes[lane].append(item)
        } else {
            var lane = FIFO<Item>()
            lane.append(item)
            lanes.append(lane)
        }
        while records.count > capacity, evictOldest() {}
    }

    /// Stores the answer for a message already recorded (no-op if it was evicted meanwhile).
    mutating func setAnswer(_ datagram: [UInt8], for key: Key) {
        records[key]?.entry = .answered(datagram)
    }

    /// Drops expired entries.
    mutating func purge(at now: Instant) {
        for index in lanes.indices {
            while let front = lanes[index].first, front.expiry <= now {
                _ = lanes[index].popFirst()
                removeIfCurrent(front)
            }
        }
        lanes.removeAll { $0.isEmpty }
    }

    /// Removes the entry recorded first of those still held; false when none is.
    private mutating func evictOldest() -> Bool {
        var oldest: Int?
        for index in lanes.indices {
            while staleItems > 0, let front = lanes[index].first, !isCurrent(front) {
                _ = lanes[index].popFirst()
                staleItems -= 1
            }
            guard let front = lanes[index].first else { continue }
            if oldest.map({ front.sequence < lanes[$0].first!.sequence }) ?? true { oldest = index }
        }
        guard let oldest, let item = lanes[oldest].popFirst() else { return false }
        removeIfCurrent(item)
        return true
    }

    /// Whether `item` is the key's current record (not replaced by a later insertion).
    private func isCurrent(_ item: Item) -> Bool {
        records[item.key]?.sequence == item.sequence
    }

    /// Removes `item`'s record, or counts the stale item gone.
    private mutating func removeIfCurrent(_ item: Item) {
        guard let index = records.index(forKey: item.key), records.values[index].sequence == item.sequence else {
            staleItems -= 1
            return
        }
        records.remove(at: index)
    }
}
