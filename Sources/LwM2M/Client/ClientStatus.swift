import CoAP

/// Where the client stands, for `lwm2m-agent status`: the bootstrap, each server's
/// registration and its observations, as read from the state machine at one instant. Times
/// are points on the client's monotonic timeline (the outer layer turns them into "in N s").
/// No secret is part of it: accounts appear by URI and Short Server ID only.
public struct ClientStatus: Hashable, Sendable {
    /// Where client-initiated bootstrap stands.
    public enum BootstrapPhase: Hashable, Sendable {
        /// No bootstrap under way or scheduled.
        case idle
        /// Waiting out the Client Hold Off Time.
        case holdOff(until: Instant)
        /// Opening the connection (DNS, socket, DTLS handshake).
        case connecting
        /// Bootstrap-Request sent, not answered yet.
        case requesting
        /// The bootstrap server is configuring the client (until Bootstrap-Finish).
        case inSession
        /// A bootstrap failed; the next attempt is at `until`.
        case backingOff(until: Instant)
    }

    /// The bootstrap account and its progress.
    public struct Bootstrap: Hashable, Sendable {
        /// The bootstrap server's URI.
        public var uri: String
        public var phase: BootstrapPhase
        /// Consecutive failed bootstraps (the back-off grows with them).
        public var failures: Int
    }

    /// One step of a server's registration.
    public enum RegistrationPhase: Hashable, Sendable {
        /// Waiting for servers earlier in Registration Priority Order.
        case queued
        /// Waiting to connect (initial delay, a retry after a failure, a sequence delay).
        case waiting(until: Instant)
        /// Opening the connection.
        case connecting
        /// Register sent, not answered yet.
        case registering
        /// Registered at `location`; the next Update is due at `updateAt`.
        case registered(location: String, updateAt: Instant)
        /// An Update is in flight (still registered at `location`).
        case updating(location: String)
        /// De-register sent.
        case deregistering
        /// Disabled (/1/x/4) until `until`.
        case disabled(until: Instant)
        /// Registration failed for good (the retry sequences are exhausted).
        case failed
    }

    /// One management server.
    public struct Server: Hashable, Sendable {
        public var shortServerID: UInt16
        public var uri: String
        /// The lifetime the client registers with (/1/x/1).
        public var lifetime: Int64
        public var binding: String
        public var phase: RegistrationPhase
        /// Registration attempts in the current sequence and sequences made (retry rules).
        public var attempt: Int
        public var sequence: Int
        /// Queue mode: the client sleeps until its next Update.
        public var asleep: Bool
        /// The paths this server observes ("/3/0/13"; a composite observation is the paths
        /// joined by ",").
        public var observations: [String]
    }

    public var bootstrap: Bootstrap?
    public var servers: [Server]
    /// Whether the factory-bootstrap fallback is in force.
    public var fallbackEngaged: Bool
    /// Whether the client is de-registering to stop.
    public var stopping: Bool
}
