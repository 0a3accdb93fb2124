import Glibc

/// What the Swift runtime's backtracer may print when the daemon crashes. By default (no
/// terminal: the "full" preset) it dumps the crashed thread's registers and the memory they
/// point at, which can hold key material or plaintext, into the journal. The daemon keeps the
/// stack trace (function names and offsets) and turns the rest off.
///
/// The runtime reads `SWIFT_BACKTRACE` once, when the process starts, so setting it later has no
/// effect: the init scripts set it (`Environment=` in the systemd unit, an export in the SysV
/// script), and a daemon started by hand without it re-executes itself once with it set
/// (``enforce(arguments:)``). An operator's own `SWIFT_BACKTRACE` is kept; these settings are
/// appended and win (the runtime applies the settings in order).
public enum CrashReportPolicy {
    /// The settings appended to `SWIFT_BACKTRACE`: no register or memory dumps, no image list,
    /// sanitized paths, never interactive (a daemon has nobody at the terminal).
    public static let settings = "interactive=no,color=no,registers=none,images=none,sanitize=yes,threads=crashed"

    /// `current` with ``settings`` appended, or nil when it already ends with them.
    public static func environmentValue(current: String?) -> String? {
        guard let current, !current.isEmpty else { return settings }
        if current == settings || current.hasSuffix("," + settings) { return nil }
        return current + "," + settings
    }

    /// Re-executes this program (the file `/proc/self/exe` names, same PID, same arguments) with the settings
    /// in `SWIFT_BACKTRACE` unless they are already there. Returns only when nothing needed
    /// changing or the re-exec failed (then the reason, for the log).
    public static func enforce(arguments: [String]) -> String? {
        let current = getenv("SWIFT_BACKTRACE").map { String(cString: $0) }
        guard let value = environmentValue(current: current) else { return nil }
        guard setenv("SWIFT_BACKTRACE", value, 1) == 0 else {
            return "cannot set SWIFT_BACKTRACE: \(String(cString: strerror(errno)))"
        }
        // The executable's real path, not /proc/self/exe: the process keeps its name (comm).
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, path.count - 1)
        guard length > 0 else { return "cannot find this executable (\(String(cString: strerror(errno))))" }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv(path, &argv)
        let reason = String(cString: strerror(errno))
        for pointer in argv { free(pointer) }
        return "cannot re-execute with SWIFT_BACKTRACE=\(value) (\(reason)): a crash report may include register and memory dumps"
    }
}
