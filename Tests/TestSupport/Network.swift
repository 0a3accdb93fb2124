import Transport

/// Randomness for tests: the kernel's generator.
public func testRandom(_ buffer: UnsafeMutableRawBufferPointer) { secureRandomBytes(buffer) }

/// Two consecutive free UDP ports on loopback (libcoap serves DTLS on its port + 1).
public func freeUDPPort(pair: Bool = false) throws -> UInt16 {
    for _ in 0..<50 {
        let socket = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let port = socket.localAddress.port
        guard pair else { return port }
        guard port < UInt16.max, let next = try? UDPSocket(bindingTo: .loopback(.ipv4, port: port + 1)) else { continue }
        _ = next
        return port
    }
    throw TestFailure("no free port pair")
}

