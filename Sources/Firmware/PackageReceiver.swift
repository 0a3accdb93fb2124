import Files
import LwM2M

/// A signed package arriving into an image store: the header is checked by a `PackageVerifier`
/// (a wrong key or board is refused before the image downloads) and saved to `headerPath`
/// (atomically) so a download can resume; only the image goes to the store, which hashes it;
/// `finish()` accepts the image only when its size and SHA-256 match the signed manifest.
///
/// On any package failure the store is reset and the header removed: a partial or unverified
/// image never stays behind for an installer.
public final class PackageReceiver {
    private let store: FirmwareImageStore
    private let key: PackagePublicKey
    private let board: String
    /// Where the verified header is kept for a resumed download (`<state>/firmware/package.header`).
    public let headerPath: String
    private var verifier: PackageVerifier

    public init(store: FirmwareImageStore, key: PackagePublicKey, board: String, headerPath: String) {
        self.store = store
        self.key = key
        self.board = board
        self.headerPath = headerPath
        verifier = PackageVerifier(key: key, board: board)
    }

    /// Package bytes received so far (header and image): where a resumed download continues.
    public var received: Int64 { verifier.received }

    /// The signed manifest, once the header has arrived and verified.
    public var manifest: PackageManifest? { verifier.manifest }

    /// Starts a new package: empties the store and forgets the header.
    public func reset() throws(PackageReceiveError) {
        verifier = PackageVerifier(key: key, board: board)
        do {
            try AtomicFile.remove(headerPath)
        } catch {
            throw .store(.io("\(error)"))
        }
        do {
            try store.reset()
        } catch {
            throw .store(error)
        }
    }

    /// Picks up a download after a restart, given that the store holds `storedImageBytes` of the
    /// image (`FileFirmwareImageStore.resume()`): re-verifies the saved header. Without a saved
    /// header (the header had not completed) or with one that no longer verifies, starts over.
    /// Returns the package offset to continue from.
    @discardableResult
    public func resume(storedImageBytes: Int64) throws(PackageReceiveError) -> Int64 {
        verifier = PackageVerifier(key: key, board: board)
        if let saved = try? FileReader.read(headerPath, maximumSize: 4200),
           (try? verifier.resume(header: saved, imageBytes: storedImageBytes)) != nil {
            return verifier.received
        }
        try reset()
        return 0
    }

    /// Takes the next package bytes.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(PackageReceiveError) {
        let hadHeader = verifier.manifest != nil
        let start: Int
        do {
            start = try verifier.consume(bytes)
        } catch {
            discard()
            throw .package(error)
        }
        if !hadHeader, let header = verifier.completeHeader {
            do {
                try AtomicFile.write(header, to: headerPath)
            } catch {
                throw .store(.io("\(error)"))
            }
        }
        guard start < bytes.count else { return }
        do {
            try store.append(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        } catch {
            throw .store(error)
        }
    }

    /// Takes the next package bytes.
    public func append(_ bytes: [UInt8]) throws(PackageReceiveError) {
        var failure: PackageReceiveError?
        bytes.withUnsafeBytes { buffer in
            do throws(PackageReceiveError) { try append(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The verified image (the store's finished file: the image alone, without the header) and
    /// its manifest; refuses a truncated image or one whose digest differs, removing it.
    public func finish() throws(PackageReceiveError) -> (image: FirmwareImage, manifest: PackageManifest) {
        if verifier.manifest == nil || verifier.imageReceived != verifier.manifest!.size {
            let error: PackageError
            do {
                _ = try verifier.finish(imageDigest: [])
                error = .digestMismatch
            } catch let caught {
                error = caught
            }
            discard()
            throw .package(error)
        }
        let image: FirmwareImage
        do {
            image = try store.finish()
        } catch {
            throw .store(error)
        }
        do {
            let manifest = try verifier.finish(imageDigest: image.digest)
            try? AtomicFile.remove(headerPath)
            return (image, manifest)
        } catch {
            try? AtomicFile.remove(image.path)
            discard()
            throw .package(error)
        }
    }

    private func discard() {
        try? AtomicFile.remove(headerPath)
        try? store.reset()
        verifier = PackageVerifier(key: key, board: board)
    }
}

/// Why a package could not be received: the store (Update Result 2 or 8) or the package
/// (`PackageError.updateResult`: 5 or 6).
public enum PackageReceiveError: Error, Equatable, CustomStringConvertible {
    case store(FirmwareStoreError)
    case package(PackageError)

    public var description: String {
        switch self {
        case .store(let error): "image store: \(error)"
        case .package(let error): "\(error)"
        }
    }
}
