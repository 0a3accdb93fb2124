import CoAP
import Credentials

/// Where client-initiated bootstrap stands.
struct BootstrapProgress {
    enum Phase: Hashable {
        case idle
        /// Waiting out the Client Hold Off Time (/0/x/11) before connecting.
        case holdOff(until: Instant)
        case connecting(ConnectionID)
        /// Bootstrap-Request sent, not answered yet.
        case requesting(ConnectionID, RequestID)
        /// Taking the bootstrap server's commands; fails at `expires` without another one.
        case session(ConnectionID, expires: Instant)
        /// Waiting to retry after a failure.
        case backingOff(until: Instant)
    }

    var phase = Phase.idle
    /// Consecutive failures, for the back-off: bootstraps that failed, or whose servers then
    /// failed to register. Only a registration outside the factory fallback resets it.
    var failures = 0
    /// The configuration before the session's first command, restored if the session fails.
    var snapshot: ConfigurationSnapshot?
    /// When to purge the bootstrap account (/0/x/12), once registered.
    var accountPurge: Instant?
    /// A Bootstrap-Write waiting for its secrets to be stored.
    var secretWrite: PendingSecretWrite?
    /// Commands of the bootstrap server that arrived while `secretWrite` waits: taken in order
    /// once it is answered (a Finish right behind a Write sees the Write done).
    var heldCommands: [IncomingRequest<ConnectionID>] = []

    var connection: ConnectionID? {
        switch phase {
        case .connecting(let connection), .requesting(let connection, _), .session(let connection, _): connection
        default: nil
        }
    }

    var request: RequestID? {
        if case .requesting(_, let request) = phase { return request }
        return nil
    }

    var deadline: Instant? {
        let phaseDeadline: Instant? = switch phase {
        case .holdOff(let until), .backingOff(let until), .session(_, let until): until
        default: nil
        }
        switch (phaseDeadline, accountPurge) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }

    /// Whether a bootstrap is under way or scheduled.
    var isActive: Bool { phase != .idle }

    /// Whether the bootstrap server is configuring the client right now.
    var inSession: Bool {
        if case .session = phase { return true }
        return false
    }
}
