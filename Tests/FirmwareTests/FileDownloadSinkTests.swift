// The file sink the fetch command streams into, and the download errors' Update Result codes.
import Firmware
import Glibc
import Testing
import TestSupport

@Suite struct FileDownloadSinkTests {
    static func append(_ bytes: [UInt8], to sink: FileDownloadSink) throws(DownloadSinkError) {
        var failure: DownloadSinkError?
        bytes.withUnsafeBytes { buffer in
            do throws(DownloadSinkError) { try sink.append(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    @Test func appendsTruncatesAndResetsOnDisk() throws {
        let directory = try TemporaryDirectory(prefix: "sink")
        let path = directory.file("image")
        let sink = try FileDownloadSink(path: path)
        #expect(sink.size == 0)
        try Self.append([1, 2, 3, 4, 5], to: sink)
        try Self.append([6, 7], to: sink)
        #expect(sink.size == 7)
        try sink.truncate(to: 4)
        try Self.append([9], to: sink)
        try sink.finish()
        #expect(try readFile(path) == [1, 2, 3, 4, 9])

        let reopened = try FileDownloadSink(path: path)  // a resumed download sees what is stored
        #expect(reopened.size == 5)
        try reopened.reset()
        try Self.append([8], to: reopened)
        #expect(try readFile(path) == [8])
        #expect(throws: DownloadSinkError.self) { try reopened.truncate(to: 10) }
    }

    @Test func refusesBytesOverTheMaximumSize() throws {
        let directory = try TemporaryDirectory(prefix: "sink")
        let sink = try FileDownloadSink(path: directory.file("image"), maximumSize: 4)
        try Self.append([1, 2, 3], to: sink)
        #expect(throws: DownloadSinkError.tooLarge(limit: 4)) { try Self.append([4, 5], to: sink) }
        #expect(sink.size == 3)
    }

    @Test(requires(access("/dev/full", W_OK) == 0, "/dev/full is not writable here"))
    func fullDiskIsInsufficientStorage() throws {
        let sink = try FileDownloadSink(path: "/dev/full")
        #expect(throws: DownloadSinkError.insufficientStorage) { try Self.append([1], to: sink) }
    }

    @Test func unwritablePathIsAnIOError() {
        #expect(throws: DownloadSinkError.self) { try FileDownloadSink(path: "/nonexistent-dir/image") }
    }
}

@Suite struct FirmwareDownloadErrorTests {
    @Test func errorsMapToTheFirmwareObjectsUpdateResults() {
        #expect(FirmwareDownloadError.sink(.insufficientStorage).updateResultCode == 2)
        #expect(FirmwareDownloadError.sink(.tooLarge(limit: 1)).updateResultCode == 2)
        #expect(FirmwareDownloadError.connectionLost("x").updateResultCode == 4)
        #expect(FirmwareDownloadError.representationChanged.updateResultCode == 4)
        #expect(FirmwareDownloadError.status("HTTP 404").updateResultCode == 7)
        #expect(FirmwareDownloadError.invalidURI("x").updateResultCode == 7)
        #expect(FirmwareDownloadError.unsupportedScheme("ftp").updateResultCode == 9)
        #expect(FirmwareDownloadError.cancelled.updateResultCode == 10)
        #expect(FirmwareDownloadError.connectionLost("x").isResumable)
        #expect(!FirmwareDownloadError.tlsVerification("x").isResumable)
    }

    @Test func unsupportedSchemesAndBadURIsFailBeforeAnyIO() throws {
        let directory = try TemporaryDirectory(prefix: "fetch")
        let sink = try FileDownloadSink(path: directory.file("image"))
        guard case .failure(.unsupportedScheme("ftp")) = FirmwareFetch.run("ftp://example.org/fw", into: sink) else {
            Issue.record("ftp accepted")
            return
        }
        guard case .failure(.invalidURI) = FirmwareFetch.run("coap://[::1/fw", into: sink) else {
            Issue.record("a bad CoAP URI accepted")
            return
        }
    }
}
