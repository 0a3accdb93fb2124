/// Where a firmware image goes while it arrives (Write to /5/0/0 block by block, or a pull
/// download): appended in order, never held whole in memory, and handed over complete by
/// `finish()`. The file implementation is `FileFirmwareImageStore` (target Firmware); the
/// Firmware Update object only sees this protocol.
public protocol FirmwareImageStore: AnyObject {
    /// Discards whatever was stored (a partial or a finished image) and starts empty.
    func reset() throws(FirmwareStoreError)
    /// Appends the next bytes of the image.
    func append(_ bytes: UnsafeRawBufferPointer) throws(FirmwareStoreError)
    /// Makes the appended bytes the finished image (durably) and describes it.
    func finish() throws(FirmwareStoreError) -> FirmwareImage
    /// How many bytes have been appended since the last reset (the resume point of a download).
    var size: Int64 { get }
}

extension FirmwareImageStore {
    /// Appends the next bytes of the image.
    public func append(_ bytes: [UInt8]) throws(FirmwareStoreError) {
        var failure: FirmwareStoreError?
        bytes.withUnsafeBytes { buffer in
            do throws(FirmwareStoreError) { try append(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// A finished image: where it is, how large, and its SHA-256 digest (computed while it streamed).
public struct FirmwareImage: Equatable, Sendable {
    public let path: String
    public let size: Int64
    /// 32 bytes.
    public let sha256: [UInt8]

    public init(path: String, size: Int64, sha256: [UInt8]) {
        self.path = path
        self.size = size
        self.sha256 = sha256
    }
}

/// Why an image could not be stored; maps to Update Result 2 (not enough storage) for the first
/// two, 8 (update failed) for input/output errors.
public enum FirmwareStoreError: Error, Equatable, Sendable {
    /// The file system has not enough free space (checked before and during the download).
    case insufficientStorage
    /// The image would exceed the configured maximum size (bytes).
    case tooLarge(limit: Int64)
    /// A file operation failed (the description names the operation and path, never content).
    case io(String)
}
