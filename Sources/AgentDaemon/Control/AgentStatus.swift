/// What `lwm2m-agent status` shows, as the running daemon assembles it
/// (`ClientRuntime.agentStatus()`) and `StatusReport` renders it (text or JSON). Durations are
/// whole seconds from the moment the status was taken; wall-clock times are Unix seconds
/// (UTC). Nothing secret is part of it: accounts by URI, Short Server ID and security mode; the
/// credential store by kind and the outcome of its last operation; Package URIs without user
/// information or query.
public struct AgentStatus: Equatable, Sendable {
    /// The daemon itself.
    public struct Daemon: Equatable, Sendable {
        public var version: String
        public var pid: Int32
        public var endpoint: String
        public var uptimeSeconds: Int64
        public var stateDirectory: String
        /// Wall-clock time the status was taken (Unix seconds), the base of every "at".
        public var now: Int64

        public init(version: String, pid: Int32, endpoint: String, uptimeSeconds: Int64, stateDirectory: String, now: Int64) {
            self.version = version
            self.pid = pid
            self.endpoint = endpoint
            self.uptimeSeconds = uptimeSeconds
            self.stateDirectory = stateDirectory
            self.now = now
        }
    }

    /// The board the objects are built from.
    public struct Board: Equatable, Sendable {
        public var name: String
        /// The board file, nil for the compiled-in generic board.
        public var file: String?
        /// Why this board (configuration, device tree, DMI, fallback).
        public var reason: String

        public init(name: String, file: String?, reason: String) {
            self.name = name
            self.file = file
            self.reason = reason
        }
    }

    /// The credential store, as far as the daemon knows without asking the TPM.
    public struct Credentials: Equatable, Sendable {
        /// "tpm" or "development".
        public var store: String
        /// The TPM's TCTI (tpm only).
        public var tcti: String?
        /// The last operation on the store since the start (nil: none yet).
        public var lastOperation: Operation?
        /// Operations that succeeded / failed since the start.
        public var succeeded: Int
        public var failed: Int
        /// The last store or load that reached a secret (a TPM seal or unseal), if any.
        public var lastKeyOperation: Operation?
        /// Stores and loads that succeeded since the start.
        public var keyOperationsSucceeded: Int

        /// One store, load or remove: what, whether it worked, how long ago.
        public struct Operation: Equatable, Sendable {
            public var name: String
            /// Nil when it succeeded.
            public var error: String?
            public var secondsAgo: Int64

            public init(name: String, error: String?, secondsAgo: Int64) {
                self.name = name
                self.error = error
                self.secondsAgo = secondsAgo
            }
        }

        public init(store: String, tcti: String?, lastOperation: Operation?, succeeded: Int, failed: Int,
                    lastKeyOperation: Operation? = nil, keyOperationsSucceeded: Int = 0) {
            self.store = store
            self.tcti = tcti
            self.lastOperation = lastOperation
            self.succeeded = succeeded
            self.failed = failed
            self.lastKeyOperation = lastKeyOperation
            self.keyOperationsSucceeded = keyOperationsSucceeded
        }

        /// Whether the TPM answers: its transport answered at start (the daemon does not run
        /// otherwise; the TPM software stack is loaded by the first seal or unseal) and the last
        /// seal or unseal, if any, did not fail. Nil for the development store.
        public var tpmReachable: Bool? {
            store == "tpm" ? lastKeyOperation?.error == nil : nil
        }

        /// Whether the storage key (SRK) is known to be present: a seal or unseal, which needs it,
        /// succeeded since the start. Nil: not known (none yet; the status never asks the TPM) or no TPM.
        public var storageKeyPresent: Bool? {
            store == "tpm" && keyOperationsSucceeded > 0 ? true : nil
        }
    }

    /// The bootstrap account and where the bootstrap stands.
    public struct Bootstrap: Equatable, Sendable {
        public var uri: String
        /// idle, hold-off, connecting, requesting, in-session, backing-off.
        public var state: String
        /// When the next attempt starts (hold-off, backing-off).
        public var nextAttemptInSeconds: Int64?
        public var failures: Int
        public var lastError: String?
        public var lastErrorSecondsAgo: Int64?

        public init(uri: String, state: String, nextAttemptInSeconds: Int64?, failures: Int, lastError: String?,
                    lastErrorSecondsAgo: Int64?) {
            self.uri = uri
            self.state = state
            self.nextAttemptInSeconds = nextAttemptInSeconds
            self.failures = failures
            self.lastError = lastError
            self.lastErrorSecondsAgo = lastErrorSecondsAgo
        }

        /// Whether a bootstrap is under way (not idle, not waiting to retry after a failure).
        public var inProgress: Bool { ["hold-off", "connecting", "requesting", "in-session"].contains(state) }
    }

