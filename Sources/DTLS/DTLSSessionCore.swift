import Time

/// The part of a sans-IO DTLS client session that does not depend on the library running it
/// (mbedTLS ``DTLSClientSession``, GnuTLS `RawPublicKeySession`): the state, the datagram,
/// application-data and event queues, and the rules for sending, connecting, closing and failing.
///
/// Each backend holds one as a stored property and drives its library around it: the library's
/// I/O callbacks read ``incoming`` and append to ``outgoing``; the backend appends to
/// ``received`` what the library decrypts. The queues are plain arrays mutated in place (no
/// copies, no extra allocation on the record path). Rules:
/// - ``admit(_:)``: while handshaking a plaintext is queued (up to `maxQueued`), once connected the
///   backend writes it, after the end it is refused with ``DTLSError/notConnected``.
/// - ``connect(at:resumed:cipherSuite:)`` reports `.connected` and hands back the queued
///   plaintexts for the backend to write, in order.
/// - ``close()``, ``peerClosed()`` and ``fail(_:)`` act only on a live session and report
///   `.closed` / `.failed` once; `.closed` and `.failed` are final.
public struct DTLSSessionCore {
    /// Where the session is in its life; `.closed` and `.failed` are final.
    public private(set) var state: DTLSClientSession.State = .handshaking
    /// The negotiated cipher suite's name (the library's spelling), once connected.
    public private(set) var cipherSuite: String?
    /// When the handshake finished, on the driver's clock.
    public private(set) var connectedAt: Instant?
    /// How many plaintexts ``admit(_:)`` queues while the handshake runs.
    public let maxQueued: Int
    /// The driver's clock as last fed (it never goes back); the library's timers read it.
    public private(set) var now: Instant

    /// Datagrams from the server not yet consumed by the library (the library's read callback).
    public var incoming: [[UInt8]] = []
    /// Datagrams the library wrote, for ``nextDatagram()``.
    public var outgoing: [[UInt8]] = []
    /// Decrypted application data, for ``nextApplicationData()``.
    public var received: [[UInt8]] = []
    /// Events, for ``nextEvent()``.
    private var events: [DTLSEvent] = []
    /// Plaintexts sent during the handshake, written on connect.
    private var queuedPlaintext: [[UInt8]] = []

    /// A session in `.handshaking` at `now` that queues up to `maxQueued` plaintexts before it connects.
    public init(maxQueued: Int, now: Instant) {
        self.maxQueued = maxQueued
        self.now = now
    }

    /// Whether the session is handshaking or connected (neither closed nor failed).
    public var isLive: Bool { state == .handshaking || state == .connected }

    /// Moves the clock to `now` (an earlier `now` is ignored).
    public mutating func advanceClock(to now: Instant) {
        self.now = max(self.now, now)
    }

    /// Takes one datagram from the server into ``incoming`` for the library to read, after moving
    /// the clock to `now`. The backend then drives its library and empties ``incoming`` (what the
    /// library did not consume is stale).
    /// - Returns: `false` (nothing queued) for an empty datagram or a session that has ended.
    public mutating func accept(_ datagram: [UInt8], now: Instant) -> Bool {
        advanceClock(to: now)
        guard !datagram.isEmpty, isLive else { return false }
        incoming.append(datagram)
        return true
    }

    /// What ``DTLSSession/send(_:)`` does with `plaintext` in this state.
    /// - Returns: `true` when connected: the backend must write it now; `false` when it was queued.
    /// - Throws: `.notConnected` after the session ended or when the queue is full.
    public mutating func admit(_ plaintext: [UInt8]) throws(DTLSError) -> Bool {
        switch state {
        case .handshaking:
            guard queuedPlaintext.count < maxQueued else { throw .notConnected }
            queuedPlaintext.append(plaintext)
            return false
        case .connected:
            return true
        case .closed, .failed:
            throw .notConnected
        }
    }

    /// The handshake finished: `.connected`, reported with `resumed` and `cipherSuite`.
    /// - Returns: the plaintexts queued during the handshake, for the backend to write in order
    ///   (a write that fails is reported with ``reportFailure(_:)``).
    public mutating func connect(at now: Instant, resumed: Bool, cipherSuite: String) -> [[UInt8]] {
        state = .connected
        connectedAt = now
        self.cipherSuite = cipherSuite
        events.append(.connected(resumed: resumed, cipherSuite: cipherSuite))
        let pending = queuedPlaintext
        queuedPlaintext.removeAll()
        return pending
    }

    /// Our close: `.closed` reported, the queue dropped.
    /// - Returns: `false` (and nothing done) when the session had already ended.
    public mutating func close() -> Bool {
        guard isLive else { return false }
        state = .closed
        queuedPlaintext.removeAll()
        events.append(.closed)
        return true
    }

    /// The server's close_notify: `.closed` reported.
    public mutating func peerClosed() {
        state = .closed
        events.append(.closed)
    }

    /// The session failed with `error`: `.failed` reported, the queue dropped.
    /// - Returns: `false` (and nothing done) when the session had already ended.
    @discardableResult
    public mutating func fail(_ error: DTLSError) -> Bool {
        guard isLive else { return false }
        state = .failed
        queuedPlaintext.removeAll()
        events.append(.failed(error))
        return true
    }

    /// Reports `error` as an event without changing the state (a queued write that failed on connect).
    public mutating func reportFailure(_ error: DTLSError) {
        events.append(.failed(error))
    }

    /// The next datagram to send to the server.
    public mutating func nextDatagram() -> [UInt8]? { outgoing.isEmpty ? nil : outgoing.removeFirst() }
    /// The next decrypted application datagram from the server.
    public mutating func nextApplicationData() -> [UInt8]? { received.isEmpty ? nil : received.removeFirst() }
    /// The next event.
    public mutating func nextEvent() -> DTLSEvent? { events.isEmpty ? nil : events.removeFirst() }
}
