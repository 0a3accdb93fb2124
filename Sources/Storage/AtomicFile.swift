#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a file operation failed; carries the path and `strerror` text, never file content.
public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32
    /// Why, when `strerror(errno)` would not say it (a FIFO where a file should be, a file over
    /// the size limit).
    public let detail: String?

    public init(operation: String, path: String, errno: Int32, detail: String? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        "\(operation) \(path): \(detail ?? String(cString: strerror(errno)))"
    }

    /// Whether the file simply does not exist.
    public var isNotFound: Bool { errno == ENOENT }
}

/// Reads and writes whole files so that a power cut leaves either the old or the new content:
/// write a temporary file in the same directory, fsync it, rename it over the target, fsync the
/// directory.
public enum AtomicFile {
    /// Replaces the content of `path` with `bytes`, atomically and durably. `mode` applies to a
    /// new file (0600 by default: state files are the device's alone).
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(FileError) {
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
        if failure == nil, fsync(fd) != 0 {
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
        try syncDirectory(directory)
    }

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

    /// Removes `path` and syncs its directory; a missing file is not an error.
    public static func remove(_ path: String) throws(FileError) {
        if unlink(path) != 0 {
            if errno == ENOENT { return }
            throw FileError(operation: "unlink", path: path, errno: errno)
        }
        try syncDirectory(parentDirectory(of: path))
    }

    /// Whether `path` exists.
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` and its missing parents with `mode` (0700 by default).
    public static func createDirectory(_ path: String, mode: mode_t = 0o700) throws(FileError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw FileError(operation: "mkdir", path: prefix, errno: errno)
            }
            prefix += "/"
        }
    }

    /// The names in directory `path` (without `.` and `..`), sorted.
    public static func list(_ path: String) throws(FileError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileError(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes leftovers of interrupted writes (`*.tmp-<pid>`) in `directory`.
    public static func removeTemporaryFiles(in directory: String) {
        guard let names = try? list(directory) else { return }
        for name in names where name.contains(".tmp-") {
            unlink("\(directory)/\(name)")
        }
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
