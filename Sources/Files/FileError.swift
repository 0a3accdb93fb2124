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
