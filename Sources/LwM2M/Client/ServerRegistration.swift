import CoAP

/// Where the registration with one management server stands.
struct ServerRegistration {
    enum Phase: Hashable {
        /// Waiting for earlier servers in Registration Priority Order.
        case queued
        /// Waiting to connect: initial delay, retry timer or sequence delay.
        case waiting(until: Instant)
        case connecting
        case registering
        case registered(updateAt: Instant)
        case updating
        case deregistering
        case disabled(until: Instant)
        /// Registration failed for good (sequences exhausted).
        case failed
    }

    var account: ServerAccount
    var phase = Phase.queued
    var connection: ConnectionID?
    var request: RequestID?
    /// Attempts made in the current sequence, and sequences made.
    var attempt = 0
    var sequence = 0
    var location: [String] = []
    /// The object links sent with the last Register or Update.
    var sentLinks: [UInt8] = []
    /// Lifetime and binding the server knows.
    var sentLifetime: Int64 = 0
    var sentBinding = ""
    var registeredOnce = false
    /// An Update was asked for while another was in flight.
    var updatePending = false
    /// Disable (/1/x/4) asked for this long after the De-register.
    var disableFor: Duration?
    /// Queue mode: when the client goes to sleep, and whether it sleeps (notifications are
    /// stored until the next Update).
    var sleepsAt: Instant?
    var asleep = false

    var isRegistered: Bool {
        switch phase {
        case .registered, .updating: true
        default: false
        }
    }

    var isDeregistering: Bool { phase == .deregistering }

    /// Registered, or on the way to it.
    var isActiveOrPending: Bool {
        switch phase {
        case .failed, .disabled: false
        default: true
        }
    }

    /// Registered, failed for good or disabled: later servers in the order may go.
    var isSettled: Bool {
        switch phase {
        case .registered, .updating, .failed, .disabled: true
        default: false
        }
    }

    var deadline: Instant? {
        let phaseDeadline: Instant? = switch phase {
        case .waiting(let until), .registered(let until), .disabled(let until): until
        default: nil
        }
        guard let sleepsAt, !asleep, isRegistered else { return phaseDeadline }
        return phaseDeadline.map { min($0, sleepsAt) } ?? sleepsAt
    }
}
