/// Where a download stands: for progress logs, and what to save to resume it later.
public struct DownloadProgress: Hashable, Sendable {
    /// Bytes stored in the sink.
    public var received: Int64
    /// The size the server announced (CoAP Size2, HTTP Content-Length/Content-Range), if any.
    public var total: Int64?
    /// The validator of the representation (CoAP ETag bytes; HTTP ETag header text as bytes):
    /// saved with the partial image so that a resume checks it is still the same.
    public var validator: [UInt8]?

    public init(received: Int64, total: Int64?, validator: [UInt8]?) {
        self.received = received
        self.total = total
        self.validator = validator
    }
}

/// Where a download resumes: the bytes already stored and the validator saved with them.
public struct ResumePoint: Hashable, Sendable {
    public var offset: Int64
    public var validator: [UInt8]?

    public init(offset: Int64, validator: [UInt8]?) {
        self.offset = offset
        self.validator = validator
    }
}
