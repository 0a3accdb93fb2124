#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure of the test fixtures themselves (not of the code under test).
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
    .map { unsafeBitCast($0, to: AddCloseFrom.self) }

/// Serialises pipe creation with spawning: a pipe is close-on-exec before any child can start.
private let spawnLock = SpawnLock()

private final class SpawnLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// Runs a program to completion: stdin from `input`, stdout and stderr captured together.
enum Subprocess {
    struct Result {
        let status: Int32
        let output: [UInt8]
        var text: String { String(decoding: output, as: UTF8.self) }
        var succeeded: Bool { status == 0 }
    }

    static func run(_ arguments: [String], input: [UInt8] = []) throws -> Result {
        var outputPipe: [Int32] = [0, 0]
        var inputPipe: [Int32] = [0, 0]
        // Close-on-exec, so that programs started concurrently by other tests (a long-lived
        // swtpm) do not inherit the write end and keep this read from ever seeing end of file.
        try spawnLock.withLock {
            guard pipe(&outputPipe) == 0, pipe(&inputPipe) == 0 else { throw FixtureError("pipe failed") }
            for fd in outputPipe + inputPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
        let pid = try spawn(arguments, actions: &actions)
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

    /// Starts a program with stdout and stderr appended to `logPath`; returns its pid.
    static func start(_ arguments: [String], logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        return try spawn(arguments, actions: &actions)
    }

    /// Waits for `pid` and returns its exit status (128 + signal if killed).
    static func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return 128 + (status & 0x7F)
    }

    private static func spawn(_ arguments: [String], actions: inout posix_spawn_file_actions_t) throws -> pid_t {
        // Children get stdin/stdout/stderr only: an inherited TCTI or relay socket would keep a
        // swtpm (which serves one connection at a time) blocked after the owner closed it.
        // (glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module hides it.)
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let rc = spawnLock.withLock { posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ) }
        guard rc == 0 else { throw FixtureError("cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}
