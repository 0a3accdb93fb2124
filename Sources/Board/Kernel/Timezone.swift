import AgentCommon
import Glibc
import LwM2M

/// The system's time zone: its IANA name from `/etc/timezone` (Debian) or the target of the
/// `/etc/localtime` symlink (`…/zoneinfo/Europe/Berlin`), whether a zone exists in the time-zone
/// database (`/usr/share/zoneinfo`), and the UTC offset in effect.
public enum SystemTimezone {
    /// The zone name under `root`; nil when neither source names one.
    public static func name(_ root: SystemRoot) -> String? {
        if let name = root.firstLine("/etc/timezone"), TimezoneName.isWellFormed(name) { return name }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(root.path("/etc/localtime"), &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let target = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let parts = target.split(separator: "/", omittingEmptySubsequences: false)
        guard let index = parts.lastIndex(of: "zoneinfo") else { return nil }
        var name = parts[(index + 1)...].joined(separator: "/")
        for prefix in ["posix/", "right/"] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        return TimezoneName.isWellFormed(name) ? name : nil
    }

    /// Whether `name` is a well-formed zone name with a file in the time-zone database under `root`.
    public static func exists(_ name: String, in root: SystemRoot) -> Bool {
        guard TimezoneName.isWellFormed(name) else { return false }
        var info = stat()
        guard stat(root.path("/usr/share/zoneinfo/" + name), &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The offset of local time from UTC in effect at `seconds` (tm_gmtoff of localtime_r,
    /// i.e. the process's zone: TZ, else /etc/localtime), as `±HH:MM`. Calls `tzset` first, so a
    /// zone changed since the last call (by the agent or anyone else) is the one used.
    public static func currentOffset(at seconds: Int64) -> String? {
        guard var time = time_t(exactly: seconds) else { return nil }
        tzset()
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return nil }
        return UTCOffset.format(seconds: Int(parts.tm_gmtoff))
    }

    /// The offset of the zone under `root` at `seconds`, as `±HH:MM`: of `/etc/localtime` on the
    /// live system (the process's zone, `currentOffset`), else of the root's time-zone file
    /// (`TZif`), found by the zone's name under the root's `/usr/share/zoneinfo` (the symlink's
    /// absolute target would leave the root).
    public static func offset(_ root: SystemRoot, at seconds: Int64) -> String? {
        if root == .live { return currentOffset(at: seconds) }
        let paths = (name(root).map { ["/usr/share/zoneinfo/" + $0] } ?? []) + ["/etc/localtime"]
        for path in paths {
            if let bytes = try? root.bytes(path), let offset = TZif.offset(bytes, at: seconds) {
                return UTCOffset.format(seconds: offset)
            }
        }
        return nil
    }
}
