import Time
import Glibc

/// A minimal `poll(2)` loop driver: a set of file descriptors watched for readability.
///
/// The descriptor array is reused across calls; `wait` allocates nothing as long as the
/// previous ``ReadySet`` has been released before the next `wait` (it shares the array).
public struct Poller {
    @usableFromInline var descriptors: [pollfd] = []

    public init() {
        descriptors.reserveCapacity(4)
    }

    /// The registered descriptors, in registration order.
    public var registeredDescriptors: [Int32] { descriptors.map(\.fd) }

    /// Watches `fd` for readability. Registering a descriptor twice has no effect.
    public mutating func register(_ fd: Int32) {
        guard !descriptors.contains(where: { $0.fd == fd }) else { return }
        descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
    }

    /// Watches `fd` for `events` (`POLLIN`, `POLLOUT` or both), or changes what a registered
    /// descriptor is watched for.
    public mutating func register(_ fd: Int32, events: Int16) {
        if let index = descriptors.firstIndex(where: { $0.fd == fd }) {
            descriptors[index].events = events
        } else {
            descriptors.append(pollfd(fd: fd, events: events, revents: 0))
        }
    }

    /// Stops watching `fd`. Unknown descriptors are ignored.
    public mutating func unregister(_ fd: Int32) {
        descriptors.removeAll { $0.fd == fd }
    }

    /// Blocks until a registered descriptor is readable or `deadline` passes.
    ///
    /// - Parameters:
    ///   - deadline: when to give up; `nil` waits indefinitely. A deadline at or before `now`
    ///     polls without blocking.
    ///   - now: the current ``MonotonicClock`` time, passed in so the caller's loop reads the
    ///     clock once per iteration.
    /// - Returns: the readable descriptors; empty on timeout or when a signal interrupted the
    ///   wait (`EINTR`), so the caller simply re-checks its timers and waits again.
    /// - Throws: `.socket(errno:operation: "poll")` for other `poll` failures.
    public mutating func wait(until deadline: Instant?, now: Instant) throws(TransportError) -> ReadySet {
        let timeout = Poller.timeoutMilliseconds(until: deadline, now: now)
        let ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if ready > 0 { return ReadySet(descriptors: descriptors, readyCount: Int(ready)) }
        if ready == 0 || errno == EINTR { return ReadySet(descriptors: [], readyCount: 0) }
        throw TransportError.lastError("poll")
    }

    /// The `poll` timeout for `deadline`: milliseconds rounded **up** (so the loop never wakes
    /// just before a deadline and spins), 0 if it has passed, -1 (infinite) for `nil`,
    /// saturated at `Int32.max` (about 24.8 days).
    @inlinable
    public static func timeoutMilliseconds(until deadline: Instant?, now: Instant) -> Int32 {
        guard let deadline else { return -1 }
        let (remaining, overflow) = deadline.nanoseconds.subtractingReportingOverflow(now.nanoseconds)
        if overflow { return deadline > now ? Int32.max : 0 }
        if remaining <= 0 { return 0 }
        let milliseconds = (remaining - 1) / 1_000_000 + 1
        return milliseconds > Int64(Int32.max) ? Int32.max : Int32(milliseconds)
    }
}

/// The outcome of one ``Poller/wait(until:now:)``: which descriptors are ready to read.
///
/// A descriptor with an error condition (`POLLERR`, `POLLHUP`, `POLLNVAL`) counts as readable,
/// so the caller's `receive` surfaces the error. Iterating yields the ready descriptors in
/// registration order without allocating.
public struct ReadySet: Sequence {
    @usableFromInline let descriptors: [pollfd]

    /// How many descriptors are ready (the value `poll` returned).
    public let count: Int

    /// Readable, or an error to report; `POLLOUT` only for descriptors registered for it.
    @usableFromInline static let readableEvents = Int16(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLNVAL)

    @usableFromInline
    init(descriptors: [pollfd], readyCount: Int) {
        self.descriptors = descriptors
        self.count = readyCount
    }

    /// Whether no descriptor is ready (timeout or interrupted wait).
    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Whether `fd` is ready to read (or has an error to report).
    @inlinable
    public func isReadable(_ fd: Int32) -> Bool {
        for entry in descriptors where entry.fd == fd {
            return entry.revents & ReadySet.readableEvents != 0
        }
        return false
    }

    /// The events `poll` reported for `fd` (0 when it is not ready).
    @inlinable
    public func events(of fd: Int32) -> Int16 {
        for entry in descriptors where entry.fd == fd { return entry.revents }
        return 0
    }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(descriptors: descriptors) }

    /// Yields the ready descriptors.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let descriptors: [pollfd]
        @usableFromInline var index = 0

        @usableFromInline
        init(descriptors: [pollfd]) { self.descriptors = descriptors }

        @inlinable
        public mutating func next() -> Int32? {
            while index < descriptors.count {
                let entry = descriptors[index]
                index += 1
                if entry.revents & ReadySet.readableEvents != 0 { return entry.fd }
            }
            return nil
        }
    }
}
