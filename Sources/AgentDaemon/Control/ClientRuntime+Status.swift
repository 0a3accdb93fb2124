import AgentCommon
import Glibc
import LwM2M
import Time
import Transport

/// What the status tells about the daemon's set-up, beyond the client's state machine: given by
/// the launcher.
public struct StatusContext {
    public var endpoint: String
    public var stateDirectory: String
    public var board: AgentStatus.Board
    /// "tpm" or "development".
    public var credentialStore: String
    public var tcti: String?
    /// The store the runtime uses, watched (its operations' outcomes).
    public var credentials: MonitoredCredentialStore?

    public init(endpoint: String, stateDirectory: String, board: AgentStatus.Board, credentialStore: String,
                tcti: String?, credentials: MonitoredCredentialStore?) {
        self.endpoint = endpoint
        self.stateDirectory = stateDirectory
        self.board = board
        self.credentialStore = credentialStore
        self.tcti = tcti
        self.credentials = credentials
    }
}

extension ClientRuntime {
    /// Serves `lwm2m-agent status` on a UNIX socket at `path` (see ``ControlSocket``,
    /// ``ControlServer``), on this runtime's loop, until the runtime stops. The history the
    /// status shows is kept from now on; the socket is made once the start's first messages are
    /// out (``whenStarted(_:)``: binding it is file-system work the first Register need not wait
    /// for). A socket that cannot be made is logged and the agent runs on without it.
    public func serveControl(at path: String) {
        observe { [unowned self] event in history.record(event, at: MonotonicClock.now()) }
        whenStarted { [unowned self] in
            do {
                let socket = try ControlSocket(path: path)
                control = ControlServer(socket: socket, loop: eventLoop, log: logger) { [unowned self] request in
                    answer(request)
                }
                logger.info("status on \(path) (lwm2m-agent status)")
            } catch {
                logger.error("\(error); lwm2m-agent status cannot reach this daemon")
            }
        }
    }

    /// The answer to one control request line.
    func answer(_ request: String) -> String {
        let words = request.split(separator: " ")
        switch words {
        case ["status"]: return StatusReport.text(agentStatus())
        case ["status", "json"]: return StatusReport.json(agentStatus()) + "\n"
        default:
            let shown = Logger.escaped(String(request.prefix(40)))
            logger.debug("control: unknown request \"\(shown)\"")
            return "error: unknown request \"\(shown)\" (expected \"status\" or \"status json\")\n"
        }
    }

    /// The status now.
    public func agentStatus() -> AgentStatus {
        let now = MonotonicClock.now()
        func seconds(_ duration: Duration) -> Int64 {
            let (whole, atto) = duration.components
            return atto > 0 ? whole + 1 : whole  // "in 3 s" rather than "in 2 s" for 2.4 s
        }
        func until(_ instant: Instant) -> Int64 { max(0, seconds(instant - now)) }
        func since(_ instant: Instant) -> Int64 { max(0, (now - instant).components.seconds) }

        let current = client.status
        let context = statusContext
        var bootstrap: AgentStatus.Bootstrap?
        if let account = current.bootstrap {
            let (state, next): (String, Instant?) = switch account.phase {
            case .idle: ("idle", nil)
            case .holdOff(let until): ("hold-off", until)
            case .connecting: ("connecting", nil)
            case .requesting: ("requesting", nil)
            case .inSession: ("in-session", nil)
            case .backingOff(let until): ("backing-off", until)
            }
            bootstrap = AgentStatus.Bootstrap(
                uri: account.uri, state: state, nextAttemptInSeconds: next.map(until), failures: account.failures,
                lastError: history.bootstrapError?.reason, lastErrorSecondsAgo: history.bootstrapError.map { since($0.at) })
        }
        let servers = current.servers.map { server in
            var entry = AgentStatus.Server(shortServerID: server.shortServerID, uri: server.uri, state: "",
                                           lifetime: server.lifetime, binding: server.binding, attempt: server.attempt,
                                           asleep: server.asleep, observations: server.observations)
            switch server.phase {
            case .queued: entry.state = "queued"
            case .waiting(let at): entry.state = "waiting"; entry.nextAttemptInSeconds = until(at)
            case .connecting: entry.state = "connecting"
            case .registering: entry.state = "registering"
            case .registered(let location, let updateAt):
                entry.state = "registered"
                entry.location = location
                entry.nextUpdateInSeconds = until(updateAt)
            case .updating(let location): entry.state = "updating"; entry.location = location
            case .deregistering: entry.state = "deregistering"
            case .disabled(let at): entry.state = "disabled"; entry.nextAttemptInSeconds = until(at)
            case .failed: entry.state = "failed"
            }
            if let failure = history.serverErrors[server.shortServerID] {
                entry.lastError = failure.reason
                entry.lastErrorSecondsAgo = since(failure.at)
            }
            entry.registeredSecondsAgo = history.registeredAt[server.shortServerID].map(since)
            return entry
        }
        let monitored = context?.credentials
        let credentials = AgentStatus.Credentials(
            store: context?.credentialStore ?? "unknown", tcti: context?.tcti,
            lastOperation: monitored?.last.map { .init(name: $0.operation, error: $0.error, secondsAgo: since($0.at)) },
            succeeded: monitored?.succeeded ?? 0, failed: monitored?.failed ?? 0,
            lastKeyOperation: monitored?.lastKeyOperation.map { .init(name: $0.operation, error: $0.error, secondsAgo: since($0.at)) },
            keyOperationsSucceeded: monitored?.keyOperationsSucceeded ?? 0)
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        return AgentStatus(
            daemon: AgentStatus.Daemon(version: AgentVersion.string, pid: getpid(), endpoint: context?.endpoint ?? "",
                                       uptimeSeconds: since(startedAt), stateDirectory: context?.stateDirectory ?? "",
                                       now: Int64(wall.tv_sec)),
            board: context?.board ?? AgentStatus.Board(name: "unknown", file: nil, reason: ""),
            credentials: credentials, bootstrap: bootstrap, fallbackEngaged: current.fallbackEngaged,
            stopping: current.stopping, servers: servers, firmware: firmware?.status)
    }
}
