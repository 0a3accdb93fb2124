import Time
import Glibc

/// The one poll(2) loop of a process, on one thread: file descriptors with handlers (UDP
/// sockets, wake-up signals, the resolver's results, later GPIO line events) and deadline
/// providers (protocol timers, retries), one shared receive buffer and one read policy.
///
/// Each ``runOnce(until:)`` waits until a source is readable or the earliest deadline passes,
/// then calls the handlers of the ready sources in registration order. Owners advance their
/// sans-IO state machines to the returned time afterwards (deadlines are reported, not fired:
/// a state machine's `advance(to:)` decides what is due).
///
/// Read policy for datagram sockets: up to ``datagramsPerWakeUp`` datagrams per socket and
/// wake-up, taken with one `recvmmsg(2)` (``UDPSocket/receive(into:)-(DatagramBatch)``): a
/// request costs one system call in (after the poll) and one out, and a batch that comes back
/// short tells that the socket is drained without a second read meeting `EAGAIN`. A busy socket
/// cannot starve the others, its timers or the signals (poll(2) returns at once while datagrams
/// are still queued), and a burst is not paid for with one poll(2) per datagram.
///
/// Handlers may add and remove sources, including their own: a source removed during a
/// wake-up gets no further calls.
public final class EventLoop {
    /// A datagram from `sender`, in the loop's shared buffer (valid only during the call),
    /// received at the time after the wait.
    public typealias DatagramHandler = (UnsafeRawBufferPointer, SocketAddress, Instant) throws(TransportError) -> Void
    /// A readable descriptor; the handler reads (or drains) it itself.
    public typealias ReadableHandler = (Instant) throws(TransportError) -> Void
    /// A descriptor ready for the events it is watched for; gets the events `poll` reported
    /// (`POLLIN`, `POLLOUT`, `POLLERR` …).
    public typealias EventsHandler = (Instant, Int16) throws(TransportError) -> Void
    /// When the owner next needs to run (nil: no timer).
    public typealias DeadlineProvider = () -> Instant?

    /// Identifies a registered source, for ``remove(_:)``.
    public struct SourceID: Hashable, Sendable {
        let value: Int
    }

    /// Datagrams read from one socket per wake-up at most.
    public let datagramsPerWakeUp: Int
    /// Datagrams received on all sockets (for statistics and logs).
    public private(set) var receivedCount = 0

    private enum Handler {
        case datagrams(UDPSocket, DatagramHandler, drained: (() -> Void)?, failed: ((TransportError) -> Void)?)
        case readable(ReadableHandler)
        case events(EventsHandler)
    }

    private struct Source {
        let id: Int
        let handler: Handler
    }

    private var sources: [Int32: Source] = [:]
    private var deadlines: [(id: Int, provider: DeadlineProvider)] = []
    private var poller = Poller()
    private var nextID = 0
    /// The shared receive buffers: one slot of 64 KiB per datagram of a wake-up's batch.
    private let batch: DatagramBatch

    /// - Parameter datagramsPerWakeUp: the read batch per socket and wake-up (at least 1).
    public init(datagramsPerWakeUp: Int = 8) {
        self.datagramsPerWakeUp = max(1, datagramsPerWakeUp)
        batch = DatagramBatch(capacity: self.datagramsPerWakeUp, slotSize: 65_536)
    }

    /// Watches a UDP socket: `onDatagram` for each datagram read, `onDrained` when a read found
    /// nothing more (`EAGAIN`: e.g. time to look at the socket's ICMP reports), `onError` when
    /// a read fails; without `onError` the failure is thrown out of ``runOnce(until:)``.
    @discardableResult
    public func watch(
        _ socket: UDPSocket, onDatagram: @escaping DatagramHandler, onDrained: (() -> Void)? = nil,
        onError: ((TransportError) -> Void)? = nil
    ) -> SourceID {
        add(socket.fileDescriptor, .datagrams(socket, onDatagram, drained: onDrained, failed: onError))
    }

