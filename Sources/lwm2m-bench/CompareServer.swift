import CoAP
import Glibc
import Time
import Transport

/// The minimal LwM2M server of `lwm2m-bench compare`: a UDP socket on 127.0.0.1 in the bench's
/// own process, no Python and no event loop. It answers Register with 2.01 (Location /rd/bench),
/// Update with 2.04 and De-register with 2.02, and is the client of the served-Read figures: one
/// confirmable GET in flight, waiting (poll) for the piggybacked answer.
final class CompareServer {
    let socket: UDPSocket
    var port: UInt16 { socket.localAddress.port }
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
    private var messageID: UInt16 = 0x4000
    private var token: UInt64 = 0x1000_0000
    /// Spin on the non-blocking socket instead of sleeping in `poll` (`--busy-poll`): the served
    /// process then never has to wake the bench up, which takes that cost out of its figure.
    var busyPoll = false

    init() throws(TransportError) {
        socket = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
    }

    deinit {
        buffer.deallocate()
        socket.close()
    }

    /// The next datagram within `timeout` seconds, as raw bytes and sender.
    func receiveRaw(timeout: Double) -> (count: Int, from: SocketAddress)? {
        let deadline = MonotonicClock.now() + .microseconds(Int64(timeout * 1e6))
        while true {
            if let received = try? socket.receive(into: buffer) { return received }
            let left = Bench.toSeconds(deadline - MonotonicClock.now())
            if left <= 0 { return nil }
            if busyPoll { continue }
            var descriptor = pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(max(1, min(left * 1000, 1000))))
        }
    }

    /// The next CoAP message within `timeout` seconds (undecodable datagrams are skipped).
    func receive(timeout: Double) -> (message: CoAPMessage, from: SocketAddress)? {
        let deadline = MonotonicClock.now() + .microseconds(Int64(timeout * 1e6))
        while true {
            // At least one try, however short the timeout.
            let left = max(0, Bench.toSeconds(deadline - MonotonicClock.now()))
            guard let (count, sender) = receiveRaw(timeout: left) else { return nil }
            if let message = try? CoAPMessage(decoding: Array(buffer[0..<count])) { return (message, sender) }
        }
    }

    /// Answers one request from the agent as a registration server would; returns true for a Register.
    @discardableResult
    func answer(_ message: CoAPMessage, from sender: SocketAddress) -> Bool {
        guard message.type == .confirmable || message.type == .nonConfirmable, message.code.isRequest else { return false }
        let isRegister = message.code == .post && message.uriPath == ["rd"]
        let code: CoAPCode
        switch message.code {
        case .post: code = isRegister ? .created : .changed
        case .delete: code = .deleted
        default: code = .notFound
        }
        var response = CoAPMessage(type: message.type == .confirmable ? .acknowledgement : .nonConfirmable,
                                   code: code, messageID: message.messageID, token: message.token)
        if isRegister { response.locationPath = ["rd", "bench"] }
        if let bytes = try? response.encoded() { _ = try? socket.send(bytes, to: sender) }
        return isRegister
    }

    /// Waits up to `timeout` seconds for a Register, answering it (and anything before it).
    /// - Returns: the agent's address, or `nil`.
    func awaitRegister(timeout: Double) -> SocketAddress? {
        let deadline = MonotonicClock.now() + .microseconds(Int64(timeout * 1e6))
        while true {
            let left = Bench.toSeconds(deadline - MonotonicClock.now())
            guard left > 0, let (message, sender) = receive(timeout: left) else { return nil }
            if answer(message, from: sender) { return sender }
        }
    }

    /// Answers whatever the agent sends without waiting (De-register while it shuts down).
    func servePending() {
        while let (message, sender) = receive(timeout: 0.0005) { answer(message, from: sender) }
    }

    /// One confirmable GET `path` (with Accept `accept`) to `peer`, waiting up to `timeout`
    /// seconds for its piggybacked 2.05; requests from the peer meanwhile are answered.
    /// - Returns: the payload size, or `nil` when no 2.05 came.
    func get(_ path: [String], accept: UInt16?, from peer: SocketAddress, timeout: Double = 1) -> Int? {
        messageID &+= 1
        token &+= 1
        var request = CoAPMessage(type: .confirmable, code: .get, messageID: messageID, token: Token(value: token, count: 4))
        request.uriPath = path
        request.accept = accept
        guard let bytes = try? request.encoded(), (try? socket.send(bytes, to: peer)) != nil else { return nil }
        let deadline = MonotonicClock.now() + .microseconds(Int64(timeout * 1e6))
        while true {
            let left = Bench.toSeconds(deadline - MonotonicClock.now())
            guard left > 0, let (message, sender) = receive(timeout: left) else { return nil }
            if message.type == .acknowledgement, message.messageID == messageID {
                return message.code == .content ? message.payload.count : nil
            }
            answer(message, from: sender)
        }
    }
}