    /// One management server account.
    public struct Server: Equatable, Sendable {
        public var shortServerID: UInt16
        public var uri: String
        /// queued, waiting, connecting, registering, registered, updating, deregistering,
        /// disabled, failed.
        public var state: String
        public var location: String?
        public var lifetime: Int64
        public var binding: String
        /// Registered: when the next Update is due.
        public var nextUpdateInSeconds: Int64?
        /// Waiting or disabled: when the next Register attempt starts.
        public var nextAttemptInSeconds: Int64?
        /// The registration attempt in the current sequence (retry rules).
        public var attempt: Int
        public var lastError: String?
        public var lastErrorSecondsAgo: Int64?
        /// Registered since (seconds ago).
        public var registeredSecondsAgo: Int64?
        public var asleep: Bool
        /// The paths the server observes.
        public var observations: [String]

        public init(shortServerID: UInt16, uri: String, state: String, location: String? = nil, lifetime: Int64,
                    binding: String, nextUpdateInSeconds: Int64? = nil, nextAttemptInSeconds: Int64? = nil,
                    attempt: Int = 0, lastError: String? = nil, lastErrorSecondsAgo: Int64? = nil,
                    registeredSecondsAgo: Int64? = nil, asleep: Bool = false, observations: [String] = []) {
            self.shortServerID = shortServerID
            self.uri = uri
            self.state = state
            self.location = location
            self.lifetime = lifetime
            self.binding = binding
            self.nextUpdateInSeconds = nextUpdateInSeconds
            self.nextAttemptInSeconds = nextAttemptInSeconds
            self.attempt = attempt
            self.lastError = lastError
            self.lastErrorSecondsAgo = lastErrorSecondsAgo
            self.registeredSecondsAgo = registeredSecondsAgo
            self.asleep = asleep
            self.observations = observations
        }

        /// Not registered, and the last attempt failed (retrying, or given up).
        public var isFailing: Bool {
            lastError != nil && !["registered", "updating"].contains(state)
        }
    }

    /// The Firmware Update object (5) and the download under way, if any.
    public struct Firmware: Equatable, Sendable {
        /// State (/5/0/3) and its name.
        public var state: Int
        public var stateName: String
        /// Update Result (/5/0/5) and its meaning.
        public var result: Int
        public var resultText: String
        public var packageName: String?
        public var packageVersion: String?
        public var download: Download?

        /// A package arriving (State Downloading).
        public struct Download: Equatable, Sendable {
            /// "pull" (Package URI) or "push" (Block1 writes of Package).
            public var delivery: String
            /// The Package URI without user information and query (pull only).
            public var uri: String?
            public var bytes: Int64
            /// The size the server announced, when it did.
            public var total: Int64?

            public init(delivery: String, uri: String?, bytes: Int64, total: Int64?) {
                self.delivery = delivery
                self.uri = uri
                self.bytes = bytes
                self.total = total
            }

            /// Whole percent, when the total is known (0…100).
            public var percent: Int? {
                guard let total, total > 0 else { return nil }
                return Int(min(100, max(0, bytes) * 100 / total))
            }
        }

        public init(state: Int, stateName: String, result: Int, resultText: String, packageName: String?,
                    packageVersion: String?, download: Download?) {
            self.state = state
            self.stateName = stateName
            self.result = result
            self.resultText = resultText
            self.packageName = packageName
            self.packageVersion = packageVersion
            self.download = download
        }
    }

    public var daemon: Daemon
    public var board: Board
    public var credentials: Credentials
    public var bootstrap: Bootstrap?
    /// Whether the factory-bootstrap fallback is in force (registered with the factory servers
    /// while bootstrap retries).
    public var fallbackEngaged: Bool
    public var stopping: Bool
    public var servers: [Server]
    /// Nil when object 5 is not served (`[firmware] enabled = no`).
    public var firmware: Firmware?

    public init(daemon: Daemon, board: Board, credentials: Credentials, bootstrap: Bootstrap?, fallbackEngaged: Bool,
                stopping: Bool, servers: [Server], firmware: Firmware?) {
        self.daemon = daemon
        self.board = board
        self.credentials = credentials
        self.bootstrap = bootstrap
        self.fallbackEngaged = fallbackEngaged
        self.stopping = stopping
        self.servers = servers
        self.firmware = firmware
    }

    /// One word for the whole agent: stopping, bootstrapping, fallback, registered (every
    /// server), partly-registered, failing (a server's last attempt failed, none registered),
    /// registering, or idle.
    public var summary: String {
        if stopping { return "stopping" }
        if bootstrap?.inProgress == true { return "bootstrapping" }
        if fallbackEngaged { return "fallback" }
        let registered = servers.filter { ["registered", "updating"].contains($0.state) }.count
        if !servers.isEmpty && registered == servers.count { return "registered" }
        if registered > 0 { return "partly-registered" }
        if servers.contains(where: \.isFailing) || bootstrap?.lastError != nil { return "failing" }
        if !servers.isEmpty { return "registering" }
        return "idle"
    }
}