    /// Watches any descriptor for readability (a ``WakeUpSignal``, a resolver's eventfd, a GPIO
    /// line): `handler` runs once per wake-up while it is readable and must consume what is there.
    @discardableResult
    public func watch(readable fd: Int32, _ handler: @escaping ReadableHandler) -> SourceID {
        add(fd, .readable(handler))
    }

    /// Watches a descriptor someone else reads and writes (a library's socket, e.g. libcurl's)
    /// for `events` (`POLLIN`, `POLLOUT` or both); `handler` gets what `poll` reported.
    @discardableResult
    public func watch(_ fd: Int32, events: Int16, _ handler: @escaping EventsHandler) -> SourceID {
        nextID &+= 1
        sources[fd] = Source(id: nextID, handler: .events(handler))
        poller.register(fd, events: events)
        return SourceID(value: nextID)
    }

    /// Changes the events a descriptor added with ``watch(_:events:_:)`` is watched for.
    public func setEvents(_ id: SourceID, _ events: Int16) {
        guard let fd = sources.first(where: { $0.value.id == id.value })?.key else { return }
        poller.register(fd, events: events)
    }

    /// Adds a deadline provider: the loop wakes no later than the earliest deadline of all.
    @discardableResult
    public func addDeadline(_ provider: @escaping DeadlineProvider) -> SourceID {
        nextID &+= 1
        deadlines.append((nextID, provider))
        return SourceID(value: nextID)
    }

    /// Removes a source or deadline provider; unknown IDs are ignored.
    public func remove(_ id: SourceID) {
        if let fd = sources.first(where: { $0.value.id == id.value })?.key {
            sources[fd] = nil
            poller.unregister(fd)
        }
        deadlines.removeAll { $0.id == id.value }
    }

    /// The earliest deadline of all providers.
    public var nextDeadline: Instant? {
        var earliest: Instant? = nil
        for entry in deadlines {
            if let candidate = entry.provider(), earliest.map({ candidate < $0 }) ?? true { earliest = candidate }
        }
        return earliest
    }

    /// Waits until a source is readable, the earliest deadline (of the providers and
    /// `deadline`) passes or a signal interrupts the wait; then runs the ready sources'
    /// handlers. Returns the time read after the wait (also the time given to the handlers).
    @discardableResult
    public func runOnce(until deadline: Instant? = nil) throws(TransportError) -> Instant {
        var wakeAt = nextDeadline
        if let deadline, wakeAt.map({ deadline < $0 }) ?? true { wakeAt = deadline }
        let ready = try poller.wait(until: wakeAt, now: MonotonicClock.now())
        let now = MonotonicClock.now()
        guard !ready.isEmpty else { return now }
        for fd in ready {
            guard let source = sources[fd] else { continue }
            switch source.handler {
            case .readable(let handler):
                try handler(now)
            case .events(let handler):
                try handler(now, ready.events(of: fd))
            case .datagrams(let socket, let handler, let drained, let failed):
                try read(socket, source.id, handler, drained, failed, at: now)
            }
        }
        return now
    }

    private func read(
        _ socket: UDPSocket, _ id: Int, _ handler: DatagramHandler, _ drained: (() -> Void)?,
        _ failed: ((TransportError) -> Void)?, at now: Instant
    ) throws(TransportError) {
        let fd = socket.fileDescriptor
        let received: Int
        do {
            received = try socket.receive(into: batch)  // one recvmmsg(2) for the whole batch
        } catch {
            guard let failed else { throw error }
            return failed(error)
        }
        for index in 0..<received {
            // The handler may have removed this source (a connection dropped): the rest of the
            // batch goes with it.
            guard sources[fd]?.id == id else { return }
            guard let (bytes, sender) = batch.datagram(index) else { continue }  // skipped, counted
            receivedCount &+= 1
            try handler(bytes, sender, now)
        }
        // Fewer than a batch: the socket had nothing more (what a read meeting EAGAIN told).
        if received < datagramsPerWakeUp, sources[fd]?.id == id { drained?() }
    }

    private func add(_ fd: Int32, _ handler: Handler) -> SourceID {
        nextID &+= 1
        sources[fd] = Source(id: nextID, handler: handler)
        poller.register(fd)
        return SourceID(value: nextID)
    }
}
