import Files
import TPM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TestSupport

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
        for _ in 0..<10 {
            let (server, control) = try Self.twoFreePorts()
            let pid = try ChildProcess.startDetached([
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
            _ = ChildProcess.wait(for: pid)
        }
        throw TestFailure("swtpm did not start (see \(state.path)/swtpm.log)")
    }

    deinit { stop() }

    /// Kills swtpm and reaps it. Harmless when called twice.
    func stop() {
        guard pid > 0 else { return }
        // SIGKILL: swtpm may not act on SIGTERM while a client connection is open, and its state
        // is thrown away anyway.
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(for: pid)
        pid = 0
    }

    /// Runs a tpm2-tools command against this swtpm, e.g. `tool("tpm2_getcap", "handles-transient")`.
    func tool(_ name: String, _ arguments: String...) throws -> ChildProcess.Result {
        try ChildProcess.run([name, "-T", tctiString] + arguments)
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
        guard result.succeeded else { throw TestFailure("tpm2_getcap \(capability): \(result.text)") }
        return result.text.split(separator: "\n").map { $0.trimmingPrefix("- ").description }
            .filter { $0.hasPrefix("0x") }
    }

    /// Two free consecutive ports: the swtpm TCTI always talks to the control channel at port + 1.
    private static func twoFreePorts() throws -> (UInt16, UInt16) {
        for _ in 0..<100 {
            let first = try loopbackTCPSocket(port: 0)
            defer { close(first.fd) }
            guard first.port < UInt16.max, let second = try? loopbackTCPSocket(port: first.port + 1) else { continue }
            close(second.fd)
            return (first.port, second.port)
        }
        throw TestFailure("no two consecutive free ports")
    }

    /// True once our swtpm process itself listens on both ports (checked in /proc, not by
    /// connecting: a connection could reach another test's swtpm on a port we lost the race for,
    /// and swtpm serves one connection at a time).
    private static func waitUntilReady(pid: pid_t, port: UInt16) -> Bool {
        for _ in 0..<250 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            if listens(pid: pid, port: port) && listens(pid: pid, port: port + 1) { return true }
            usleep(10_000)
        }
        return false
    }

    private static func listens(pid: pid_t, port: UInt16) -> Bool {
        guard let table = try? FileReader.read("/proc/net/tcp") else { return false }
        // Fixed-width lines: "%4d: %08X:%04X %08X:%04X %02X ...": port at 15..<19, state at 34..<36.
        // Compared as bytes: the table has thousands of TIME_WAIT lines on a busy host.
        let portHex = String(port, radix: 16, uppercase: true)
        let wanted = Array((String(repeating: "0", count: 4 - portHex.count) + portHex).utf8)
        let listen = Array("0A".utf8)
        var inodes: Set<String> = []
        var lineStart = 0
        while lineStart < table.count {
            var lineEnd = lineStart
            while lineEnd < table.count && table[lineEnd] != 0x0A { lineEnd += 1 }
            if lineEnd - lineStart > 40, table[lineStart + 15..<lineStart + 19].elementsEqual(wanted),
               table[lineStart + 34..<lineStart + 36].elementsEqual(listen) {
                let fields = String(decoding: table[lineStart..<lineEnd], as: UTF8.self).split(separator: " ")
                if fields.count > 9 { inodes.insert(String(fields[9])) }
            }
            lineStart = lineEnd + 1
        }
        guard !inodes.isEmpty, let descriptors = try? Directory.list("/proc/\(pid)/fd") else { return false }
        for descriptor in descriptors {
            var buffer = [CChar](repeating: 0, count: 128)
            let count = readlink("/proc/\(pid)/fd/\(descriptor)", &buffer, buffer.count - 1)
            guard count > 0 else { continue }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) { return true }
        }
        return false
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

/// A TCP socket bound to 127.0.0.1:`port` (0: any free port), listening when asked; with its
/// bound port. SO_REUSEADDR, like swtpm: a port whose last connection is in TIME_WAIT counts as
/// free (bind(0) hands out odd ports, and P + 1 is then an even one, the kind outgoing
/// connections use).
func loopbackTCPSocket(port: UInt16, listening: Bool = false) throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    var on: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 && (!listening || listen(fd, 4) == 0)
        }
    }
    guard ok else {
        close(fd)
        throw TestFailure(listening ? "listen on port \(port) failed" : "bind to port \(port) failed")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}
