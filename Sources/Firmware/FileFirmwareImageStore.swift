import Files
import LwM2M
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The firmware image on disk: streamed to `<state>/firmware/image.partial`, hashed (SHA-256)
/// while it streams, renamed to `<state>/firmware/image` with fsync on `finish()`.
///
/// Limits: a configured maximum size (`tooLarge`), and the file system's free space, checked
/// before the first byte and again while the image grows, keeping `reserve` bytes free for the
/// rest of the system (`insufficientStorage`; ENOSPC from a write says the same). A failed
/// append leaves the partial exactly as it was before it (truncated back), so the size and the
/// digest always describe the bytes on disk.
///
/// After a restart `resume()` opens the partial at its size and re-hashes what is there.
public final class FileFirmwareImageStore: FirmwareImageStore {
    /// Free bytes for an unprivileged writer at a path (statvfs `f_bavail * f_frsize`), or nil
    /// when it cannot be told. Tests pass a fake.
    public typealias FreeSpace = (String) -> Int64?

    /// `<state>/firmware`.
    public let directory: String
    /// `<state>/firmware/image.partial`: the image while it arrives.
    public let partialPath: String
    /// `<state>/firmware/image`: the finished image.
    public let imagePath: String
    /// The largest image accepted (bytes).
    public let maximumSize: Int64
    /// Bytes left free on the file system for everything else.
    public let reserve: Int64

    private let freeSpace: FreeSpace
    private let digest = SHA256Digest()
    private var descriptor: Int32 = -1
    /// Bytes appended since the last reset (after `resume()`, what the partial holds).
    private(set) public var size: Int64 = 0
    /// Free bytes at the last check, and bytes appended since.
    private var freeAtCheck: Int64 = 0
    private var appendedSinceCheck: Int64 = 0
    /// Re-check the free space at least this often while appending.
    private static let checkInterval: Int64 = 1 << 20

    /// A store under `stateDirectory` (its `firmware/` subdirectory is created when needed).
    /// `maximumSize` is capped to what `off_t` holds (2 GiB − 1 on 32-bit builds).
    public init(stateDirectory: String, maximumSize: Int64, reserve: Int64 = 1 << 20,
                freeSpace: @escaping FreeSpace = FileFirmwareImageStore.statvfsFreeSpace) {
        directory = "\(stateDirectory)/firmware"
        partialPath = "\(directory)/image.partial"
        imagePath = "\(directory)/image"
        self.maximumSize = min(maximumSize, Int64(off_t.max))
        self.reserve = max(0, reserve)
        self.freeSpace = freeSpace
    }

    deinit { closeDescriptor() }

    /// The free space at `path` by statvfs(3).
    public static func statvfsFreeSpace(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let (bytes, overflow) = Int64(info.f_bavail).multipliedReportingOverflow(by: Int64(info.f_frsize))
        return overflow ? .max : bytes
    }

    // MARK: FirmwareImageStore

    /// Removes the partial and the finished image and opens an empty partial, after checking that
    /// the file system has free space beyond the reserve.
    public func reset() throws(FirmwareStoreError) {
        closeDescriptor()
        digest.restart()
        size = 0
        do {
            try Directory.create(directory)
            try AtomicFile.remove(imagePath)
            try AtomicFile.remove(partialPath)
        } catch {
            throw .io("\(error)")
        }
        try checkFreeSpace(needed: 1)
        try openPartial(truncating: true)
    }

