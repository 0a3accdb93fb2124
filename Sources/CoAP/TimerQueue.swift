/// A binary min-heap of deadlines. Entries are not removed when cancelled: owners carry a
/// generation and ignore a fired entry whose generation no longer matches (lazy cancellation);
/// `removeAll(where:)` drops such dead entries in bulk.
struct TimerQueue<Payload> {
    struct Entry {
        var deadline: Instant
        var payload: Payload
    }

    private var heap: [Entry] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliest: Instant? { heap.first?.deadline }

    mutating func schedule(_ payload: Payload, at deadline: Instant) {
        heap.append(Entry(deadline: deadline, payload: payload))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(at now: Instant) -> Payload? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        removeEarliest()
        return first.payload
    }

    /// Removes the earliest entries while `isStale` says their owner would ignore them, so that
    /// `earliest` is a deadline that does something: an idle owner then sleeps until real work
    /// instead of waking for an acknowledged message's retransmission time.
    mutating func removeStaleEarliest(where isStale: (Payload) -> Bool) {
        while let first = heap.first, isStale(first.payload) { removeEarliest() }
    }

    private mutating func removeEarliest() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(from: 0)
        }
    }

    /// Drops every entry `isStale` says its owner would ignore (lazily cancelled ones) and
    /// restores the heap order, in O(n). Without it a stream of exchanges answered well before
    /// their retransmission deadline (a block-wise download at thousands of blocks a second)
    /// leaves one dead entry per message in the heap until that deadline.
    mutating func removeAll(where isStale: (Payload) -> Bool) {
        heap.removeAll { isStale($0.payload) }
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// A FIFO over an array with a moving head, compacted as it drains (no per-pop shifting).
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }
    var last: Element? { isEmpty ? nil : storage[storage.count - 1] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}
