import Glibc

/// A ``DownloadSink`` writing to one file: opened for appending (created 0600 if missing),
/// truncated on reset, fsync'ed on finish. Optionally capped at `maximumSize` bytes.
public final class FileDownloadSink: DownloadSink {
    public let path: String
    public let maximumSize: Int64?
    public private(set) var size: Int64
    private var descriptor: Int32

    /// Opens `path`, keeping what it holds (``size`` is its length: a resumable download).
    public init(path: String, maximumSize: Int64? = nil) throws(DownloadSinkError) {
        self.path = path
        self.maximumSize = maximumSize
        descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure("open", path) }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else {
            let error = Self.failure("seek", path)
            close(descriptor)
            throw error
        }
        size = Int64(end)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public func reset() throws(DownloadSinkError) { try truncate(to: 0) }

    public func truncate(to newSize: Int64) throws(DownloadSinkError) {
        guard newSize >= 0, newSize <= size else { throw .io("truncate \(path): \(newSize) is beyond \(size) bytes") }
        // off_t may be 32 bits (armv7 without _FILE_OFFSET_BITS=64): no trap on a large offset.
        guard let offset = off_t(exactly: newSize) else { throw .io("truncate \(path): offset \(newSize) too large here") }
        guard ftruncate(descriptor, offset) == 0 else { throw Self.failure("truncate", path) }
        guard lseek(descriptor, offset, SEEK_SET) >= 0 else { throw Self.failure("seek", path) }
        size = newSize
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws(DownloadSinkError) {
        if let maximumSize, size + Int64(bytes.count) > maximumSize { throw .tooLarge(limit: maximumSize) }
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                let failure: DownloadSinkError = switch errno {
                case ENOSPC, EDQUOT: .insufficientStorage
                case EFBIG: .tooLarge(limit: size + Int64(written))
                default: Self.failure("write", path)
                }
                // All or nothing: a partly written chunk is cut off again, so the file stays
                // `size` bytes long (what a resume relies on).
                if written > 0, let offset = off_t(exactly: size) {
                    _ = ftruncate(descriptor, offset)
                    _ = lseek(descriptor, offset, SEEK_SET)
                }
                throw failure
            }
            written += count
        }
        size += Int64(bytes.count)
    }

    public func finish() throws(DownloadSinkError) {
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", path) }
    }

    private static func failure(_ operation: String, _ path: String) -> DownloadSinkError {
        .io("\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
