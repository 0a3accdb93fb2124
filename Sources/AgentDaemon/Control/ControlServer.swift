import AgentCommon
import Glibc
import Time
import Transport

/// Serves the control socket on the daemon's one ``EventLoop`` (no thread): accepts a
/// connection, reads one request line, writes the answer, closes. Every descriptor is
/// non-blocking and every client is bounded — a request line of at most ``requestLimit``
/// bytes, ``defaultTimeout`` from accept to the last byte written, at most ``maximumClients`` at once
/// (more are closed at once) — so a slow or hostile client can neither stall the loop nor hold
/// memory. Only the daemon's own user (or root) is answered (SO_PEERCRED), on top of the
/// socket's 0600.
///
/// Requests: `status` (text) and `status json`; anything else is answered `error: …`.
public final class ControlServer {
    /// The longest request line accepted (bytes, without the newline).
    public static let requestLimit = 256
    /// From accept to the last byte of the answer.
    public static let defaultTimeout: Duration = .seconds(3)
    public static let maximumClients = 8
    /// The answer for a request line (without its newline).
    public typealias Handler = (String) -> String

    private final class Client {
        let fd: Int32
        let deadline: Instant
        var source: EventLoop.SourceID?
        var input: [UInt8] = []
        var output: [UInt8] = []
        var written = 0
        /// Another user (SO_PEERCRED): its request is read, then answered with a refusal.
        var refused = false

        init(fd: Int32, deadline: Instant) {
            self.fd = fd
            self.deadline = deadline
        }
    }

    public let socket: ControlSocket
    private let loop: EventLoop
    private var log: Logger
    private let handler: Handler
    /// From accept to the last byte of the answer.
    public let timeout: Duration
    private var clients: [Int32: Client] = [:]
    private var listening: EventLoop.SourceID?
    /// Accepting paused until then (the process ran out of descriptors).
    private var pausedUntil: Instant?
    private var deadlineSource: EventLoop.SourceID?
    /// Requests answered and clients dropped (timeout, too long, refused), for tests and logs.
    public private(set) var answered = 0
    public private(set) var dropped = 0

    /// Serves `socket` on `loop`, answering with `handler`.
    public init(socket: ControlSocket, loop: EventLoop, log: Logger, timeout: Duration = ControlServer.defaultTimeout,
                handler: @escaping Handler) {
        self.socket = socket
        self.timeout = timeout
        self.loop = loop
        self.log = log
        self.handler = handler
        listen()
        deadlineSource = loop.addDeadline { [unowned self] in nextDeadline }
    }

    /// The earliest client deadline or the end of an accept pause.
    public var nextDeadline: Instant? {
        var earliest = pausedUntil
        for client in clients.values where earliest.map({ client.deadline < $0 }) ?? true { earliest = client.deadline }
        return earliest
    }

    /// Drops clients past their deadline; resumes accepting after a pause.
    public func advance(to now: Instant) {
        for client in clients.values where client.deadline <= now {
            log.debug("control: a client took longer than \(timeout): dropped")
            drop(client)
        }
        if let paused = pausedUntil, paused <= now {
            pausedUntil = nil
            listen()
        }
    }

    /// Stops serving: closes every client and the socket, removes its path.
    public func close() {
        for client in clients.values { finish(client) }
        if let listening { loop.remove(listening) }
        listening = nil
        if let deadlineSource { loop.remove(deadlineSource) }
        deadlineSource = nil
        socket.remove()
    }

    private func listen() {
        guard listening == nil, socket.fileDescriptor >= 0 else { return }
        listening = loop.watch(readable: socket.fileDescriptor) { [unowned self] now in acceptClients(at: now) }
    }

    private func acceptClients(at now: Instant) {
        for _ in 0..<Self.maximumClients {
            let fd: Int32
            do {
                guard let accepted = try socket.accept() else { return }
                fd = accepted
            } catch {
                // Out of descriptors (EMFILE): the socket stays readable; pause rather than spin.
                log.warning("control: \(error); not accepting for 1 s")
                if let listening { loop.remove(listening) }
                listening = nil
                pausedUntil = now + .seconds(1)
                return
            }
            guard clients.count < Self.maximumClients else {
                dropped += 1
                log.debug("control: \(Self.maximumClients) clients already: one more refused")
                Glibc.close(fd)
                continue
            }
            let client = Client(fd: fd, deadline: now + timeout)
            clients[fd] = client
            if let uid = ControlSocket.peerUID(fd), uid != geteuid(), uid != 0 {
                log.warning("control: a process of user \(uid) asked: refused (only user \(geteuid()) and root)")
                client.refused = true  // answered once its request is read (a client still sending gets no EPIPE)
            }
            client.source = loop.watch(fd, events: Int16(POLLIN)) { [unowned self] _, _ in
                if client.output.isEmpty { self.read(client) } else { self.write(client) }
            }
        }
    }

    private func read(_ client: Client) {
        var buffer = [UInt8](repeating: 0, count: Self.requestLimit + 1)
        while client.output.isEmpty {
            let count = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                return drop(client)
            }
            let received = buffer[0..<count]
            if let newline = received.firstIndex(of: 10) {
                client.input += received[..<newline]
            } else {
                client.input += received
                if count > 0 && client.input.count <= Self.requestLimit { continue }
            }
            if client.input.count > Self.requestLimit {
                log.debug("control: a request longer than \(Self.requestLimit) bytes: refused")
                dropped += 1
                return respond(client, "error: request too long\n")
            }
            if count == 0 && client.input.isEmpty { return drop(client) }  // closed without asking
            var line = String(decoding: client.input, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if client.refused {
                dropped += 1
                return respond(client, "error: permission denied\n")
            }
            answered += 1
            return respond(client, handler(line))
        }
    }

    private func respond(_ client: Client, _ answer: String) {
        client.output = Array((answer.isEmpty ? "\n" : answer).utf8)
        client.written = 0
        if let source = client.source {
            loop.setEvents(source, Int16(POLLOUT))
        } else {
            client.source = loop.watch(client.fd, events: Int16(POLLOUT)) { [unowned self] _, _ in self.write(client) }
        }
        write(client)
    }

    private func write(_ client: Client) {
        while client.written < client.output.count {
            let count = client.output.withUnsafeBytes { bytes in
                send(client.fd, bytes.baseAddress! + client.written, bytes.count - client.written,
                     Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }  // POLLOUT brings us back
                return drop(client)  // EPIPE: the client went away
            }
            client.written += count
        }
        finish(client)
    }

    private func drop(_ client: Client) {
        dropped += 1
        finish(client)
    }

    private func finish(_ client: Client) {
        guard clients.removeValue(forKey: client.fd) != nil else { return }
        if let source = client.source { loop.remove(source) }
        Glibc.close(client.fd)
    }
}
