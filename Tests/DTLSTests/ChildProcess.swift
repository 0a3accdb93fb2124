import Glibc

/// A process started by a test (a DTLS peer, or an openssl command), with standard output and
/// error captured in a log file and standard input on a pipe that stays open until `stop()`.
/// Every path must call `stop()`; `deinit` does it too.
final class ChildProcess {
    let pid: pid_t
    let logPath: String
    private var stdinWriter: Int32
    private var stopped = false

    init(_ arguments: [String], logPath: String) throws(TestFailure) {
        self.logPath = logPath
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw TestFailure("pipe failed") }
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard logFD >= 0 else { throw TestFailure("cannot open \(logPath)") }
        defer { close(logFD); close(pipeEnds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
        posix_spawn_file_actions_adddup2(&actions, logFD, 1)
        posix_spawn_file_actions_adddup2(&actions, logFD, 2)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, &cArguments, environ)
        guard status == 0 else {
            close(pipeEnds[1])
            throw TestFailure("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        stdinWriter = pipeEnds[1]
        _ = fcntl(stdinWriter, F_SETFD, FD_CLOEXEC)
    }

    deinit { stop() }

    /// The captured output so far.
    var output: String { (try? readTextFile(logPath)) ?? "" }

    /// Writes to the process's standard input.
    func writeInput(_ text: String) {
        let bytes = Array(text.utf8)
        _ = write(stdinWriter, bytes, bytes.count)
    }

    /// Whether the process is still running.
    var isRunning: Bool {
        guard !stopped else { return false }
        return waitpid(pid, nil, WNOHANG) == 0
    }

    /// Waits until the output contains `text` (or the process exits, or `timeout` passes).
    func waitForOutput(_ text: String, timeout: Duration = .seconds(5)) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if output.contains(text) { return true }
            usleep(5_000)
        }
        return output.contains(text)
    }

    /// Terminates the process (SIGTERM, then SIGKILL after 1 s) and reaps it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        close(stdinWriter)
        kill(pid, SIGTERM)
        for _ in 0..<200 {
            if waitpid(pid, nil, WNOHANG) != 0 { return }
            usleep(5_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, nil, 0)
    }

    /// Runs a command to completion and returns its exit status and output.
    static func run(_ arguments: [String], in directory: String) throws(TestFailure) -> (status: Int32, output: String) {
        let process = try ChildProcess(arguments, logPath: directory + "/command.log")
        close(process.stdinWriter)
        var status: Int32 = 0
        waitpid(process.pid, &status, 0)
        process.stopped = true
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -1
        return (exitStatus, process.output)
    }
}

/// A test precondition that failed (a tool missing, a file unreadable).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a whole file.
func readFile(_ path: String) throws(TestFailure) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TestFailure("cannot read \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let count = read(fd, &chunk, chunk.count)
        if count <= 0 { return bytes }
        bytes += chunk[0..<count]
    }
}

func readTextFile(_ path: String) throws(TestFailure) -> String {
    String(decoding: try readFile(path), as: UTF8.self)
}

/// Writes `bytes` to a new file.
func writeFile(_ path: String, _ bytes: [UInt8]) throws(TestFailure) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw TestFailure("cannot write \(path)") }
    defer { close(fd) }
    guard write(fd, bytes, bytes.count) == bytes.count else { throw TestFailure("short write to \(path)") }
}

/// A fresh temporary directory.
func makeTemporaryDirectory() throws(TestFailure) -> String {
    var template = Array("/tmp/dtls-tests-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    return String(cString: path)
}

/// Removes a temporary directory and its files (one level deep).
func removeDirectory(_ path: String) {
    guard let directory = opendir(path) else { return }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(directory)
    rmdir(path)
}

/// Whether an executable is on the PATH.
func toolAvailable(_ name: String) -> Bool {
    let path = String(cString: getenv("PATH") ?? strdup("/usr/bin:/bin"))
    return path.split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
}
