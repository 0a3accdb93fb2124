import Glibc
import Synchronization

/// Resolves host names off the event loop: `getaddrinfo` blocks for as long as DNS takes (30 s
/// and more when a name server does not answer), and an event loop blocked in it runs no
/// timers and handles no signals. Each ``submit(_:host:port:)`` runs the resolution on its own
/// short-lived thread; the result is queued and ``fileDescriptor`` becomes readable, so the
/// loop's ``Poller`` wakes up and collects it with ``takeResults()``.
///
/// Only the resolution runs on another thread; everything else stays on the loop's thread.
public final class BackgroundResolver: Sendable {
    /// How a name is turned into addresses (``Resolver/resolve(host:port:family:)`` in
    /// production; tests inject a slow or failing one).
    public typealias Resolve = @Sendable (_ host: String, _ port: UInt16) throws(TransportError) -> [SocketAddress]

    /// One finished resolution.
    public struct Completion: Sendable {
        /// What the caller passed to ``submit(_:host:port:)``.
        public let token: Int
        public let host: String
        public let result: Result<[SocketAddress], TransportError>
    }

    /// Resolutions that may run at once: more are refused (a name server that never answers
    /// must not make the daemon pile up threads).
    public let maximumInFlight: Int

    private let resolve: Resolve
    private let wakeUp: WakeUpSignal
    private let state = Mutex<(inFlight: Int, done: [Completion])>((0, []))

    /// Readable while completions are waiting; register it with the loop's ``Poller``.
    public var fileDescriptor: Int32 { wakeUp.fileDescriptor }

    public init(maximumInFlight: Int = 4,
                resolve: @escaping Resolve = { (host, port) throws(TransportError) in
                    try Resolver.resolve(host: host, port: port)
                }) throws(TransportError) {
        self.maximumInFlight = maximumInFlight
        self.resolve = resolve
        wakeUp = try WakeUpSignal()
    }

    /// Resolutions started and not yet collected.
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// Starts resolving `host`; the result comes back with `token`. Throws (without starting
    /// anything) when ``maximumInFlight`` resolutions are running or no thread can be made.
    public func submit(_ token: Int, host: String, port: UInt16) throws(TransportError) {
        let admitted = state.withLock { state in
            guard state.inFlight < maximumInFlight else { return false }
            state.inFlight += 1
            return true
        }
        guard admitted else {
            throw .resolution(host: host, message: "\(maximumInFlight) name resolutions already in progress")
        }
        let job = Job(token: token, host: host, port: port, resolver: self)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            job.run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Job>.fromOpaque(context).release()
            state.withLock { $0.inFlight -= 1 }
            throw .socket(errno: status, operation: "pthread_create")
        }
        pthread_detach(thread)
    }

    /// The resolutions finished since the last call; drains ``fileDescriptor``.
    public func takeResults() -> [Completion] {
        wakeUp.drain()
        return state.withLock { state in
            defer { state.done = [] }
            return state.done
        }
    }

    fileprivate func finish(_ completion: Completion) {
        state.withLock { state in
            state.inFlight -= 1
            state.done.append(completion)
        }
        wakeUp.signal()
    }

    private final class Job: @unchecked Sendable {
        let token: Int
        let host: String
        let port: UInt16
        let resolver: BackgroundResolver

        init(token: Int, host: String, port: UInt16, resolver: BackgroundResolver) {
            self.token = token
            self.host = host
            self.port = port
            self.resolver = resolver
        }

        func run() {
            let result: Result<[SocketAddress], TransportError>
            do {
                result = .success(try resolver.resolve(host, port))
            } catch {
                result = .failure(error)
            }
            resolver.finish(Completion(token: token, host: host, result: result))
        }
    }
}
