#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes and removes whole files so that a power cut leaves either the old or the new content:
/// write a temporary file in the same directory, fsync it, rename it over the target, fsync the
/// directory.
public enum AtomicFile {
    /// Replaces the content of `path` with `bytes`, atomically and durably. `mode` applies to a
    /// new file (0600 by default: state files are the device's alone).
    ///
    /// `durable: false` keeps the atomic replacement (a reader sees the old or the new content,
    /// never a part) but skips both fsyncs: for files that mean nothing after a power cut, such
    /// as the daemon's PID file, whose fsync cost the start-up tens of milliseconds on a slow disk.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600, durable: Bool = true) throws(FileError) {
        let directory = parentDirectory(of: path)
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(operation: "create", path: temporary, errno: errno) }
        var failure: FileError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = FileError(operation: "write", path: temporary, errno: errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, durable, fsync(fd) != 0 {
            failure = FileError(operation: "fsync", path: temporary, errno: errno)
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let error = FileError(operation: "rename", path: path, errno: errno)
            unlink(temporary)
            throw error
        }
        if durable { try syncDirectory(directory) }
    }

    /// Removes `path` and (`durable`) syncs its directory; a missing file is not an error.
    public static func remove(_ path: String, durable: Bool = true) throws(FileError) {
        if unlink(path) != 0 {
            if errno == ENOENT { return }
            throw FileError(operation: "unlink", path: path, errno: errno)
        }
        if durable { try syncDirectory(parentDirectory(of: path)) }
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func syncDirectory(_ directory: String) throws(FileError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(operation: "open", path: directory, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError(operation: "fsync", path: directory, errno: errno) }
    }
}
