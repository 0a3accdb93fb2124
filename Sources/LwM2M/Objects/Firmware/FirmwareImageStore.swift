/// Why the firmware image store refused or failed. Each maps to an Update Result
/// (`updateResult`).
public enum FirmwareStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file system has too little free space for the package (checked before and while it
    /// arrives).
    case insufficientStorage
    /// The package is larger than the configured maximum image size (bytes).
    case tooLarge(limit: Int64)
    /// The file system failed (the text says how; it never holds image bytes).
    case io(String)
    /// The package itself was refused by a store that checks it (a signed package whose
    /// signature, board or digest is wrong): `result` is the Update Result to report (5
    /// integrity check failure, 6 unsupported package type), `reason` says why.
    case rejected(FirmwareUpdateResult, reason: String)

    /// The Update Result a download ending with this error sets: 2 (not enough storage) for
    /// the storage's failures (a write error is the storage failing the package); the
    /// rejection's own result for a refused package.
    public var updateResult: FirmwareUpdateResult {
        if case .rejected(let result, _) = self { return result }
        return .notEnoughStorage
    }

    public var description: String {
        switch self {
        case .insufficientStorage: "not enough free space for the firmware image"
        case .tooLarge(let limit): "the firmware image exceeds the maximum of \(limit) bytes"
        case .io(let why): "firmware image store: \(why)"
        case .rejected(_, let reason): "firmware package refused: \(reason)"
        }
    }
}

/// Where firmware packages are streamed to: the only I/O the Firmware Update object does. The
/// outer layer provides the file implementation (`FileFirmwareImageStore`, target `Firmware`);
/// tests use one in memory.
///
/// A package is written as `reset()`, any number of `append(_:)`, then `finish()`; `size`
/// counts the bytes appended since the last `reset()` (after a restart, what survived of the
/// partial image, so a download resumes from there).
public protocol FirmwareImageStore {
    /// Discards any partial or finished image; the next `append` starts a new one.
    func reset() throws(FirmwareStoreError)

    /// Appends `bytes` to the image being written.
    func append(_ bytes: UnsafeRawBufferPointer) throws(FirmwareStoreError)

    /// Completes the image being written (durably) and describes it.
    func finish() throws(FirmwareStoreError) -> FirmwareImage

    /// The bytes appended since the last `reset()`.
    var size: Int64 { get }

    /// The package's total size is announced before its bytes arrive (CoAP Size1 of a push,
    /// Size2 or Content-Length of a pull): refuses at once (`tooLarge`, `insufficientStorage`)
    /// a package that cannot fit, instead of filling the disk first. Default: accepts.
    func checkAnnouncedSize(_ total: Int64) throws(FirmwareStoreError)
}

extension FirmwareImageStore {
    /// A store without limits accepts any announced size.
    public func checkAnnouncedSize(_ total: Int64) throws(FirmwareStoreError) {}
}

extension FirmwareImageStore {
    /// Appends `bytes` to the image being written.
    public func append(_ bytes: [UInt8]) throws(FirmwareStoreError) {
        // withUnsafeBytes is not typed-throws: carry the error out by hand.
        let failure: FirmwareStoreError? = bytes.withUnsafeBytes { buffer in
            do throws(FirmwareStoreError) {
                try append(buffer)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}
