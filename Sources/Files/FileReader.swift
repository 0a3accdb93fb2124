#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads small whole files: configuration, state, and the kernel's /proc and /sys files, which
/// report a size of 0 and are read until end of file.
public enum FileReader {
    /// The whole content of `path`, which must be a regular file.
    ///
    /// The file is opened non-blocking, so a FIFO (or a device) at `path` is refused at once
    /// instead of hanging the caller, and `maximumSize` bounds what is read: a larger file (or
    /// one that grows past it while read) is refused, never read whole.
    public static func read(_ path: String, maximumSize: Int = .max) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw FileError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw FileError(operation: "stat", path: path, errno: errno) }
        let type = status.st_mode & S_IFMT
        guard type == S_IFREG else {
            let kind = switch type {
            case S_IFIFO: "a FIFO"
            case S_IFCHR: "a character device"
            case S_IFBLK: "a block device"
            case S_IFDIR: "a directory"
            case S_IFSOCK: "a socket"
            default: "not a file"
            }
            throw FileError(operation: "read", path: path, errno: EINVAL, detail: "\(kind), not a regular file")
        }
        func tooLarge() -> FileError {
            FileError(operation: "read", path: path, errno: EFBIG, detail: "larger than \(maximumSize) bytes")
        }
        // st_size is 0 for most /proc and /sys files: the read loop enforces the limit as well.
        if Int64(status.st_size) > Int64(maximumSize) { throw tooLarge() }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            guard count <= maximumSize - result.count else { throw tooLarge() }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// Whether `path` exists.
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
