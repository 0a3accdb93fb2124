import CoAP
import Glibc

/// Drives a sans-IO `CoAPEndpoint` over UDP sockets with one poll(2) loop on one thread:
/// receives datagrams, feeds the endpoint, hands its events to the application, sends what it
/// produced, and sleeps until the next datagram or deadline.
public final class EndpointRunner {
    /// Called for every endpoint event; the application answers requests through `endpoint`.
    public typealias EventHandler = (EndpointEvent<SocketAddress>, inout CoAPEndpoint<SocketAddress>, Instant) -> Void

    public var endpoint: CoAPEndpoint<SocketAddress>
    public let sockets: [UDPSocket]
    private var poller = Poller()
    private let wakeUp: WakeUpSignal?
    private let buffer: UnsafeMutableRawBufferPointer

    /// Datagrams sent, received, and failed sends (for statistics and logs).
    public private(set) var sentCount = 0
    public private(set) var receivedCount = 0
    public private(set) var sendErrors: [TransportError] = []

    /// - Parameters:
    ///   - sockets: one or more bound UDP sockets (e.g. one IPv6 dual-stack socket).
    ///   - wakeUp: an optional signal that interrupts the wait (signal handlers, other threads).
    ///   - seed: seeds message IDs and tokens; defaults to `getrandom(2)`.
    public init(
        sockets: [UDPSocket], configuration: EndpointConfiguration = EndpointConfiguration(),
        wakeUp: WakeUpSignal? = nil, seed: UInt64 = secureRandomUInt64()
    ) {
        precondition(!sockets.isEmpty, "an EndpointRunner needs at least one socket")
        self.sockets = sockets
        self.wakeUp = wakeUp
        endpoint = CoAPEndpoint(configuration: configuration, seed: seed)
        buffer = .allocate(byteCount: 65_536, alignment: 16)
        for socket in sockets { poller.register(socket.fileDescriptor) }
        if let wakeUp { poller.register(wakeUp.fileDescriptor) }
    }

    deinit { buffer.deallocate() }

    /// The socket used to reach `peer`: the first of its family, or a dual-stack IPv6 socket.
    public func socket(for peer: SocketAddress) -> UDPSocket {
        sockets.first { $0.family == peer.family } ?? sockets.first { $0.family == .ipv6 } ?? sockets[0]
    }

    /// Delivers pending events to `handler` and sends pending datagrams until both are empty.
    public func flush(_ handler: EventHandler, at now: Instant) {
        while true {
            // drainDatagrams rather than a `while let nextDatagram()` loop: Swift 6.3's optimizer
            // left that loop's exclusivity access open across iterations (a false "simultaneous
            // access" trap in release builds).
            endpoint.drainDatagrams { datagram in
                do throws(TransportError) {
                    try socket(for: datagram.peer).send(datagram.bytes, to: datagram.peer)
                    sentCount &+= 1
                } catch {
                    if sendErrors.count < 16 { sendErrors.append(error) }
                }
            }
            guard let event = endpoint.nextEvent() else { return }
            handler(event, &endpoint, now)
        }
    }

    /// One loop iteration: flush, wait until a datagram arrives, the endpoint's next deadline,
    /// `deadline` (an application timer) or a wake-up signal; then process what happened.
    /// Returns whether the wake-up signal fired.
    @discardableResult
    public func runOnce(until deadline: Instant? = nil, _ handler: EventHandler) throws(TransportError) -> Bool {
        var now = MonotonicClock.now()
        flush(handler, at: now)
        var wakeAt = endpoint.nextDeadline
        if let deadline, wakeAt.map({ deadline < $0 }) ?? true { wakeAt = deadline }
        let ready = try poller.wait(until: wakeAt, now: now)
        now = MonotonicClock.now()
        var woken = false
        if !ready.isEmpty {
            if let wakeUp, ready.isReadable(wakeUp.fileDescriptor) {
                wakeUp.drain()
                woken = true
            }
            for socket in sockets where ready.isReadable(socket.fileDescriptor) {
                // One datagram per socket and wake-up: a second recvfrom would usually just return
                // EAGAIN (a wasted system call per request), and under a flood poll(2) returns at
                // once anyway, so timers and other sockets stay served.
                if let (count, peer) = try socket.receive(into: buffer) {
                    receivedCount &+= 1
                    endpoint.receive(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), from: peer, at: now)
                    flush(handler, at: now)
                }
            }
        }
        endpoint.advance(to: now)
        flush(handler, at: now)
        return woken
    }

    /// Runs until `shouldStop` returns true (checked after every iteration).
    public func run(
        until shouldStop: () -> Bool, timer: () -> Instant? = { nil }, _ handler: EventHandler
    ) throws(TransportError) {
        while !shouldStop() {
            try runOnce(until: timer(), handler)
        }
    }
}
