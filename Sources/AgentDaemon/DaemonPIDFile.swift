import AgentCommon
import Glibc
import Files

/// `lwm2m-agentd.pid` in the state directory: lets `lwm2m-agent factory-reset` reach the
/// running daemon.
public struct DaemonPIDFile {
    public let path: String

    public init(directory: String) {
        path = "\(directory)/lwm2m-agentd.pid"
    }

    /// Records this process: atomically (never a partial number) but not durably, since a PID
    /// means nothing after a power cut and its fsync held up the first Register.
    public func write() throws(FileError) {
        try AtomicFile.write(Array("\(getpid())\n".utf8), to: path, mode: 0o644, durable: false)
    }

    /// Removes the file if it names this process.
    public func remove() {
        if runningProcess() == getpid() { try? AtomicFile.remove(path, durable: false) }
    }

    /// The recorded process, if it is still alive.
    public func runningProcess() -> pid_t? {
        guard let bytes = try? FileReader.read(path),
              let pid = pid_t(String(decoding: bytes, as: UTF8.self).trimmingSpaces()), pid > 0,
              kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return pid
    }
}