    /// Appends `bytes`; refuses (and leaves the partial as it was) past the maximum size or the
    /// free space.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(FirmwareStoreError) {
        guard bytes.count > 0 else { return }
        if descriptor < 0 { try openPartial(truncating: size == 0) }
        let count = Int64(bytes.count)
        guard count <= maximumSize - size else { throw .tooLarge(limit: maximumSize) }
        if appendedSinceCheck + count > Self.checkInterval || count > freeAtCheck - reserve - appendedSinceCheck {
            try checkFreeSpace(needed: count)
        }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                rollBack()
                if code == ENOSPC || code == EDQUOT { throw .insufficientStorage }
                if code == EFBIG { throw .tooLarge(limit: maximumSize) }
                throw .io("write \(partialPath): \(String(cString: strerror(code)))")
            }
            offset += written
        }
        digest.update(bytes)
        size += count
        appendedSinceCheck += count
    }

    /// fsyncs the partial, renames it to `image`, fsyncs the directory; the store is then empty
    /// (its next append starts a new partial) until `reset()`.
    public func finish() throws(FirmwareStoreError) -> FirmwareImage {
        if descriptor < 0 { try openPartial(truncating: size == 0) }
        guard fsync(descriptor) == 0 else { throw .io("fsync \(partialPath): \(String(cString: strerror(errno)))") }
        closeDescriptor()
        guard rename(partialPath, imagePath) == 0 else {
            throw .io("rename \(partialPath): \(String(cString: strerror(errno)))")
        }
        try syncDirectory()
        let image = FirmwareImage(path: imagePath, size: size, digest: digest.current())
        digest.restart()
        size = 0
        return image
    }

    /// When the image's total size is announced before it arrives (CoAP Size1/Size2, HTTP
    /// Content-Length, a package manifest): refuses at once an image over the maximum size, or
    /// one whose remaining bytes do not fit in the free space beyond the reserve.
    public func checkAnnouncedSize(_ total: Int64) throws(FirmwareStoreError) {
        guard total <= maximumSize else { throw .tooLarge(limit: maximumSize) }
        try checkFreeSpace(needed: max(0, total - size))
    }

    // MARK: Resuming

    /// Opens an existing partial at its size, re-hashing its content, and returns that size (0,
    /// with an empty partial, when there is none). The partial is never longer than the maximum
    /// size: a longer one (a changed configuration) is discarded.
    @discardableResult
    public func resume() throws(FirmwareStoreError) -> Int64 {
        closeDescriptor()
        digest.restart()
        size = 0
        guard FileReader.exists(partialPath) else {
            try reset()
            return 0
        }
        try openPartial(truncating: false)
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io("stat \(partialPath): \(String(cString: strerror(errno)))") }
        let length = Int64(info.st_size)
        guard length <= maximumSize else {
            try reset()
            return 0
        }
        try rehash(upTo: length)
        size = length
        freeAtCheck = 0  // the next append checks the free space
        appendedSinceCheck = 0
        return size
    }

    /// Cuts the partial back to `length` bytes (a resume point on a block boundary) and re-hashes it.
    public func truncate(to length: Int64) throws(FirmwareStoreError) {
        guard length >= 0, length <= size else { throw .io("truncate \(partialPath) to \(length): beyond its \(size) bytes") }
        guard length < size else { return }
        if descriptor < 0 { try openPartial(truncating: false) }
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw .io("truncate \(partialPath): \(String(cString: strerror(errno)))")
        }
        digest.restart()
        size = 0
        try rehash(upTo: length)
        size = length
    }

    // MARK: Private

    private func openPartial(truncating: Bool) throws(FirmwareStoreError) {
        do {
            try Directory.create(directory)
        } catch {
            throw .io("\(error)")
        }
        let flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (truncating ? O_TRUNC : 0)
        let fd = open(partialPath, flags, 0o600)
        guard fd >= 0 else { throw .io("open \(partialPath): \(String(cString: strerror(errno)))") }
        descriptor = fd
    }

    private func closeDescriptor() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// Hashes the first `length` bytes of the open partial.
    private func rehash(upTo length: Int64) throws(FirmwareStoreError) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var offset: Int64 = 0
        while offset < length {
            let wanted = Int(min(Int64(chunk.count), length - offset))
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, wanted, off_t(offset)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .io("read \(partialPath): \(count < 0 ? String(cString: strerror(errno)) : "shorter than it was")") }
            chunk.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += Int64(count)
        }
    }

    /// Refuses when fewer than `needed` bytes plus the reserve are free.
    private func checkFreeSpace(needed: Int64) throws(FirmwareStoreError) {
        guard let free = freeSpace(directory) else { throw .io("statvfs \(directory): \(String(cString: strerror(errno)))") }
        freeAtCheck = free
        appendedSinceCheck = 0
        guard free - reserve >= needed else { throw .insufficientStorage }
    }

    /// Cuts a partly written append off again, so the partial matches `size` and the digest.
    private func rollBack() {
        _ = ftruncate(descriptor, off_t(size))
    }

    private func syncDirectory() throws(FirmwareStoreError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io("fsync \(directory): \(String(cString: strerror(errno)))") }
    }
}
