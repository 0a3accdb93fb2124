import CoAP
@testable import LwM2M

/// A firmware image store in memory: the package's bytes, a fake 32-byte digest (a checksum
/// spread over 32 bytes: this core has no SHA-256), and failures to inject.
final class MemoryImageStore: FirmwareImageStore {
    var bytes: [UInt8] = []
    /// Largest image accepted (`.tooLarge` beyond).
    var limit: Int64 = 1 << 40
    /// Thrown by the next operation of that kind (then cleared), when set.
    var appendFailure: FirmwareStoreError?
    var resetFailure: FirmwareStoreError?
    var finishFailure: FirmwareStoreError?
    private(set) var resets = 0
    private(set) var finishes = 0

    init(holding bytes: [UInt8] = []) { self.bytes = bytes }

    func reset() throws(FirmwareStoreError) {
        if let failure = resetFailure { resetFailure = nil; throw failure }
        bytes = []
        resets += 1
    }

    func append(_ buffer: UnsafeRawBufferPointer) throws(FirmwareStoreError) {
        if let failure = appendFailure { appendFailure = nil; throw failure }
        guard Int64(bytes.count) + Int64(buffer.count) <= limit else { throw .tooLarge(limit: limit) }
        bytes += buffer
    }

    func finish() throws(FirmwareStoreError) -> FirmwareImage {
        if let failure = finishFailure { finishFailure = nil; throw failure }
        finishes += 1
        return Self.image(of: bytes)
    }

    var size: Int64 { Int64(bytes.count) }

    /// Refuses an announced size over `limit`, as the file store does over its maximum.
    func checkAnnouncedSize(_ total: Int64) throws(FirmwareStoreError) {
        guard total <= limit else { throw .tooLarge(limit: limit) }
    }

    /// What `finish` says about `bytes`.
    static func image(of bytes: [UInt8]) -> FirmwareImage {
        var sum: UInt8 = 0
        let digest = (0..<32).map { index -> UInt8 in
            for byte in bytes.enumerated() where byte.offset % 32 == index { sum = sum &+ byte.element }
            return sum
        }
        return FirmwareImage(path: "/state/firmware/image", size: Int64(bytes.count), digest: digest)
    }
}

/// A Firmware Update object over a memory store, registered in a registry the responder serves.
final class FirmwareRig: ResponderRig {
    let store: MemoryImageStore
    let object: FirmwareUpdateObject
    let registry = ObjectRegistry()

    static let allProtocols: Set<FirmwareProtocol> = [.coap, .coaps, .http, .https]

    init(protocols: Set<FirmwareProtocol> = FirmwareRig.allProtocols, acceptsPush: Bool = true,
         store: MemoryImageStore = MemoryImageStore(), restoring: FirmwareUpdateObject.PersistentState? = nil) {
        self.store = store
        object = FirmwareUpdateObject(configuration: .init(protocols: protocols, acceptsPush: acceptsPush, version: .v1_2),
                                      store: store, restoring: restoring)
        registry.register(object)
        _ = registry.takeChanges()
    }

    /// A Write of `bytes` (application/octet-stream) to `path`.
    func write(_ path: String, bytes: [UInt8]) -> CoAPResponse {
        RequestHandler().handle(request(.put, path, format: ContentFormat.octetStream, payload: bytes), registry: registry)
    }

    /// An Execute of `path`.
    func execute(_ path: String) -> CoAPCode { handle(.post, path).code }

    /// State and Update Result as "state/result".
    var status: String { "\(object.state.rawValue)/\(object.result.rawValue)" }

    /// The changed resources reported since the last call, as resource IDs.
    func changes() -> [UInt16] { registry.takeChanges().compactMap(\.resourceID) }

    /// The requests queued since the last call, described.
    func requests() -> [String] { object.takeRequests().map(Self.describe) }

    static func describe(_ request: FirmwareRequest) -> String {
        switch request {
        case .download(let uri, let from, let etag): "download \(uri) from \(from)" + (etag.map { " etag \(hex($0))" } ?? "")
        case .cancelDownload: "cancel download"
        case .install(let image): "install \(image.size) bytes"
        case .resolveInstall(let image): "resolve install of \(image.map { "\($0.size)" } ?? "nil") bytes"
        case .persist(let state): "persist \(state.state.rawValue)/\(state.result.rawValue)"
            + (state.installPending ? " pending" : "")
        }
    }

    /// Pushes `package` in one Write: Downloaded.
    func pushWhole(_ package: [UInt8] = Array(1...200)) {
        precondition(write("/5/0/0", bytes: package).code == .changed)
        _ = changes()
        _ = requests()
    }

    /// Writes a Package URI and lets the download finish with `package`: Downloaded.
    func pull(_ package: [UInt8] = Array(1...100), uri: String = "coaps://fw.example.com/gw/2.0") {
        precondition(handle(.put, "/5/0/1", uri).code == .changed)
        try! store.append(package)
        precondition(object.downloadFinished(.success(store.finishImage())))
        _ = changes()
        _ = requests()
    }
}

extension MemoryImageStore {
    /// `finish()` for the outer layer's part in tests.
    func finishImage() -> FirmwareImage { (try? finish()) ?? Self.image(of: bytes) }
}
