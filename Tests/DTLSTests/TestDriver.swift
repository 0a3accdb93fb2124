import CoAP
import DTLS
import Glibc
import Transport
import TestSupport

/// Drives one DTLS session (mbedTLS or GnuTLS) over a real UDP socket and the monotonic clock.
final class SocketDriver {
    let socket: UDPSocket
    let server: SocketAddress
    private var poller = Poller()
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private(set) var events: [DTLSEvent] = []
    /// The largest datagram sent so far.
    private(set) var largestDatagram = 0
    /// ClientHello messages sent (2 when the server asked for a cookie with HelloVerifyRequest).
    private(set) var clientHelloCount = 0

    init(serverPort: UInt16) throws {
        socket = try UDPSocket(family: .ipv4)
        server = .loopback(.ipv4, port: serverPort)
        poller.register(socket.fileDescriptor)
    }

    /// Sends what the session has queued.
    func flush(_ session: any DTLSSession) throws {
        while let datagram = session.nextDatagram() {
            largestDatagram = max(largestDatagram, datagram.count)
            // An epoch-0 handshake record (13-byte header) whose message is a ClientHello (1).
            if datagram.count > 13, datagram[0] == 22, datagram[3] == 0, datagram[4] == 0, datagram[13] == 1 { clientHelloCount += 1 }
            try socket.send(datagram, to: server)
        }
        while let event = session.nextEvent() { events.append(event) }
    }

    /// Runs the session until `done` returns true or `timeout` passes.
    func run(_ session: any DTLSSession, timeout: Duration, until done: () -> Bool) throws {
        let deadline = MonotonicClock.now() + timeout
        try flush(session)
        while !done() {
            var now = MonotonicClock.now()
            guard now < deadline else { return }
            var wake = deadline
            if let next = session.nextDeadline, next < wake { wake = next }
            let ready = try poller.wait(until: wake, now: now)
            now = MonotonicClock.now()
            if !ready.isEmpty, let (count, _) = try buffer.withUnsafeMutableBytes({ try socket.receive(into: $0) }) {
                session.receive(datagram: Array(buffer[0..<count]), now: now)
            }
            session.advance(to: now)
            try flush(session)
        }
    }

    /// Runs the handshake; returns the first connected or failed event (nil on test timeout).
    func handshake(_ session: any DTLSSession, timeout: Duration = .seconds(10)) throws -> DTLSEvent? {
        try run(session, timeout: timeout) { events.contains { if case .connected = $0 { true } else if case .failed = $0 { true } else { false } } }
        return events.first { if case .closed = $0 { false } else { true } }
    }

    /// Sends `plaintext` and waits for one application datagram back.
    func exchange(_ session: any DTLSSession, _ plaintext: [UInt8], timeout: Duration = .seconds(5)) throws -> [UInt8]? {
        try session.send(plaintext)
        var reply: [UInt8]?
        try run(session, timeout: timeout) {
            if reply == nil { reply = session.nextApplicationData() }
            return reply != nil
        }
        return reply
    }
}

extension DTLSEvent {
    /// The error of a `.failed` event.
    var failure: DTLSError? { if case .failed(let error) = self { error } else { nil } }
    var isConnected: Bool { if case .connected = self { true } else { false } }
}
