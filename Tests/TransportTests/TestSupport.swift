import CoAP
import Glibc
import Testing
import Transport

/// Whether `::1` can be bound here; IPv6 tests are skipped (with a message) when it cannot,
/// and fail under CI=true (`requires`, Tests/TestSupport).
let ipv6LoopbackAvailable: Bool = (try? UDPSocket(bindingTo: .loopback(.ipv6, port: 0))) != nil
let ipv6SkipMessage: Comment = "IPv6 loopback ::1 cannot be bound on this host"

/// Receives one datagram on `socket`, polling for up to `timeout`; `nil` if none arrived.
func receiveDatagram(
    on socket: UDPSocket, timeout: Duration = .seconds(5), bufferSize: Int = 2048
) throws -> (bytes: [UInt8], from: SocketAddress)? {
    var poller = Poller()
    poller.register(socket.fileDescriptor)
    var buffer = [UInt8](repeating: 0, count: bufferSize)
    let deadline = MonotonicClock.now() + timeout
    while true {
        let received = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
        if let received {
            #expect(received.count <= buffer.count, "receive reported more bytes than the buffer holds")
            return (Array(buffer[..<min(received.count, buffer.count)]), received.from)
        }
        let now = MonotonicClock.now()
        if now >= deadline { return nil }
        _ = try poller.wait(until: deadline, now: now)
    }
}

