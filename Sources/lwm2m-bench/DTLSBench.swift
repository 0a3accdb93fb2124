import AgentCLI
import CoAP
import Credentials
import DTLS
import Glibc
import Transport

/// `lwm2m-bench dtls [rounds]`: handshake + first CoAP GET over DTLS on loopback against
/// `coap-server-openssl` (libcoap), which it starts and stops itself: PSK (full and resumed
/// handshakes) and ECDHE-ECDSA with mutual authentication (client key behind the Signer
/// abstraction; server pinned, certificate usage 3). Needs `coap-server-openssl` and `openssl`.
extension Bench {
    static func dtls(rounds: Int) {
        var template = Array("/tmp/lwm2m-bench-dtls-XXXXXX".utf8CString)
        guard let directory = mkdtemp(&template).map({ String(cString: $0) }) else { return print("dtls: mkdtemp failed") }
        defer { _ = spawnAndWait(["rm", "-rf", directory]) }

        let pskKey = "bench-psk-key-16"
        var psk = DTLSConfiguration(authentication: .psk(identity: Array("bench".utf8), key: SecretBytes(Array(pskKey.utf8))))
        psk.handshakeTimeoutMin = .milliseconds(100)
        if let server = BenchPeer(["-k", pskKey, "-h", "hint"]) {
            defer { server.stop() }
            measure("DTLS PSK (full handshake) + GET", port: server.dtlsPort, dtls: psk, rounds: rounds, resume: false)
            measure("DTLS PSK (resumed session) + GET", port: server.dtlsPort, dtls: psk, rounds: rounds, resume: true)
        }

        // Self-signed P-256 certificates: the server's is pinned, the client's is the server's CA.
        for name in ["server", "client"] {
            guard spawnAndWait(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).pem", "-days", "2",
                                "-subj", "/CN=\(name == "server" ? "localhost" : "bench-client")"]) == 0,
                  spawnAndWait(["openssl", "x509", "-in", "\(directory)/\(name).pem", "-outform", "DER",
                                "-out", "\(directory)/\(name).der"]) == 0,
                  spawnAndWait(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "\(directory)/\(name).key", "-outform", "DER",
                                "-out", "\(directory)/\(name).key.der"]) == 0
            else { return print("dtls: openssl could not make test certificates") }
        }
        guard let clientCertificate = BenchFile.read("\(directory)/client.der"),
              let serverCertificate = BenchFile.read("\(directory)/server.der"),
              let clientKey = BenchFile.read("\(directory)/client.key.der"),
              let signer = try? SoftwareSigner(privateKey: SecretBytes(clientKey), random: { secureRandomBytes($0) })
        else { return print("dtls: cannot load the test certificates") }
        var certificate = DTLSConfiguration(
            authentication: .certificate(chain: [clientCertificate], key: signer),
            serverTrust: ServerTrust(usage: .domainIssuedCertificate, certificate: serverCertificate))
        certificate.handshakeTimeoutMin = .milliseconds(100)
        if let server = BenchPeer(["-c", "\(directory)/server.pem", "-j", "\(directory)/server.key",
                                   "-C", "\(directory)/client.pem", "-R", "\(directory)/client.pem"]) {
            defer { server.stop() }
            measure("DTLS ECDHE-ECDSA (mutual auth) + GET", port: server.dtlsPort, dtls: certificate, rounds: rounds, resume: false)
        }
    }

    /// Runs `rounds` one-shot GETs (each a new DTLS session) after 3 warm-up rounds; prints the
    /// median and 90th percentile of the handshake and of handshake + GET.
    static func measure(_ label: String, port: UInt16, dtls: DTLSConfiguration, rounds: Int, resume: Bool) {
        var handshakes: [Double] = []
        var totals: [Double] = []
        var resumedCount = 0
        var saved: DTLSSavedSession?
        for round in 0..<(rounds + 3) {
            do {
                let exchange = try SecureOneShotClient.perform(
                    CoAPRequest(.get), uri: "coaps://127.0.0.1:\(port)/", configuration: EndpointConfiguration(), dtls: dtls,
                    timeout: .seconds(5), resuming: resume ? saved : nil)
                if resume { saved = exchange.savedSession ?? saved }
                guard round >= 3 else { continue }
                if exchange.resumed { resumedCount += 1 }
                handshakes.append(toSeconds(exchange.handshakeDuration) * 1000)
                totals.append(toSeconds(exchange.totalDuration) * 1000)
            } catch {
                return print("\(label): failed: \(error)")
            }
        }
        func percentile(_ values: [Double], _ p: Double) -> String {
            let sorted = values.sorted()
            return format(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        print("\(label): handshake median \(percentile(handshakes, 0.5)) ms (p90 \(percentile(handshakes, 0.9))), "
              + "handshake + GET median \(percentile(totals, 0.5)) ms (p90 \(percentile(totals, 0.9))) over \(rounds) sessions"
              + (resume ? ", \(resumedCount) resumed" : ""))
    }
}

/// A `coap-server-openssl` on loopback for the benchmark (CoAP on a free port, DTLS on port + 1).
final class BenchPeer {
    let pid: pid_t
    let dtlsPort: UInt16

    init?(_ arguments: [String]) {
        var chosen: UInt16?
        for _ in 0..<20 {
            guard let socket = try? UDPSocket(bindingTo: .loopback(.ipv4, port: 0)) else { continue }
            let port = socket.localAddress.port
            if port < UInt16.max, (try? UDPSocket(bindingTo: .loopback(.ipv4, port: port + 1))) != nil { chosen = port; break }
        }
        guard let port = chosen, let pid = spawn(["coap-server-openssl", "-A", "127.0.0.1", "-p", String(port)] + arguments) else {
            print("dtls: cannot start coap-server-openssl")
            return nil
        }
        self.pid = pid
        dtlsPort = port + 1
        usleep(200_000)  // bind; the 3 warm-up rounds absorb any remaining start-up time
    }

    func stop() {
        kill(pid, SIGTERM)
        waitpid(pid, nil, 0)
    }
}

/// Starts a process with standard output and error discarded; `nil` when it cannot start.
func spawn(_ arguments: [String]) -> pid_t? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var cArguments = arguments.map { strdup($0) } + [nil]
    defer { for argument in cArguments { free(argument) } }
    var pid: pid_t = 0
    return posix_spawnp(&pid, arguments[0], &actions, nil, &cArguments, environ) == 0 ? pid : nil
}

/// Runs a process to completion; its exit status (-1 if it could not start).
func spawnAndWait(_ arguments: [String]) -> Int32 {
    guard let pid = spawn(arguments) else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -1
}

/// Whole-file reads for the benchmark.
enum BenchFile {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count <= 0 { return count == 0 ? bytes : nil }
            bytes += chunk[0..<count]
        }
    }
}
