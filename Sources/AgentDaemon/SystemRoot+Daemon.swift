import Board
import Glibc

extension SystemRoot {
    /// Where the daemon reads the kernel's files: `/`, or the directory in the environment
    /// variable `LWM2M_SYSTEM_ROOT` — a test-only seam that lets the interop tests run the real
    /// daemon over a tree of /sys, /proc and /etc. Not for operators; a deployed board never
    /// sets it.
    public static var daemon: SystemRoot {
        guard let value = getenv("LWM2M_SYSTEM_ROOT").map({ String(cString: $0) }), !value.isEmpty else { return .live }
        return SystemRoot(value)
    }
}
