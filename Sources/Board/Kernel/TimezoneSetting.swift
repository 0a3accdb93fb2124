import AgentCommon
import Files
import Glibc
import LwM2M

/// Changes the system's time zone the way Debian's `tzdata` does: `/etc/localtime` becomes a
/// symlink to `/usr/share/zoneinfo/NAME`, and `/etc/timezone` (when the system has one) holds
/// NAME. Both are replaced atomically (a new symlink or file under a temporary name in `/etc`,
/// renamed over the old one), and a failure leaves both as they were. Afterwards the process
/// re-reads its zone (`tzset`), so `localtime_r` gives the new offset without a restart.
public enum TimezoneSetting {
    /// Makes `name` (a zone that exists in the time-zone database under `root`) the system's
    /// zone under `root`.
    public static func apply(_ name: String, root: SystemRoot) throws(FileError) {
        let localtime = root.path("/etc/localtime"), zoneFile = root.path("/etc/timezone")
        let temporary = "\(localtime).lwm2m-\(getpid())"
        unlink(temporary)
        guard symlink("/usr/share/zoneinfo/" + name, temporary) == 0 else {
            throw FileError(operation: "symlink", path: temporary, errno: errno)
        }
        // /etc/timezone first: the symlink is still only a temporary name, so a failure here
        // leaves the system as it was.
        var previous: [UInt8]?
        do {
            previous = try FileReader.read(zoneFile, maximumSize: 4096)
        } catch let error where error.isNotFound {
            previous = nil
        } catch {
            unlink(temporary)
            throw error
        }
        if previous != nil {
            do {
                try AtomicFile.write(Array("\(name)\n".utf8), to: zoneFile, mode: 0o644)
            } catch {
                unlink(temporary)
                throw error
            }
        }
        guard rename(temporary, localtime) == 0 else {
            let error = FileError(operation: "rename", path: localtime, errno: errno)
            unlink(temporary)
            if let previous { try? AtomicFile.write(previous, to: zoneFile, mode: 0o644) }
            throw error
        }
        syncDirectory(root.path("/etc"))
        tzset()
    }

    /// The zone that applies a whole-hour UTC offset (`+02:00` → `Etc/GMT-2`: the POSIX sign
    /// is inverted; `+00:00` → `Etc/UTC`); nil when the offset has minutes or is malformed.
    public static func zone(forOffset offset: String) -> String? {
        guard let normalized = UTCOffset.normalized(offset) else { return nil }
        let bytes = Array(normalized.utf8)  // ±HH:MM
        guard bytes.count == 6, bytes[4] == UInt8(ascii: "0"), bytes[5] == UInt8(ascii: "0") else { return nil }
        let hours = Int(bytes[1] - UInt8(ascii: "0")) * 10 + Int(bytes[2] - UInt8(ascii: "0"))
        if hours == 0 { return "Etc/UTC" }
        return "Etc/GMT" + (bytes[0] == UInt8(ascii: "+") ? "-" : "+") + String(hours)
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
