#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A program started by a test: a peer (openssl s_server, coap-server, swtpm) that runs while the
/// test talks to it, or a command run to completion (`run`). Children get only stdin, stdout and
/// stderr: an inherited socket (a TCTI, a relay) would keep a peer that serves one connection
/// at a time (swtpm) blocked after its owner closed it.
public final class ChildProcess {
    public let pid: pid_t
    /// Where standard output and error go.
    public let logPath: String
    private var stdinWriter: Int32
    private var stopped = false

    /// Starts `arguments` with stdout and stderr in `logPath` (truncated) and stdin on a pipe
    /// that stays open until `stop()`. Every path must call `stop()`; `deinit` does it too.
    public init(_ arguments: [String], logPath: String) throws(TestFailure) {
        self.logPath = logPath
        var pipeEnds: [Int32] = [0, 0]
        try Self.makePipes(&pipeEnds)
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard logFD >= 0 else {
            close(pipeEnds[0]); close(pipeEnds[1])
            throw TestFailure("cannot open \(logPath)")
        }
        defer { close(logFD); close(pipeEnds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
        posix_spawn_file_actions_adddup2(&actions, logFD, 1)
        posix_spawn_file_actions_adddup2(&actions, logFD, 2)
        do {
            pid = try Self.spawn(arguments, actions: &actions)
        } catch {
            close(pipeEnds[1])
            throw error
        }
        stdinWriter = pipeEnds[1]
    }

    deinit { stop() }

    /// The captured output so far.
    public var output: String { (try? readTextFile(logPath)) ?? "" }

    /// Writes to the process's standard input.
    public func writeInput(_ text: String) {
        let bytes = Array(text.utf8)
        _ = write(stdinWriter, bytes, bytes.count)
    }

    /// Whether the process is still running.
    public var isRunning: Bool {
        guard !stopped else { return false }
        return waitpid(pid, nil, WNOHANG) == 0
    }

    /// Waits until the output contains `text` (or `timeout` passes).
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(5)) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if output.contains(text) { return true }
            usleep(5_000)
        }
        return output.contains(text)
    }

    /// Terminates the process (SIGTERM, then SIGKILL after 1 s) and reaps it.
    public func stop() {
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

    // MARK: - Commands run to completion

    /// What a command run to completion left.
    public struct Result {
        /// The exit status, or 128 + the signal that killed it.
        public let status: Int32
        /// Standard output and error, interleaved as written.
        public let output: [UInt8]
        public var text: String { String(decoding: output, as: UTF8.self) }
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `arguments` to completion with `input` on stdin, stdout and stderr captured together.
    public static func run(_ arguments: [String], input: [UInt8] = []) throws(TestFailure) -> Result {
        var outputPipe: [Int32] = [0, 0]
        var inputPipe: [Int32] = [0, 0]
        try makePipes(&outputPipe)
        do {
            try makePipes(&inputPipe)
        } catch {
            close(outputPipe[0]); close(outputPipe[1])
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
        let pid: pid_t
        do {
            pid = try spawn(arguments, actions: &actions)
        } catch {
            for fd in outputPipe + inputPipe { close(fd) }
            throw error
        }
        close(inputPipe[0])
        close(outputPipe[1])
        input.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(inputPipe[1], buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        close(inputPipe[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output += chunk[0..<count]
        }
        close(outputPipe[0])
        return Result(status: wait(for: pid), output: output)
    }

    /// Starts `arguments` in the background with stdin from /dev/null and stdout and stderr
    /// appended to `logPath`; the caller reaps it with `wait(for:)`.
    public static func startDetached(_ arguments: [String], logPath: String) throws(TestFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        return try spawn(arguments, actions: &actions)
    }

    /// Waits for `pid` and returns its exit status (128 + signal if killed).
    public static func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return 128 + (status & 0x7F)
    }

    // MARK: - Spawning

    /// Pipes created close-on-exec under the spawn lock, so a program started concurrently by
    /// another test (a long-lived swtpm) never inherits an end and keeps a read from ending.
    private static func makePipes(_ ends: inout [Int32]) throws(TestFailure) {
        let created = spawnLock.withLock { () -> Bool in
            guard pipe(&ends) == 0 else { return false }
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return true
        }
        guard created else { throw TestFailure("pipe failed: \(String(cString: strerror(errno)))") }
    }

    private static func spawn(_ arguments: [String], actions: inout posix_spawn_file_actions_t) throws(TestFailure) -> pid_t {
        // glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module hides it.
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let rc = spawnLock.withLock { posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ) }
        guard rc == 0 else { throw TestFailure("cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}

private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
    .map { unsafeBitCast($0, to: AddCloseFrom.self) }

/// Serialises pipe creation with spawning: a pipe is close-on-exec before any child can start.
private let spawnLock = SpawnLock()

private final class SpawnLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
