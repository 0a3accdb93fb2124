import Files

/// The kernel's boot ID (`/proc/sys/kernel/random/boot_id`): a random UUID made at every boot,
/// so an install that waits for its reboot can tell a reboot from a mere restart of the agent
/// (the agent stopped and started again on the same boot: its reboot command failed, a crash,
/// a restart of its service).
public enum BootID {
    /// Where Linux publishes it.
    public static let kernelPath = "/proc/sys/kernel/random/boot_id"

    /// The boot ID in `path`, without surrounding white space; nil when it cannot be read or is
    /// empty (then nobody can tell whether the machine rebooted).
    public static func current(path: String = kernelPath) -> String? {
        guard let bytes = try? FileReader.read(path, maximumSize: 256) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        guard !text.isEmpty, !text.contains(where: { $0 == "\n" || $0 == " " }) else { return nil }
        return text
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
