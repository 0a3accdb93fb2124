import Files
import Glibc

/// The installer process running for the agent, recorded in `<state-dir>/firmware/installer.pid`
/// ("PID STARTTIME", STARTTIME the process's start time in clock ticks from /proc/PID/stat, so
/// a recycled PID is not mistaken for it). The installer runs in a process group of its own
/// (`InstallerProcess`). When the agent dies while it runs (kill -9, a crash; not a power cut,
/// which stops everything), it keeps running as an orphan: the restarted agent stops that group
/// before it reports the install failed, so no installer ever runs unseen or alongside a second
/// one for the same update.
struct InstallerPIDFile {
    let path: String

    /// Records `pid` (called on the install job's thread as soon as the installer started).
    func record(_ pid: Int32) {
        guard let start = Self.startTime(of: pid) else { return }
        try? AtomicFile.write(Array("\(pid) \(start)\n".utf8), to: path)
    }

    /// Forgets the installer (it ended).
    func remove() { try? AtomicFile.remove(path) }

    /// After a restart: SIGKILLs the process group of an installer the previous agent left
    /// running (the recorded PID, still with its recorded start time) and waits up to 2 s for its
    /// leader to go. Returns the PID stopped, nil when none was running. The record is removed.
    func stopLeftover() -> Int32? {
        defer { remove() }
        guard let bytes = try? FileReader.read(path, maximumSize: 256) else { return nil }
        let words = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 2, let pid = Int32(words[0]), pid > 1, let start = UInt64(words[1]),
              Self.startTime(of: pid) == start, Self.isRunning(pid) else { return nil }
        kill(-pid, SIGKILL)  // the installer's own process group: the hook and whatever it started
        kill(pid, SIGKILL)
        var waited = 0
        while waited < 200, Self.isRunning(pid), Self.startTime(of: pid) == start {
            usleep(10_000)
            waited += 1
        }
        return pid
    }

    /// Field 22 of /proc/PID/stat (start time after boot, clock ticks), nil when there is no such process.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let fields = statFields(pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Whether PID exists and is not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let fields = statFields(pid), let state = fields.first else { return false }
        return state != "Z" && state != "X"
    }

    /// The fields of /proc/PID/stat after the command name ("(comm)", which may hold spaces):
    /// field 3 (state) first.
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let bytes = try? FileReader.read("/proc/\(pid)/stat", maximumSize: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}
