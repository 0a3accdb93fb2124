#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A gpio-sim line's `pull` attribute, held open; each write is one store (pwrite at offset 0).
final class PullFile {
    private let descriptor: Int32
    let path: String

    init(path: String) throws(SystemError) {
        self.path = path
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(call: "open(\(path))", code: errno) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Writes `pull-up` (true) or `pull-down` (false).
    func set(up: Bool) throws(SystemError) {
        let text = Array((up ? "pull-up" : "pull-down").utf8)
        let written = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        guard written == text.count else { throw SystemError(call: "write(\(path))", code: written < 0 ? errno : EIO) }
    }
}

/// The measuring loop: edge, wait for the notification, pause, and so on `edges` times.
struct EdgeBenchmark {
    let arguments: Arguments
    let sniffer: PacketSniffer
    let pull: PullFile
    /// Edge start (CLOCK_REALTIME before the write) to the kernel's timestamp of the datagram.
    private(set) var onTheWire: [Int64] = []
    /// Edge start (CLOCK_MONOTONIC before the write) to the probe's clock_gettime after recvmsg.
    private(set) var atTheProbe: [Int64] = []
    private(set) var lost = 0
    /// Samples whose packet carried no kernel timestamp (their wire figure is the probe's).
    private(set) var unstamped = 0
    private var lastMessageID: UInt16?

    init(arguments: Arguments, sniffer: PacketSniffer, pull: PullFile) {
        self.arguments = arguments
        self.sniffer = sniffer
        self.pull = pull
    }

    mutating func run() throws(SystemError) {
        // Start from the level opposite to the first edge (pull-up), so that the first write is an
        // edge; whatever notification that causes is drained with the rest.
        try pull.set(up: false)
        pause(milliseconds: max(arguments.intervalMilliseconds, 200))
        for edge in 1...arguments.edges {
            let rising = edge % 2 == 1
            sniffer.drain()
            let startRealtime = Clock.realtime()
            let startMonotonic = Clock.monotonic()
            try pull.set(up: rising)
            let deadline = startMonotonic + Int64(arguments.timeoutMilliseconds) * 1_000_000
            var seen = PacketCounts()
            if let (packet, notification) = try nextNotification(after: startRealtime, until: deadline, counting: &seen) {
                let probe = packet.monotonicAfterReceive - startMonotonic
                let wire = packet.kernelRealtime.map { $0 - startRealtime } ?? probe
                if packet.kernelRealtime == nil { unstamped += 1 }
                onTheWire.append(wire)
                atTheProbe.append(probe)
                lastMessageID = notification.messageID
                if arguments.printsSamples {
                    print("sample \(edge) \(rising ? "rising" : "falling") wire=\(milliseconds(wire)) "
                          + "probe=\(milliseconds(probe)) observe=\(notification.observe) mid=\(notification.messageID)")
                }
            } else {
                lost += 1
                if arguments.printsSamples {
                    print("sample \(edge) \(rising ? "rising" : "falling") lost (outgoing packets \(seen.outgoing), "
                          + "notifications \(seen.notifications), of them sent before the edge \(seen.early), "
                          + "retransmitted \(seen.repeated))")
                }
            }
            pause(milliseconds: arguments.intervalMilliseconds)
        }
    }

    /// The first notification to the server port sent after `start` (kernel time) that is not a
    /// retransmission of the previous one (same Message ID); `counts` says what else went by.
    private func nextNotification(after start: Int64, until deadline: Int64, counting counts: inout PacketCounts)
        throws(SystemError) -> (OutgoingPacket, Notification)? {
        while let packet = try sniffer.nextOutgoing(until: deadline) {
            counts.outgoing += 1
            guard let notification = NotificationFilter.notification(inIPv4: packet.bytes,
                                                                     destinationPort: arguments.port) else { continue }
            counts.notifications += 1
            if notification.messageID == lastMessageID { counts.repeated += 1; continue }
            if let sent = packet.kernelRealtime, sent < start { counts.early += 1; continue }  // left before the edge
            return (packet, notification)
        }
        return nil
    }

    private func pause(milliseconds: Int) {
        guard milliseconds > 0 else { return }
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// The summary: the datagram's kernel timestamp (the figure), then the probe's own wake-up.
    func summaryLines() -> [String] {
        let wireClock = unstamped == 0 ? "kernel-packet-timestamp"
            : "kernel-packet-timestamp(\(unstamped)-without:monotonic-after-recv)"
        func line(_ name: String, _ samples: [Int64], _ clock: String) -> String {
            guard let summary = LatencySummary(samples) else {
                return "\(name) n=0 lost=\(lost) clock=\(clock)"
            }
            return "\(name) n=\(summary.count) median=\(milliseconds(summary.median)) p99=\(milliseconds(summary.p99)) "
                + "max=\(milliseconds(summary.max)) lost=\(lost) clock=\(clock)"
        }
        return [line("edge-to-notification", onTheWire, wireClock),
                line("edge-to-probe-wakeup", atTheProbe, "monotonic-after-recv")]
    }
}

/// What one edge's wait saw, for the report of a lost edge.
struct PacketCounts {
    var outgoing = 0
    var notifications = 0
    var early = 0
    var repeated = 0
}
