import AgentCommon
import Glibc
import Files

/// Why the daemon may not run with this state directory.
public enum InstanceLockError: Error, Equatable, CustomStringConvertible {
    /// Another process holds the lock (its PID when the PID file names a live process).
    case alreadyRunning(directory: String, pid: pid_t?)
    /// The lock file could not be created or locked.
    case unavailable(FileError)

    public var description: String {
        switch self {
        case .alreadyRunning(let directory, let pid):
            "another lwm2m-agentd\(pid.map { " (pid \($0))" } ?? "") is already running with state directory \(directory): not starting (one daemon per state directory)"
        case .unavailable(let error): "single-instance lock: \(error)"
        }
    }
}

/// `lwm2m-agentd.lock` in the state directory, held with an exclusive `flock(2)` for the
/// daemon's whole life: a second daemon with the same state directory refuses to start before
/// it touches anything (PID file, state file, registration). The kernel drops the lock when the
/// process exits, however it exits, so a crash never leaves a stale lock behind.
public final class InstanceLock {
    /// The lock file.
    public let path: String
    private var fileDescriptor: Int32

    /// Creates the state directory if needed and takes the lock, without waiting.
    public init(directory: String) throws(InstanceLockError) {
        path = "\(directory)/lwm2m-agentd.lock"
        do {
            try Directory.create(directory)
        } catch {
            throw .unavailable(error)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard fd >= 0 else { throw .unavailable(FileError(operation: "open", path: path, errno: errno)) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            if error == EINTR { continue }
            close(fd)
            if error == EWOULDBLOCK {
                throw .alreadyRunning(directory: directory, pid: DaemonPIDFile(directory: directory).runningProcess())
            }
            throw .unavailable(FileError(operation: "flock", path: path, errno: error))
        }
        fileDescriptor = fd
    }

    deinit { release() }

    /// Releases the lock (also released when the process exits).
    public func release() {
        guard fileDescriptor >= 0 else { return }
        // Unlock before closing: a child forked at this moment (not yet at its exec, where
        // O_CLOEXEC closes the descriptor) shares the open file description, and a close alone
        // would leave the lock held until that child execs.
        flock(fileDescriptor, LOCK_UN)
        close(fileDescriptor)
        fileDescriptor = -1
    }
}
