import Glibc

/// libcoap's `coap-server-openssl` or `coap-server-gnutls` on loopback: CoAP on `port`, DTLS on
/// `port + 1`, started for one test (`-A 127.0.0.1 -p PORT` then `arguments`), stopped when released.
public final class LibcoapServer {
    public let process: ChildProcess
    public let dtlsPort: UInt16

    public init(flavour: String, arguments: [String], directory: String) throws {
        let port = try freeUDPPort(pair: true)
        dtlsPort = port + 1
        process = try ChildProcess(
            ["coap-server-\(flavour)", "-A", "127.0.0.1", "-p", String(port)] + arguments,
            logPath: "\(directory)/coap-server-\(flavour)-\(port).log")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while !Self.udpPortBound(dtlsPort) {
            guard clock.now < deadline, process.isRunning else {
                let output = process.output
                process.stop()
                throw TestFailure("coap-server-\(flavour) did not start: \(output)")
            }
            usleep(5_000)
        }
    }

    deinit { process.stop() }

    /// Whether some socket is bound to UDP `port` on IPv4 (from /proc/net/udp).
    public static func udpPortBound(_ port: UInt16) -> Bool {
        guard let table = try? readTextFile("/proc/net/udp") else { return false }
        let hex = String(port, radix: 16, uppercase: true)
        let needle = ":" + String(repeating: "0", count: 4 - hex.count) + hex
        // Lines look like "  12: 0100007F:1A2B 00000000:0000 07 ...": the second field is local.
        return table.split(separator: "\n").contains { line in
            line.split(separator: " ").dropFirst().first.map { $0.hasSuffix(needle) } ?? false
        }
    }
}
