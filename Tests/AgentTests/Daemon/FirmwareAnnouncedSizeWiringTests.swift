import Firmware
import Glibc
import LwM2M
import Testing
@testable import AgentDaemon

/// A pull's announced size (CoAP Size2, HTTP Content-Length) reaches the image store through the
/// daemon's sink before a byte is stored: over the maximum or the free space it is refused with
/// the storage errors that end in Update Result 2.
@Suite("firmware announced sizes")
struct FirmwareAnnouncedSizeWiringTests {
    private func directory() -> String {
        var template = Array("/tmp/fw-announced-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test("the pull sink asks the file store about the announced size")
    func fileStore() throws {
        let files = FileFirmwareImageStore(stateDirectory: directory(), maximumSize: 1 << 20, reserve: 1000) { _ in 600_000 }
        let sink = ImageStoreSink(store: files)
        try sink.reset()
        #expect(throws: DownloadSinkError.tooLarge(limit: 1 << 20)) { try sink.expectTotal((1 << 20) + 1) }
        #expect(throws: DownloadSinkError.insufficientStorage) { try sink.expectTotal(599_001) }
        try sink.expectTotal(599_000)
        #expect(files.size == 0)
        #expect(sink.rejection == nil)
    }

    @Test("the signed store forwards the package's announced size to the file store")
    func signedStore() throws {
        let files = FileFirmwareImageStore(stateDirectory: directory(), maximumSize: 1 << 20, reserve: 0) { _ in 100_000 }
        let signed = SignedPackageStore(files: files, key: try PackageSigningKey().publicKey(), board: "b")
        let sink = ImageStoreSink(store: signed)
        try sink.reset()
        #expect(throws: DownloadSinkError.insufficientStorage) { try sink.expectTotal(100_001) }
        try sink.expectTotal(100_000)
    }
}
