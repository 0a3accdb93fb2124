import CoAP
import Glibc

/// Drives a sans-IO `CoAPEndpoint` over UDP sockets on an ``EventLoop`` (one poll(2) loop on
/// one thread): receives datagrams, feeds the endpoint, hands its events to the application,
/// sends what it produced, and sleeps until the next datagram or deadline.
public final class EndpointRunner {
    /// Called for every endpoint event; the application answers requests through `endpoint`.
    public typealias EventHandler = (EndpointEvent<SocketAddress>, inout CoAPEndpoint<SocketAddress>, Instant) -> Void

    public var endpoint: CoAPEndpoint<SocketAddress>
    public let sockets: [UDPSocket]
    /// The loop the sockets are watched on; more sources (signals, timers) may be added to it.
    public let loop: EventLoop
    private let wakeUp: WakeUpSignal?
    private var woken = false
    /// The handler of the `runOnce` in progress (datagrams are answered as they arrive).
    private var handler: EventHandler?

    /// Datagrams sent, received, and failed sends (for statistics and logs).
    public private(set) var sentCount = 0
    public var receivedCount: Int { loop.receivedCount }
    public private(set) var sendErrors: [TransportError] = []

    /// - Parameters:
    ///   - sockets: one or more bound UDP sockets (e.g. one IPv6 dual-stack socket).
    ///   - wakeUp: an optional signal that interrupts the wait (signal handlers, other threads).
    ///   - seed: seeds message IDs and tokens; defaults to `getrandom(2)`.
    ///   - loop: the event loop to run on (a new one by default).
    public init(
        sockets: [UDPSocket], configuration: EndpointConfiguration = EndpointConfiguration(),
        wakeUp: WakeUpSignal? = nil, seed: UInt64 = secureRandomUInt64(), loop: EventLoop = EventLoop()
    ) {
        precondition(!sockets.isEmpty, "an EndpointRunner needs at least one socket")
        self.sockets = sockets
        self.wakeUp = wakeUp
        self.loop = loop
        endpoint = CoAPEndpoint(configuration: configuration, seed: seed)
        for socket in sockets {
            loop.watch(socket, onDatagram: { [unowned self] bytes, peer, now in
                endpoint.receive(bytes, from: peer, at: now)
                if let handler { flush(handler, at: now) }
            })
        }
        if let wakeUp {
            loop.watch(readable: wakeUp.fileDescriptor) { [unowned self] _ in
                wakeUp.drain()
                woken = true
            }
        }
        loop.addDeadline { [unowned self] in endpoint.nextDeadline }
    }

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
    /// `deadline` (an application timer), another source's deadline or a wake-up signal; then
    /// process what happened. Returns whether the wake-up signal fired.
    @discardableResult
    public func runOnce(until deadline: Instant? = nil, _ handler: EventHandler) throws(TransportError) -> Bool {
        flush(handler, at: MonotonicClock.now())
        woken = false
        let now = try withoutActuallyEscaping(handler) { (escapable) throws(TransportError) -> Instant in
            self.handler = escapable
            defer { self.handler = nil }
            return try loop.runOnce(until: deadline)
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
