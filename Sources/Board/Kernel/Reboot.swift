import Glibc

/// Reboots the board the way its board file says.
public enum SystemReboot {
    /// `[reboot] method`.
    public typealias Method = BoardDefinition.RebootMethod

    /// Why the reboot did not happen.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        case cannotRun(String, errno: Int32)
        case exited(String, status: Int32)
        case killed(String, signal: Int32)
        case syscall(errno: Int32)

        public var description: String {
            switch self {
            case .cannotRun(let program, let errno): "cannot run \(program): \(String(cString: strerror(errno)))"
            case .exited(let program, let status): "\(program) exited with status \(status)"
            case .killed(let program, let signal): "\(program) was killed by signal \(signal)"
            case .syscall(let errno):
                "reboot(2): \(String(cString: strerror(errno)))" + (errno == EPERM ? " (the agent needs CAP_SYS_BOOT)" : "")
            }
        }
    }

    /// Reboots by `method`. Returns when the command finished with status 0 (the system is then
    /// going down); throws when it could not be started or failed. `.syscall` does not return
    /// when it succeeds.
    public static func perform(_ method: Method) throws(Failure) {
        switch method {
        case .systemd:
            try run("systemctl", ["reboot"], searchPath: true)
        case .command(let path, let arguments):
            try run(path, arguments, searchPath: false)
        case .syscall:
            sync()
            // reboot(2) is not in the Glibc module (sys/reboot.h): look the libc function up.
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "reboot") else { throw .syscall(errno: ENOSYS) }
            let reboot = unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
            guard reboot(Int32(bitPattern: 0x0123_4567)) == 0 else { throw .syscall(errno: errno) }  // RB_AUTOBOOT
        }
    }

    /// Runs `program` with `arguments` and waits for it.
    static func run(_ program: String, _ arguments: [String], searchPath: Bool) throws(Failure) {
        let argv = ([program] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = (argv + [nil]).withUnsafeBufferPointer { pointers -> Int32 in
            let vector = UnsafeMutablePointer(mutating: pointers.baseAddress!)
            return searchPath ? posix_spawnp(&pid, program, nil, nil, vector, environ)
                : posix_spawn(&pid, program, nil, nil, vector, environ)
        }
        guard spawned == 0 else { throw .cannotRun(program, errno: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw .cannotRun(program, errno: errno) }
        }
        let signal = status & 0x7f
        if signal != 0 { throw .killed(program, signal: signal) }
        let code = (status >> 8) & 0xff
        if code != 0 { throw .exited(program, status: code) }
    }
}
