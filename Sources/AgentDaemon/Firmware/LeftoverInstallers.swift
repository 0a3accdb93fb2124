import Files
import Glibc

/// Installer processes a killed agent left running. Every installer the agent starts (and
/// whatever that starts) carries `marker` in its environment, naming the agent's state
/// directory, from its first instruction on: there is no moment at which an installer runs
/// unmarked. A power cut stops the installer with everything else; a kill -9 or a crash of the
/// agent alone does not (unless a service manager stops the whole unit), and the installer
/// would go on as an orphan. So a restarted agent in Updating first stops every process that
/// carries its marker (`stop()`), then reports the interrupted install as failed: never two
/// installs at once, none running unseen.
struct LeftoverInstallers {
    /// "LWM2M_AGENT_FIRMWARE_INSTALL=<state directory>".
    let marker: String

    init(stateDirectory: String) {
        marker = "\(Self.variable)=\(stateDirectory)"
    }

    static let variable = "LWM2M_AGENT_FIRMWARE_INSTALL"

    /// SIGKILLs every process carrying `marker` (with its process group when it leads one: the
    /// installer's own group, `InstallerProcess`), and waits up to 2 s for them to go. Returns
    /// the PIDs found running.
    func stop() -> [Int32] {
        let found = running()
        for pid in found {
            if getpgid(pid) == pid { kill(-pid, SIGKILL) }
            kill(pid, SIGKILL)
        }
        var waited = 0
        while waited < 200, !running().isEmpty {
            usleep(10_000)
            waited += 1
        }
        return found
    }

    /// The processes (not zombies) whose environment holds `marker`, this one excepted.
    func running() -> [Int32] {
        guard let proc = opendir("/proc") else { return [] }
        defer { closedir(proc) }
        let own = getpid()
        let wanted = Array(marker.utf8)
        var found: [Int32] = []
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != own, Self.isRunning(pid),
                  let environment = try? FileReader.read("/proc/\(pid)/environ", maximumSize: 1 << 20) else { continue }
            if environment.split(separator: 0, omittingEmptySubsequences: true).contains(where: { $0.elementsEqual(wanted) }) {
                found.append(pid)
            }
        }
        return found
    }

    /// Whether PID exists and is not a zombie (field 3 of /proc/PID/stat, after the command name).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let bytes = try? FileReader.read("/proc/\(pid)/stat", maximumSize: 4096) else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].split(separator: " ").first
        return state != nil && state != "Z" && state != "X"
    }
}
