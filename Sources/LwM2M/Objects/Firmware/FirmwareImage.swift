/// A complete firmware package as the image store holds it: where it is, how big it is and its
/// SHA-256 digest (computed while it was streamed in).
public struct FirmwareImage: Hashable, Sendable {
    /// The image file (in the state directory's `firmware/` subdirectory for the file store).
    public var path: String
    /// The image's size in bytes.
    public var size: Int64
    /// The SHA-256 digest of the image's bytes (32 bytes).
    public var digest: [UInt8]

    public init(path: String, size: Int64, digest: [UInt8]) {
        self.path = path
        self.size = size
        self.digest = digest
    }
}
