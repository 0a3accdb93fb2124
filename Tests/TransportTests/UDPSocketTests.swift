import CoAP
import Glibc
import Testing
import TestSupport
import Transport

@Suite struct UDPSocketTests {
    @Test func ipv4RoundTrip() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        #expect(server.localAddress.port != 0)
        #expect(server.family == .ipv4)

        #expect(try client.send([1, 2, 3, 4, 5], to: server.localAddress))
        let request = try #require(try receiveDatagram(on: server))
        #expect(request.bytes == [1, 2, 3, 4, 5])
        #expect(request.from == client.localAddress)

        try server.send([9, 8, 7], to: request.from)
        let response = try #require(try receiveDatagram(on: client))
        #expect(response.bytes == [9, 8, 7])
        #expect(response.from == server.localAddress)
    }

    @Test(requires(ipv6LoopbackAvailable, ipv6SkipMessage))
    func ipv6RoundTrip() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv6, port: 0))
        let client = try UDPSocket(bindingTo: .loopback(.ipv6, port: 0))
        #expect(server.localAddress.family == .ipv6)
        #expect(server.localAddress.description == "[::1]:\(server.localAddress.port)")

        try client.send([0x40, 0x01, 0x12, 0x34], to: server.localAddress)
        let request = try #require(try receiveDatagram(on: server))
        #expect(request.bytes == [0x40, 0x01, 0x12, 0x34])
        #expect(request.from == client.localAddress)

        try server.send([0x60, 0x45, 0x12, 0x34], to: request.from)
        let response = try #require(try receiveDatagram(on: client))
        #expect(response.bytes == [0x60, 0x45, 0x12, 0x34])
        #expect(response.from == server.localAddress)
    }

    @Test(requires(ipv6LoopbackAvailable, ipv6SkipMessage))
    func dualStackSocketReportsNormalisedIPv4Peer() throws {
        let server = try UDPSocket(bindingTo: .wildcard(.ipv6, port: 0))
        #expect(server.family == .ipv6)
        #expect(server.localAddress.isWildcard)
        let client = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))

        try client.send([42], to: .loopback(.ipv4, port: server.localAddress.port))
        let request = try #require(try receiveDatagram(on: server))
        #expect(request.bytes == [42])
        #expect(request.from.family == .ipv4)
        #expect(request.from == client.localAddress)
        #expect(request.from.hashValue == client.localAddress.hashValue)
        #expect(request.from.description == "127.0.0.1:\(client.localAddress.port)")

        // Replying to the IPv4 peer from the AF_INET6 socket goes out IPv4-mapped.
        #expect(try server.send([43], to: request.from))
        let response = try #require(try receiveDatagram(on: client))
        #expect(response.bytes == [43])
        #expect(response.from == .loopback(.ipv4, port: server.localAddress.port))
    }

    @Test(requires(ipv6LoopbackAvailable, ipv6SkipMessage))
    func ephemeralIPv6ClientReachesIPv4Server() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv6)
        #expect(client.localAddress.port != 0)
        try client.send([7], to: server.localAddress)
        let request = try #require(try receiveDatagram(on: server))
        #expect(request.bytes == [7])
        #expect(request.from.port == client.localAddress.port)
        #expect(request.from.family == .ipv4)
    }

    @Test func receiveReturnsNilWhenNothingPending() throws {
        let socket = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
        #expect(received == nil)
    }

    @Test func oversizedDatagramIsSkippedNotTruncated() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        try client.send([UInt8](repeating: 0xAA, count: 100), to: server.localAddress)
        try client.send([1, 2, 3], to: server.localAddress)

        let small = try #require(try receiveDatagram(on: server, bufferSize: 10))
        #expect(small.bytes == [1, 2, 3])
        #expect(server.droppedReceiveCount == 1)
    }

    @Test func datagramExactlyFillingBufferIsDelivered() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        try client.send([UInt8](repeating: 5, count: 16), to: server.localAddress)
        let received = try #require(try receiveDatagram(on: server, bufferSize: 16))
        #expect(received.bytes.count == 16)
        #expect(server.droppedReceiveCount == 0)
    }

    @Test func ipv4SocketRejectsIPv6Destination() throws {
        let socket = try UDPSocket(family: .ipv4)
        #expect(throws: TransportError.socket(errno: EAFNOSUPPORT, operation: "sendto")) {
            try socket.send([1], to: .loopback(.ipv6, port: 9))
        }
    }

    @Test func sendToClosedPortDoesNotThrow() throws {
        // Nothing listens on the port of a socket we just closed; an ICMP port-unreachable may
        // come back and must neither fail this send nor the next one.
        let victim = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let deadPort = victim.localAddress.port
        victim.close()
        let client = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        try client.send([1], to: .loopback(.ipv4, port: deadPort))
        try client.send([2], to: .loopback(.ipv4, port: deadPort))
        #expect(try client.send([3], to: server.localAddress))
        let received = try #require(try receiveDatagram(on: server))
        #expect(received.bytes == [3])
    }

    @Test func closedSocketThrowsEBADF() throws {
        let socket = try UDPSocket(family: .ipv4)
        socket.close()
        #expect(socket.fileDescriptor == -1)
        socket.close()  // idempotent
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(throws: TransportError.socket(errno: EBADF, operation: "recvfrom")) {
            _ = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
        }
        #expect(throws: TransportError.socket(errno: EBADF, operation: "sendto")) {
            try socket.send([1], to: .loopback(.ipv4, port: 9))
        }
    }

    @Test func bindingNonLocalAddressFails() throws {
        let documentationAddress = try #require(SocketAddress(ipAddress: "192.0.2.1", port: 0))
        #expect(throws: TransportError.socket(errno: EADDRNOTAVAIL, operation: "bind")) {
            _ = try UDPSocket(bindingTo: documentationAddress)
        }
    }

    @Test func receiveBufferSizeCanBeChanged() throws {
        let socket = try UDPSocket(family: .ipv4)
        try socket.setReceiveBufferSize(4096)
        let small = try socket.receiveBufferSize()
        try socket.setReceiveBufferSize(1 << 20)
        let large = try socket.receiveBufferSize()
        #expect(small >= 4096)
        #expect(large > small)
    }

    @Test func manySequentialRoundTripsAreAllDelivered() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        var mismatches = 0
        for i in 0..<2_000 {
            let payload: [UInt8] = [UInt8(truncatingIfNeeded: i), UInt8(truncatingIfNeeded: i >> 8)]
            try client.send(payload, to: server.localAddress)
            let request = try #require(try receiveDatagram(on: server))
            try server.send(request.bytes, to: request.from)
            let received = try #require(try receiveDatagram(on: client))
            if received.bytes != payload { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(client.droppedSendCount == 0 && server.droppedSendCount == 0)
    }
}
