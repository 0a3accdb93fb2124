#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Time

/// Runs an installer program to completion with posix_spawn (no shell: the arguments reach the
/// program as they are), its standard output and error captured (the last `outputLimit` bytes),
/// stdin from /dev/null, no other inherited descriptor, in a process group of its own (the
/// program is its leader), and a deadline after which the group is terminated (SIGTERM, then
/// SIGKILL after 5 s). `environment` entries ("NAME=value") are added to the daemon's own
/// environment for the program (and whatever it starts): the daemon marks its installers so
/// that, restarted after a crash, it can find and stop one the dead daemon left running.
///
/// It blocks the calling thread: the daemon runs installs off its event loop.
public struct InstallerProcess {
    /// How the program ended.
    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
        /// Terminated at the deadline.
        case timedOut
        /// Could not be started (errno text).
        case notStarted(String)
    }

    /// What a finished run left.
    public struct Result: Equatable, Sendable {
        public let ending: Ending
        /// Standard output and error together (the end of them, when longer than the limit).
        public let output: [UInt8]
        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    public var timeout: Duration
    public var outputLimit: Int
    /// "NAME=value" entries added to the program's environment (the daemon's own otherwise;
    /// a variable of the same name in the daemon's is replaced).
    public var environment: [String]

    public init(timeout: Duration = .seconds(1800), outputLimit: Int = 65_536, environment: [String] = []) {
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.environment = environment
    }

    /// Runs `arguments` (`arguments[0]` looked up on PATH when it has no `/`).
    public func run(_ arguments: [String]) -> Result {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return Result(ending: .notStarted(errorText(errno)), output: []) }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal dispositions and an empty mask, whatever the daemon blocks.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        // Its own process group: the deadline (and a restarted daemon) stop everything it started.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let added: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) }
        defer { for pointer in added { free(pointer) } }
        // The daemon's own environment, without the variables `environment` sets.
        let names = environment.map { Array($0.utf8.prefix { $0 != UInt8(ascii: "=") }) + [UInt8(ascii: "=")] }
        var inherited: [UnsafeMutablePointer<CChar>?] = []
        var entry = environ
        while let variable = entry.pointee {
            let replaced = names.contains { name in
                name.withUnsafeBufferPointer { strncmp(variable, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), name.count) == 0 }
            }
            if !replaced { inherited.append(variable) }
            entry += 1
        }
        var envp = added + inherited + [nil]
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        close(ends[1])
        guard status == 0 else {
            close(ends[0])
            return Result(ending: .notStarted("\(arguments[0]): \(errorText(status))"), output: [])
        }
        defer { close(ends[0]) }
        return collect(pid: pid, from: ends[0])
    }

    private func collect(pid: pid_t, from fd: Int32) -> Result {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var open = true
        var killedAt: ContinuousClock.Instant?
        while true {
            if open {
                let now = clock.now
                let remaining = killedAt == nil ? deadline - now : .milliseconds(100)
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let milliseconds = remaining.millisecondsClamped
                let wait = Int32(max(0, min(1000, milliseconds)))
                if poll(&poller, 1, wait) > 0 {
                    let count = read(fd, &chunk, chunk.count)
                    if count > 0 {
                        output += chunk[0..<count]
                        if output.count > outputLimit { output.removeFirst(output.count - outputLimit) }
                    } else if count == 0 || errno != EINTR {
                        open = false
                    }
                }
            } else {
                usleep(10_000)
            }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                // Whatever is left in the pipe (a grandchild may hold it open: do not wait for it).
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                while open, poll(&poller, 1, 0) > 0 {
                    let count = read(fd, &chunk, chunk.count)
                    if count <= 0 { break }
                    output += chunk[0..<count]
                }
                if output.count > outputLimit { output.removeFirst(output.count - outputLimit) }
                if killedAt != nil { return Result(ending: .timedOut, output: output) }
                if status & 0x7F == 0 { return Result(ending: .exited((status >> 8) & 0xFF), output: output) }
                return Result(ending: .signaled(status & 0x7F), output: output)
            }
            let now = clock.now
            if killedAt == nil, now >= deadline {
                kill(-pid, SIGTERM)
                killedAt = now
            } else if let killedAt, now - killedAt >= .seconds(5) {
                kill(-pid, SIGKILL)
            }
        }
    }

    private func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

// glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module hides it.
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
    .map { unsafeBitCast($0, to: AddCloseFrom.self) }
