import Firmware
import LwM2M

/// The image store the Firmware Update object writes to when packages must be signed
/// (`require-signature`): package bytes go through a `PackageReceiver` (header verified before
/// the image is stored; only the image reaches the file store; size and digest checked at the
/// end). A refused package is `FirmwareStoreError.rejected` with Update Result 5 or 6, so a push
/// or a pull of an unsigned or foreign package ends in Idle with that result.
final class SignedPackageStore: FirmwareImageStore {
    private let receiver: PackageReceiver
    private let files: FileFirmwareImageStore
    /// The manifest of the last package finished (PkgName / PkgVersion come from it).
    private(set) var lastManifest: PackageManifest?

    init(files: FileFirmwareImageStore, key: PackagePublicKey, board: String) {
        self.files = files
        receiver = PackageReceiver(store: files, key: key, board: board,
                                   headerPath: "\(files.directory)/package.header")
    }

    /// Package bytes so far (header and image): where a push or a pull continues.
    var size: Int64 { receiver.received }

    func reset() throws(FirmwareStoreError) {
        lastManifest = nil
        do { try receiver.reset() } catch { throw Self.storeError(error) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(FirmwareStoreError) {
        do { try receiver.append(bytes) } catch { throw Self.storeError(error) }
    }

    func finish() throws(FirmwareStoreError) -> FirmwareImage {
        do {
            let (image, manifest) = try receiver.finish()
            lastManifest = manifest
            return image
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A package's announced size: the image inside it is smaller by the header, so the file
    /// store is asked for the whole package (a few KiB more than needed at most).
    func checkAnnouncedSize(_ total: Int64) throws(FirmwareStoreError) {
        try files.checkAnnouncedSize(max(0, total - size) + files.size)
    }

    /// After a restart: the partial image on disk and the saved header, re-verified; returns
    /// the package offset a download continues from (0: start over).
    func resume() -> Int64 {
        guard let stored = try? files.resume() else { return 0 }
        return (try? receiver.resume(storedImageBytes: stored)) ?? 0
    }

    /// Package bytes of the header (0 before it has completed): the image starts there.
    var headerSize: Int64 { receiver.manifest == nil ? 0 : receiver.received - files.size }

    /// Cuts the package back to `target` bytes, within the image (a resumed CoAP download goes
    /// back to the block boundary at or below what was stored, and a power cut may have lost the
    /// tail of the last write): the file store is cut back and re-hashed, the saved header is
    /// verified again and the verifier continues from there. A target inside the header (it
    /// would have to be verified again from its start) or past the end is refused.
    func truncate(to target: Int64) throws(FirmwareStoreError) {
        guard target != size else { return }
        let header = headerSize
        guard header > 0, target >= header, target < size else {
            throw .io("the package cannot be cut back to byte \(target) (header \(header), \(size) stored)")
        }
        try files.truncate(to: target - header)
        let resumed: Int64
        do { resumed = try receiver.resume(storedImageBytes: target - header) } catch { throw Self.storeError(error) }
        guard resumed == target else { throw .io("the saved package header no longer verifies") }
    }

    private static func storeError(_ error: PackageReceiveError) -> FirmwareStoreError {
        switch error {
        case .store(let error): error
        case .package(let error): .rejected(error.updateResult, reason: "\(error)")
        }
    }
}
