import Glibc

/// Link Utilization (object 4 resource 6) of one interface: the busier direction's bit rate over
/// the link's nominal speed, in percent, between two readings of its byte counters at least
/// `minimumInterval` apart (`/sys/class/net/<if>/statistics/{rx,tx}_bytes` and `speed` in
/// Mbit/s, Documentation/ABI/testing/sysfs-class-net{,-statistics}). Unknown (nil) for a link
/// without a speed (Wi-Fi, virtio, a link that is down: `speed` fails or reads -1), before the
/// second reading, and after a counter went backwards (wrapped or reset), which restarts it.
public final class NetworkUtilization {
    public let root: SystemRoot
    /// Readings closer together than this keep the last figure (a Read right after a sample
    /// would otherwise measure a few milliseconds).
    public let minimumInterval: Int64
    private let clock: () -> Int64

    private struct Reading {
        let interface: String
        let received: UInt64
        let sent: UInt64
        let nanoseconds: Int64
    }

    private var previous: Reading?
    private var last: Int64?

    /// `clock` gives monotonic nanoseconds (CLOCK_MONOTONIC on a board, a script in tests).
    public init(root: SystemRoot, minimumInterval: Int64 = 1_000_000_000,
                clock: @escaping () -> Int64 = NetworkUtilization.monotonicNanoseconds) {
        self.root = root
        self.minimumInterval = minimumInterval
        self.clock = clock
    }

    /// The utilization of `interface` now, in percent (0–100); nil when unknown.
    public func percent(_ interface: String) -> Int64? {
        let path = NetworkInterfaces.directory + "/" + interface
        guard let speed = root.integer(path + "/speed"), speed > 0,
              let received = root.firstLine(path + "/statistics/rx_bytes").flatMap({ UInt64($0) }),
              let sent = root.firstLine(path + "/statistics/tx_bytes").flatMap({ UInt64($0) }) else {
            previous = nil
            last = nil
            return nil
        }
        let now = Reading(interface: interface, received: received, sent: sent, nanoseconds: clock())
        guard let before = previous, before.interface == interface, now.received >= before.received,
              now.sent >= before.sent, now.nanoseconds >= before.nanoseconds else {
            previous = now
            last = nil
            return nil
        }
        let elapsed = now.nanoseconds - before.nanoseconds
        guard elapsed >= minimumInterval else { return last }
        let bytes = max(now.received - before.received, now.sent - before.sent)
        // bits / (seconds × speed Mbit/s × 10⁶) × 100, in Double: no overflow on 32-bit boards.
        let ratio = Double(bytes) * 8 / (Double(elapsed) / 1e9 * Double(speed) * 1e6)
        let value = Int64(min(100, max(0, (ratio * 100).rounded())))
        previous = now
        last = value
        return value
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
