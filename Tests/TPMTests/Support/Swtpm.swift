import TPM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A private swtpm (TPM 2.0 simulator) for one test: its own state directory and two free
/// consecutive TCP ports (server, control) found by binding port 0. Killed and removed by `stop()` or when released.
final class Swtpm {
    let port: UInt16
    let controlPort: UInt16
    let stateDirectory: TemporaryDirectory
    private var pid: pid_t

    /// The TCTI reaching this swtpm.
    var tcti: TCTI { .swtpm(host: "127.0.0.1", port: port) }
    /// The same, as tpm2-tools' `-T` argument.
    var tctiString: String { tcti.loaderString }

    /// Starts a fresh swtpm and waits until it accepts connections (retries on a port race).
    init() throws {
        silenceESAPILogging()
        let state = try TemporaryDirectory(prefix: "swtpm")
        for _ in 0..<5 {
            let (server, control) = try Self.twoFreePorts()
            let pid = try Subprocess.start([
                "swtpm", "socket", "--tpm2",
                "--tpmstate", "dir=\(state.path)",
                "--server", "type=tcp,port=\(server),bindaddr=127.0.0.1",
                "--ctrl", "type=tcp,port=\(control),bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear",
            ], logPath: "\(state.path)/swtpm.log")
            if Self.waitUntilReady(pid: pid, port: server) {
                self.port = server
                self.controlPort = control
                self.stateDirectory = state
                self.pid = pid
                return
            }
            kill(pid, SIGKILL)
            _ = Subprocess.wait(for: pid)
        }
        throw FixtureError("swtpm did not start (see \(state.path)/swtpm.log)")
    }

    deinit { stop() }

    /// Kills swtpm and reaps it. Harmless when called twice.
    func stop() {
        guard pid > 0 else { return }
        // SIGKILL: swtpm may not act on SIGTERM while a client connection is open, and its state
        // is thrown away anyway.
        kill(pid, SIGKILL)
        _ = Subprocess.wait(for: pid)
        pid = 0
    }

    /// Runs a tpm2-tools command against this swtpm, e.g. `tool("tpm2_getcap", "handles-transient")`.
    func tool(_ name: String, _ arguments: String...) throws -> Subprocess.Result {
        try Subprocess.run([name, "-T", tctiString] + arguments)
    }

    /// The transient handles currently loaded (`tpm2_getcap handles-transient`).
    func transientHandles() throws -> [String] {
        try handles("handles-transient")
    }

    /// The persistent handles (`tpm2_getcap handles-persistent`).
    func persistentHandles() throws -> [String] {
        try handles("handles-persistent")
    }

    private func handles(_ capability: String) throws -> [String] {
        let result = try tool("tpm2_getcap", capability)
        guard result.succeeded else { throw FixtureError("tpm2_getcap \(capability): \(result.text)") }
        return result.text.split(separator: "\n").map { $0.trimmingPrefix("- ").description }
            .filter { $0.hasPrefix("0x") }
    }

    /// Two free consecutive ports: the swtpm TCTI always talks to the control channel at port + 1.
    private static func twoFreePorts() throws -> (UInt16, UInt16) {
        for _ in 0..<20 {
            let first = try boundSocket(port: 0)
            defer { close(first.fd) }
            guard first.port < UInt16.max, let second = try? boundSocket(port: first.port + 1) else { continue }
            close(second.fd)
            return (first.port, second.port)
        }
        throw FixtureError("no two consecutive free ports")
    }

    private static func boundSocket(port: UInt16) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw FixtureError("bind to port 0 failed")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// True once swtpm accepts a TCP connection on `port` and is still running shortly after
    /// (a swtpm that lost the port race exits at once).
    private static func waitUntilReady(pid: pid_t, port: UInt16) -> Bool {
        for _ in 0..<250 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            if canConnect(port: port) {
                usleep(20_000)
                return waitpid(pid, &status, WNOHANG) == 0
            }
            usleep(20_000)
        }
        return false
    }

    private static func canConnect(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// ESAPI and the TCTI loader print to stderr on expected misses (e.g. the SRK lookup before it
/// exists); silence them for this process and the tools it starts.
func silenceESAPILogging() {
    _ = loggingSilenced
}

/// Set once (a global's initialiser runs exactly once), so concurrent tests never race on setenv.
private let loggingSilenced: Void = {
    setenv("TSS2_LOG", "all+none", 1)
}()
