import CoAP

/// The registration with one management server. Its `state` is one case per step of the
/// Registration interface, each carrying what that step needs and nothing else: a connection
/// only while one is open, a request only while one is in flight, a location only once the
/// server gave one. (The shape follows swift-nio-ssh's connection state machine: illegal
/// combinations, such as "registered with a Register in flight", cannot be written down.)
struct ServerRegistration {
    /// Registration attempts made: in the current sequence (Communication Retry Count,
    /// /1/x/17) and sequences (Sequence Retry Count, /1/x/20).
    struct Retries: Hashable {
        var attempt = 0
        var sequence = 0
    }

    /// What the server was told with the last Register or Update: an Update carries only what
    /// changed since.
    struct Announced: Hashable {
        /// The object links.
        var links: [UInt8]
        var lifetime: Int64
        var binding: String
    }

    /// Waiting to connect: initial delay, retry timer or sequence delay.
    struct Waiting {
        var until: Instant
        var retries: Retries
        /// An Update was asked for before the registration was up.
        var updatePending: Bool
    }

    /// Opening the connection (DNS, socket, DTLS handshake).
    struct Connecting {
        var connection: ConnectionID
        var retries: Retries
        var updatePending: Bool
    }

    /// Register sent, not answered yet.
    struct Registering {
        var connection: ConnectionID
        var request: RequestID
        var retries: Retries
        var announced: Announced
        var updatePending: Bool
    }

    /// Registered at `location`; the next Update is due at `updateAt`.
    struct Registered {
        var connection: ConnectionID
        var location: [String]
        var announced: Announced
        var updateAt: Instant
    }

    /// Update sent, not answered yet.
    struct Updating {
        var connection: ConnectionID
        var request: RequestID
        var location: [String]
        /// What the Update in flight announces.
        var announced: Announced
        /// Another Update was asked for while this one is in flight.
        var updatePending: Bool
    }

    /// De-register sent, not answered yet.
    struct Deregistering {
        var connection: ConnectionID
        var request: RequestID
        /// Disable (/1/x/4): stay away this long once the De-register is done.
        var disableFor: Duration?
    }

    /// Disabled (/1/x/4) until `until`, then registering again.
    struct Disabled {
        var until: Instant
        var retries: Retries
    }

    /// Registration failed for good (sequences exhausted).
    struct Failed {
        var retries: Retries
    }

    enum State {
        /// Waiting for earlier servers in Registration Priority Order.
        case queued
        case waiting(Waiting)
        case connecting(Connecting)
        case registering(Registering)
        case registered(Registered)
        case updating(Updating)
        case deregistering(Deregistering)
        case disabled(Disabled)
        case failed(Failed)
    }

    /// Queue mode: awake (reachable) until `until`, or asleep (notifications are stored until
    /// the next Update). Independent of the registration state: a client asleep stays asleep
    /// through the Update that wakes it until the server answers.
    enum Reachability: Equatable {
        case awake(until: Instant?)
        case asleep
    }

    var account: ServerAccount
    var state = State.queued
    /// Whether a Register of this account ever succeeded (no Initial Registration Delay again).
    var registeredOnce = false
    var reachability = Reachability.awake(until: nil)

    init(account: ServerAccount) {
        self.account = account
    }

    /// The connection open or being opened, if any.
    var connection: ConnectionID? {
        switch state {
        case .connecting(let step): step.connection
        case .registering(let step): step.connection
        case .registered(let step): step.connection
        case .updating(let step): step.connection
        case .deregistering(let step): step.connection
        case .queued, .waiting, .disabled, .failed: nil
        }
    }

    /// The Register, Update or De-register in flight, if any.
    var request: RequestID? {
        switch state {
        case .registering(let step): step.request
        case .updating(let step): step.request
        case .deregistering(let step): step.request
        default: nil
        }
    }

    /// The registration location, while registered.
    var location: [String]? {
        switch state {
        case .registered(let step): step.location
        case .updating(let step): step.location
        default: nil
        }
    }

    /// What the server knows (or is being told by the Update in flight), while registered.
    var announced: Announced? {
        switch state {
        case .registered(let step): step.announced
        case .updating(let step): step.announced
        default: nil
        }
    }

    /// The attempts counted towards the retry rules (none once registered).
    var retries: Retries {
        switch state {
        case .waiting(let step): step.retries
        case .connecting(let step): step.retries
        case .registering(let step): step.retries
        case .disabled(let step): step.retries
        case .failed(let step): step.retries
        case .queued, .registered, .updating, .deregistering: Retries()
        }
    }

    /// Whether an Update is to follow as soon as the registration is up.
    var updatePending: Bool {
        switch state {
        case .waiting(let step): step.updatePending
        case .connecting(let step): step.updatePending
        case .registering(let step): step.updatePending
        case .updating(let step): step.updatePending
        default: false
        }
    }

    /// Remembers that an Update is to follow; false when the state has no use for one (queued,
    /// registered: update at once, de-registering, disabled, failed).
    mutating func markUpdatePending() -> Bool {
        switch state {
        case .waiting(var step): step.updatePending = true; state = .waiting(step)
        case .connecting(var step): step.updatePending = true; state = .connecting(step)
        case .registering(var step): step.updatePending = true; state = .registering(step)
        case .updating(var step): step.updatePending = true; state = .updating(step)
        default: return false
        }
        return true
    }

    var isRegistered: Bool {
        switch state {
        case .registered, .updating: true
        default: false
        }
    }

    /// A Register sent and not answered yet.
    var isRegistering: Bool {
        if case .registering = state { return true }
        return false
    }

    var isDeregistering: Bool {
        if case .deregistering = state { return true }
        return false
    }

    var isQueued: Bool {
        if case .queued = state { return true }
        return false
    }

    var hasFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    var isAsleep: Bool { reachability == .asleep }

    /// Registered, or on the way to it.
    var isActiveOrPending: Bool {
        switch state {
        case .failed, .disabled: false
        default: true
        }
    }

    /// Registered, failed for good or disabled: later servers in the order may go.
    var isSettled: Bool {
        switch state {
        case .registered, .updating, .failed, .disabled: true
        default: false
        }
    }

    /// When the registration's timer fires: connect, Update, fall asleep or end the disable.
    var deadline: Instant? {
        let stateDeadline: Instant? = switch state {
        case .waiting(let step): step.until
        case .registered(let step): step.updateAt
        case .disabled(let step): step.until
        default: nil
        }
        guard case .awake(let sleepsAt?) = reachability, isRegistered else { return stateDeadline }
        return stateDeadline.map { min($0, sleepsAt) } ?? sleepsAt
    }
}
