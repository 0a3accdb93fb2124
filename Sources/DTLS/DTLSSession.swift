import Time

/// What every DTLS 1.2 client session offers its driver, whichever library runs it: mbedTLS
/// (``DTLSClientSession``: PSK and X.509) or GnuTLS (`DTLSGnuTLS.RawPublicKeySession`: raw
/// public keys, RFC 7250). Sans-IO: the driver feeds datagrams and `Instant`s, sends what
/// ``nextDatagram()`` returns, reads ``nextApplicationData()`` and ``nextEvent()``, and calls
/// ``advance(to:)`` when ``nextDeadline`` passes. Not thread-safe; use from one thread.
public protocol DTLSSession: AnyObject {
    /// Where the session is in its life; `.closed` and `.failed` are final.
    var state: DTLSClientSession.State { get }
    /// The negotiated cipher suite's name (the library's spelling), once connected.
    var cipherSuite: String? { get }
    /// When the session was created (the first ClientHello), on the driver's clock.
    var startedAt: Instant { get }
    /// When the handshake finished, on the driver's clock.
    var connectedAt: Instant? { get }
    /// Whether the handshake resumed an earlier session (abbreviated handshake).
    var resumed: Bool { get }
    /// The session to offer a later session to the same server for resumption (mbedTLS only).
    var savedSession: DTLSSavedSession? { get }
    /// When ``advance(to:)`` must next be called; `nil` when no timer runs.
    var nextDeadline: Instant? { get }

    /// Feeds one datagram received from the server; non-DTLS and unauthentic records are dropped.
    func receive(datagram: [UInt8], now: Instant)
    /// Lets timers fire: handshake retransmissions, or the handshake timeout.
    func advance(to now: Instant)
    /// Encrypts `plaintext` as one record, or queues it while the handshake runs.
    func send(_ plaintext: [UInt8]) throws(DTLSError)
    /// Ends the session with close_notify (when connected); reports `.closed`.
    func close()
    /// The next datagram to send to the server.
    func nextDatagram() -> [UInt8]?
    /// The next decrypted application datagram from the server.
    func nextApplicationData() -> [UInt8]?
    /// The next event (connected, failed, closed).
    func nextEvent() -> DTLSEvent?
}

extension DTLSClientSession: DTLSSession {}
