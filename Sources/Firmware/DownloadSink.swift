/// Where a download's bytes go as they arrive (the firmware image store, or a plain file for
/// `lwm2m-agent firmware fetch`). A download never holds the body: every block or chunk is
/// appended here at once.
///
/// The error cases mirror `FirmwareStoreError` (insufficient storage, too large, I/O), so an
/// image store adapts to this protocol without losing the Update Result they map to.
public protocol DownloadSink: AnyObject {
    /// Bytes stored so far.
    var size: Int64 { get }
    /// Discards everything stored (a download that starts again from byte 0).
    func reset() throws(DownloadSinkError)
    /// Keeps the first `size` bytes and discards the rest (a resumed download continues at a
    /// block boundary at or below what was stored).
    func truncate(to size: Int64) throws(DownloadSinkError)
    /// Appends `bytes` at the end.
    func append(_ bytes: UnsafeRawBufferPointer) throws(DownloadSinkError)
    /// The download is complete: make the bytes durable.
    func finish() throws(DownloadSinkError)
    /// The server announced the whole representation's size (CoAP Size2, HTTP Content-Length or
    /// Content-Range) before the bytes: a sink with limits refuses at once what cannot fit
    /// (`insufficientStorage`, `tooLarge`). Default: accepts.
    func expectTotal(_ total: Int64) throws(DownloadSinkError)
}

extension DownloadSink {
    /// A sink without limits accepts any announced size.
    public func expectTotal(_ total: Int64) throws(DownloadSinkError) {}
}

/// Why a sink refused bytes.
public enum DownloadSinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not enough free space for the bytes (or for the size the server announced).
    case insufficientStorage
    /// Over the configured maximum image size.
    case tooLarge(limit: Int64)
    /// A read, write or sync failed (the path and strerror text, never content).
    case io(String)

    public var description: String {
        switch self {
        case .insufficientStorage: "insufficient storage"
        case .tooLarge(let limit): "image larger than the maximum of \(limit) bytes"
        case .io(let why): why
        }
    }
}
