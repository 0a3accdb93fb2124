import Files
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Signed packages as files: made by the vendor (`lwm2m-agent firmware sign`), checked by
/// `lwm2m-agent firmware verify`. Both stream: an image is never held whole in memory.
public enum PackageFile {
    /// Writes the package of the image at `imagePath` to `outputPath` (through a temporary file
    /// renamed into place) and returns its manifest.
    @discardableResult
    public static func sign(image imagePath: String, to outputPath: String, board: String, version: String,
                            key: PackageSigningKey) throws(PackageFileError) -> PackageManifest {
        let digest = SHA256Digest()
        var size: Int64 = 0
        try forEachChunk(of: imagePath) { chunk in
            digest.update(chunk)
            size += Int64(chunk.count)
        }
        let manifest: PackageManifest
        let header: [UInt8]
        do {
            manifest = try PackageManifest(board: board, version: version, size: size, sha256: digest.current())
            header = try PackageHeader.signed(manifest, with: key)
        } catch {
            throw .package(error)
        }
        let temporary = "\(outputPath).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .file(FileError(operation: "create", path: temporary, errno: errno)) }
        var closed = false
        defer { if !closed { close(fd); unlink(temporary) } }
        try writeAll(fd, header, path: temporary)
        let copied = SHA256Digest()
        try forEachChunk(of: imagePath) { chunk throws(PackageFileError) in
            copied.update(chunk)
            try writeAll(fd, chunk, path: temporary)
        }
        // The image changed while it was read: the signed digest would not match.
        guard copied.current() == manifest.sha256 else { throw .package(.digestMismatch) }
        guard fsync(fd) == 0 else { throw .file(FileError(operation: "fsync", path: temporary, errno: errno)) }
        close(fd)
        closed = true
        guard rename(temporary, outputPath) == 0 else {
            let error = FileError(operation: "rename", path: outputPath, errno: errno)
            unlink(temporary)
            throw .file(error)
        }
        return manifest
    }

    /// Verifies the package at `path` with `key` (and, when given, for `board`); returns its
    /// manifest and the offset where the image starts.
    public static func verify(_ path: String, key: PackagePublicKey, board: String?) throws(PackageFileError)
        -> (manifest: PackageManifest, imageOffset: Int64) {
        var verifier = PackageVerifier(key: key, board: board)
        let digest = SHA256Digest()
        var imageOffset: Int64 = 0
        try forEachChunk(of: path) { chunk throws(PackageFileError) in
            let start: Int
            do throws(PackageError) {
                start = try verifier.consume(chunk)
            } catch {
                throw .package(error)
            }
            if verifier.manifest != nil, imageOffset == 0 { imageOffset = Int64(verifier.completeHeader!.count) }
            digest.update(UnsafeRawBufferPointer(rebasing: chunk[start...]))
        }
        do {
            return (try verifier.finish(imageDigest: digest.current()), imageOffset)
        } catch {
            throw .package(error)
        }
    }

    /// Calls `body` with successive chunks (64 KiB) of the file at `path`.
    static func forEachChunk(of path: String, _ body: (UnsafeRawBufferPointer) throws(PackageFileError) -> Void)
        throws(PackageFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(FileError(operation: "open", path: path, errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .file(FileError(operation: "stat", path: path, errno: errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .file(FileError(operation: "read", path: path, errno: EINVAL, detail: "not a regular file"))
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = read(fd, chunk.baseAddress!, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw .file(FileError(operation: "read", path: path, errno: errno))
            }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(PackageFileError) {
        var failure: PackageFileError?
        bytes.withUnsafeBytes { buffer in
            do throws(PackageFileError) { try writeAll(fd, buffer, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(PackageFileError) {
        let failure: Int32? = {
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }()
        if let failure { throw .file(FileError(operation: "write", path: path, errno: failure)) }
    }
}

/// Why a package file could not be made or checked: the package itself, or a file.
public enum PackageFileError: Error, Equatable, CustomStringConvertible {
    case package(PackageError)
    case file(FileError)

    public var description: String {
        switch self {
        case .package(let error): "\(error)"
        case .file(let error): "\(error)"
        }
    }
}
