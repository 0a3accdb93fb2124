import Firmware
import LwM2M

/// A pull's `DownloadSink` over the Firmware Update object's image store: the downloaded bytes
/// go where a push's would (and through the signature check when the store checks packages).
/// The finished image is kept in `image` for `downloadFinished`; a package the store refused is
/// kept in `rejection` (its Update Result, 5 or 6, is what the download reports).
final class ImageStoreSink: DownloadSink {
    private let store: any FirmwareImageStore
    /// The image `finish()` completed.
    private(set) var image: FirmwareImage?
    /// The store's refusal of the package, when it refused it.
    private(set) var rejection: FirmwareStoreError?

    init(store: any FirmwareImageStore) {
        self.store = store
    }

    /// The bytes stored; after `finish()`, what was stored when it finished (the store itself
    /// starts counting from 0 again once its image is complete).
    var size: Int64 { finishedSize ?? store.size }
    private var finishedSize: Int64?

    func reset() throws(DownloadSinkError) {
        image = nil
        finishedSize = nil
        do { try store.reset() } catch { throw convert(error) }
    }

    /// Cuts the stored bytes back to `target`: the file store truncates; the signed store cuts
    /// its image back when `target` lies within it (`SignedPackageStore.truncate`); any other
    /// store accepts only its own size or 0.
    func truncate(to target: Int64) throws(DownloadSinkError) {
        guard target != store.size else { return }
        if let files = store as? FileFirmwareImageStore {
            do { try files.truncate(to: target) } catch { throw convert(error) }
        } else if let signed = store as? SignedPackageStore, target > 0 {
            do { try signed.truncate(to: target) } catch { throw convert(error) }
        } else if target == 0 {
            try reset()
        } else {
            throw .io("this image store cannot be cut back to byte \(target)")
        }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(DownloadSinkError) {
        do { try store.append(bytes) } catch { throw convert(error) }
    }

    /// The announced size against the store's maximum and the free space (before any byte of it).
    func expectTotal(_ total: Int64) throws(DownloadSinkError) {
        do { try store.checkAnnouncedSize(total) } catch { throw convert(error) }
    }

    func finish() throws(DownloadSinkError) {
        let stored = store.size
        do { image = try store.finish() } catch { throw convert(error) }
        finishedSize = stored
    }

    private func convert(_ error: FirmwareStoreError) -> DownloadSinkError {
        switch error {
        case .insufficientStorage: return .insufficientStorage
        case .tooLarge(let limit): return .tooLarge(limit: limit)
        case .io(let why): return .io(why)
        case .rejected(_, let reason):
            rejection = error
            return .io(reason)
        }
    }
}
