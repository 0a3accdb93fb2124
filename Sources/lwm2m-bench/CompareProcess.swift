import Glibc
import Time
import Transport

/// Child processes and what `/proc` says about them, for `lwm2m-bench compare`.
enum CompareProcess {
    /// Starts `argv` (the first element a path, or a name looked up in `PATH`) with stdin from
    /// `/dev/null` and stdout / stderr to the given files. The child inherits the calling
    /// thread's CPU affinity (see ``pin(toCPU:)``).
    /// - Returns: the child's pid, or `nil` when it could not be started.
    static func spawn(_ argv: [String], stdout: String = "/dev/null", stderr: String = "/dev/null") -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        arguments.append(nil)
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, nil, arguments, environ)
        return result == 0 ? pid : nil
    }

    /// Waits for `pid` to end; its CPU time (user + system, from wait4's rusage) in µs and
    /// whether it exited with status 0.
    static func waitWithCPU(_ pid: pid_t) -> (cpuMicros: Double, succeeded: Bool) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        func micros(_ t: timeval) -> Double { Double(t.tv_sec) * 1e6 + Double(t.tv_usec) }
        // WIFEXITED && WEXITSTATUS == 0 (macros, not imported)
        return (micros(usage.ru_utime) + micros(usage.ru_stime), status & 0xFFFF == 0)
    }

    /// Sends `signal` and waits up to `seconds` for the child to end (SIGKILL after that).
    /// - Returns: the seconds it took to end, or `nil` when it had to be killed.
    @discardableResult
    static func stop(_ pid: pid_t, signal: Int32 = SIGTERM, seconds: Double = 5, whileWaiting: () -> Void = {}) -> Double? {
        kill(pid, signal)
        let start = MonotonicClock.now()
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if toSeconds(MonotonicClock.now() - start) > seconds {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return nil
            }
            whileWaiting()
            usleep(1000)
        }
        return toSeconds(MonotonicClock.now() - start)
    }

    /// Restricts the calling thread (and the children it starts from now on) to `cpus`.
    @discardableResult
    static func pin(toCPUs cpus: [Int]) -> Bool {
        var set = cpu_set_t()
        let bits = UInt.bitWidth  // cpu_set_t is an array of unsigned long: 32 bits on armv7
        withUnsafeMutableBytes(of: &set) { raw in
            let words = raw.bindMemory(to: UInt.self)
            for cpu in cpus where cpu >= 0 && cpu / bits < words.count { words[cpu / bits] |= 1 << UInt(cpu % bits) }
        }
        return setAffinity?(0, MemoryLayout<cpu_set_t>.size, &set) == 0
    }

    /// The CPUs this process may run on (sched_getaffinity), in order.
    static func allowedCPUs() -> [Int] {
        var set = cpu_set_t()
        guard getAffinity?(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { return [0] }
        let bits = UInt.bitWidth
        var cpus: [Int] = []
        withUnsafeBytes(of: &set) { raw in
            for (index, word) in raw.bindMemory(to: UInt.self).enumerated() {
                for bit in 0..<bits where word & (1 << UInt(bit)) != 0 { cpus.append(index * bits + bit) }
            }
        }
        return cpus.isEmpty ? [0] : cpus
    }

    // MARK: - /proc

    /// A whole (small) file, or `nil`.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The thread ids of `pid` (`/proc/PID/task`).
    static func threads(of pid: pid_t) -> [String] {
        guard let directory = opendir("/proc/\(pid)/task") else { return ["\(pid)"] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.first?.isNumber == true { names.append(name) }
        }
        return names.isEmpty ? ["\(pid)"] : names
    }

    /// CPU time of a process so far, summed over its threads: the total in ns from
    /// `/proc/PID/task/TID/schedstat` (nanosecond resolution) and the user / system split in
    /// clock ticks from `/proc/PID/stat` (utime, stime; 10 ms resolution).
    struct CPU {
        var nanoseconds: Double = 0
        var userTicks: Double = 0
        var systemTicks: Double = 0

        static func - (lhs: CPU, rhs: CPU) -> CPU {
            CPU(nanoseconds: lhs.nanoseconds - rhs.nanoseconds, userTicks: lhs.userTicks - rhs.userTicks,
                systemTicks: lhs.systemTicks - rhs.systemTicks)
        }
    }

    static func cpu(of pid: pid_t) -> CPU {
        var total = CPU()
        for thread in threads(of: pid) {
            if let text = read("/proc/\(pid)/task/\(thread)/schedstat"),
               let first = text.split(separator: " ").first, let ns = Double(first) {
                total.nanoseconds += ns
            }
        }
        if let text = read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") {
            // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 13 {
                total.userTicks = Double(fields[11]) ?? 0
                total.systemTicks = Double(fields[12]) ?? 0
            }
        }
        return total
    }

    /// A `kB` field of `/proc/PID/status` (VmRSS, RssAnon, …) in KiB.
    static func statusKiB(_ pid: pid_t, _ field: String) -> Double? {
        guard let text = read("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            // "VmRSS:\t   12345 kB"
            let value = line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return value.flatMap { Double($0) }
        }
        return nil
    }

    /// Context switches of a process, summed over its threads (`/proc/PID/task/TID/status`):
    /// voluntary ones are the times a thread went to sleep and was woken.
    static func contextSwitches(_ pid: pid_t) -> (voluntary: Int, involuntary: Int) {
        var voluntary = 0
        var involuntary = 0
        for thread in threads(of: pid) {
            guard let text = read("/proc/\(pid)/task/\(thread)/status") else { continue }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":")
                guard parts.count == 2, let value = Int(parts[1].trimmingSpaces) else { continue }
                if parts[0] == "voluntary_ctxt_switches" { voluntary += value }
                if parts[0] == "nonvoluntary_ctxt_switches" { involuntary += value }
            }
        }
        return (voluntary, involuntary)
    }

    static func toSeconds(_ duration: Duration) -> Double { Bench.toSeconds(duration) }

    /// The directory this executable lives in (`/proc/self/exe`).
    static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "." }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// A file's size in bytes, or `nil`.
    static func fileSize(_ path: String) -> Double? {
        var info = stat()
        return stat(path, &info) == 0 ? Double(info.st_size) : nil
    }

    /// Runs `argv` to completion and returns its stdout (via a scratch file in `directory`).
    static func output(of argv: [String], directory: String) -> String? {
        let path = directory + "/output.txt"
        guard let pid = spawn(argv, stdout: path) else { return nil }
        _ = waitWithCPU(pid)
        return read(path)
    }
}

// sched_setaffinity / sched_getaffinity need _GNU_SOURCE; Swift's Glibc module hides them.
private typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutablePointer<cpu_set_t>) -> Int32
private let setAffinity: Affinity? = dlsym(nil, "sched_setaffinity").map { unsafeBitCast($0, to: Affinity.self) }
private let getAffinity: Affinity? = dlsym(nil, "sched_getaffinity").map { unsafeBitCast($0, to: Affinity.self) }

/// Writes `text` to standard error (fd 2), all of it.
func standardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        if written < 0 { if errno == EINTR { continue } else { return } }
        offset += written
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
