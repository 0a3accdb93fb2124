/// CoAP transmission parameters (RFC 7252 §4.8) and the values derived from them (§4.8.2).
///
/// Defaults are the RFC's. Cellular (NB-IoT, LTE-M) deployments typically raise `ackTimeout` to
/// 10–15 s; every derived lifetime follows.
public struct TransmissionParameters: Hashable, Sendable {
    public var ackTimeout: Duration = .seconds(2)
    /// ACK_RANDOM_FACTOR, ≥ 1.0: the initial timeout is drawn from [ackTimeout, ackTimeout × factor].
    public var ackRandomFactor: Double = 1.5
    public var maxRetransmit: Int = 4
    /// NSTART: outstanding confirmable requests per peer; further requests wait their turn.
    public var nstart: Int = 1
    public var maxLatency: Duration = .seconds(100)
    /// PROCESSING_DELAY (RFC default: ACK_TIMEOUT).
    public var processingDelay: Duration? = nil

    public init() {}

    public init(ackTimeout: Duration, ackRandomFactor: Double = 1.5, maxRetransmit: Int = 4, nstart: Int = 1) {
        self.ackTimeout = ackTimeout
        self.ackRandomFactor = ackRandomFactor
        self.maxRetransmit = maxRetransmit
        self.nstart = nstart
    }

    private var retransmissionSpan: Int { (1 << maxRetransmit) - 1 }

    /// MAX_TRANSMIT_SPAN = ACK_TIMEOUT × (2^MAX_RETRANSMIT − 1) × ACK_RANDOM_FACTOR (45 s by default).
    public var maxTransmitSpan: Duration { ackTimeout * (Double(retransmissionSpan) * ackRandomFactor) }

    /// MAX_TRANSMIT_WAIT = ACK_TIMEOUT × (2^(MAX_RETRANSMIT+1) − 1) × ACK_RANDOM_FACTOR (93 s by default).
    public var maxTransmitWait: Duration {
        ackTimeout * (Double((1 << (maxRetransmit + 1)) - 1) * ackRandomFactor)
    }

    /// EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 × MAX_LATENCY + PROCESSING_DELAY (247 s by default).
    public var exchangeLifetime: Duration { maxTransmitSpan + maxLatency * 2 + (processingDelay ?? ackTimeout) }

    /// NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY (145 s by default).
    public var nonLifetime: Duration { maxTransmitSpan + maxLatency }
}
