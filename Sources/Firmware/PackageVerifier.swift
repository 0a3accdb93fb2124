/// Checks a signed package as it streams (`PackageHeader` describes the layout): the header is
/// collected and its signature and board checked as soon as it is complete, so a package that
/// is not for this device is refused before its image is downloaded; then every byte is counted
/// as image, and `finish(imageDigest:)` decides at the end.
///
/// The verifier hashes nothing itself: the image's SHA-256 comes from whoever stores it (the
/// image store hashes while writing), so the image is hashed once.
public struct PackageVerifier {
    private let key: PackagePublicKey
    /// The board this device is; nil accepts any (the vendor-side `firmware verify` without --board).
    private let board: String?
    private var header: [UInt8] = []
    /// The signed manifest, once the header is complete and verified.
    public private(set) var manifest: PackageManifest?
    /// Image bytes consumed so far.
    public private(set) var imageReceived: Int64 = 0

    public init(key: PackagePublicKey, board: String?) {
        self.key = key
        self.board = board
    }

    /// The complete header (to save for a resumed download), nil before it is complete.
    public var completeHeader: [UInt8]? { manifest == nil ? nil : header }

    /// All package bytes consumed so far.
    public var received: Int64 { Int64(header.count) + imageReceived }

    /// Consumes the next bytes of the package and returns the index in `bytes` where image bytes
    /// start (`bytes.count` when all of them were header). Throws as soon as the data cannot be a
    /// valid package for this device; the verifier is then unusable.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(PackageError) -> Int {
        var index = 0
        if manifest == nil {
            while index < bytes.count, manifest == nil {
                let wanted = try headerBytesWanted()
                let take = min(wanted, bytes.count - index)
                header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                try checkHeader()
            }
        }
        guard let manifest, index < bytes.count else { return index }
        let count = Int64(bytes.count - index)
        guard count <= manifest.size - imageReceived else { throw .trailingData }
        imageReceived += count
        return index
    }

    /// Consumes the next bytes of the package (see `consume(_:)`).
    public mutating func consume(_ bytes: [UInt8]) throws(PackageError) -> Int {
        var result: Result<Int, PackageError> = .success(0)
        bytes.withUnsafeBytes { buffer in
            do throws(PackageError) { result = .success(try consume(buffer)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Continues a download whose header was verified and saved, with `imageBytes` of the image
    /// already stored (re-verifies the header).
    public mutating func resume(header saved: [UInt8], imageBytes: Int64) throws(PackageError) {
        header = []
        manifest = nil
        imageReceived = 0
        let used = try consume(saved)
        guard manifest != nil, used == saved.count else { throw .malformedManifest("saved header incomplete") }
        guard imageBytes >= 0, imageBytes <= manifest!.size else { throw .trailingData }
        imageReceived = imageBytes
    }

    /// The verdict at the end of the data: the manifest when the image is complete and its
    /// SHA-256 is `imageDigest`.
    public func finish(imageDigest: [UInt8]) throws(PackageError) -> PackageManifest {
        guard let manifest else {
            let expected = Int64(header.count) + Int64((try? headerBytesWanted()) ?? 0)
            throw .truncated(expected: expected, received: Int64(header.count))
        }
        guard imageReceived == manifest.size else {
            throw .truncated(expected: Int64(header.count) + manifest.size, received: received)
        }
        guard imageDigest == manifest.sha256 else { throw .digestMismatch }
        return manifest
    }

    // MARK: Header

    private var manifestLength: Int { Int(header[8]) << 8 | Int(header[9]) }

    /// How many more bytes the header needs before the next check.
    private func headerBytesWanted() throws(PackageError) -> Int {
        let magicLength = PackageHeader.magic.count
        if header.count < magicLength + 3 { return magicLength + 3 - header.count }
        let signatureLengthAt = 10 + manifestLength
        if header.count < signatureLengthAt + 2 { return signatureLengthAt + 2 - header.count }
        let signatureLength = Int(header[signatureLengthAt]) << 8 | Int(header[signatureLengthAt + 1])
        return signatureLengthAt + 2 + signatureLength - header.count
    }

    /// Checks what has arrived of the header; sets `manifest` when it is complete and valid.
    private mutating func checkHeader() throws(PackageError) {
        let magic = PackageHeader.magic
        guard header.prefix(magic.count).elementsEqual(magic.prefix(header.count)) else { throw .notAPackage }
        if header.count > magic.count, header[magic.count] != PackageHeader.formatVersion {
            throw .unsupportedFormat(header[magic.count])
        }
        guard header.count >= 10 else { return }
        guard (1...PackageHeader.maximumManifestLength).contains(manifestLength) else {
            throw .malformedManifest("manifest length \(manifestLength) outside 1…\(PackageHeader.maximumManifestLength)")
        }
        let signatureLengthAt = 10 + manifestLength
        guard header.count >= signatureLengthAt + 2 else { return }
        let signatureLength = Int(header[signatureLengthAt]) << 8 | Int(header[signatureLengthAt + 1])
        guard PackageHeader.signatureLengthRange.contains(signatureLength) else {
            throw .malformedManifest("signature length \(signatureLength) outside \(PackageHeader.signatureLengthRange)")
        }
        guard header.count == signatureLengthAt + 2 + signatureLength else { return }
        // The signature first: nothing unsigned is interpreted.
        let digest = SHA256Digest.of(Array(header[0..<signatureLengthAt]))
        guard key.verifies(Array(header[(signatureLengthAt + 2)...]), digest: digest) else { throw .badSignature }
        let parsed = try PackageManifest(parsing: Array(header[10..<signatureLengthAt]))
        if let board, parsed.board != board { throw .wrongBoard(expected: board, found: parsed.board) }
        manifest = parsed
    }
}
