import Files
import Firmware
import Glibc
import LwM2M
import TestSupport
import Testing

@Suite struct FileFirmwareImageStoreTests {
    /// sha256sum's digest of a file: a hash computed by another implementation than ours.
    static func sha256sum(_ path: String) throws -> String {
        let result = try ChildProcess.run(["sha256sum", path])
        #expect(result.succeeded)
        return String(result.text.prefix(64))
    }

    static func append(_ store: FileFirmwareImageStore, _ bytes: [UInt8], blockSize: Int) throws {
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + blockSize, bytes.count)
            try store.append(Array(bytes[offset..<end]))
            offset = end
        }
    }

    @Test func streamsToThePartialAndFinishesIntoTheImage() throws {
        let state = try TemporaryDirectory(prefix: "fwstore")
        let store = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 24)
        let image = testBytes(count: 300_000, seed: 1)
        try store.reset()
        try Self.append(store, Array(image[0..<150_000]), blockSize: 1024)
        #expect(store.size == 150_000)
        #expect(try readFile(store.partialPath) == Array(image[0..<150_000]))
        #expect(!FileReader.exists(store.imagePath))
        try Self.append(store, Array(image[150_000...]), blockSize: 1000)
        let finished = try store.finish()
        #expect(finished.path == state.path + "/firmware/image")
        #expect(finished.size == 300_000)
        #expect(try readFile(finished.path) == image)
        #expect(!FileReader.exists(store.partialPath))
        #expect(hex(finished.digest) == (try Self.sha256sum(finished.path)))
        var info = stat()
        #expect(stat(finished.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        // A reset discards the finished image too.
        try store.reset()
        #expect(!FileReader.exists(store.imagePath))
        #expect(store.size == 0)
    }

    @Test func resumesThePartialAndRehashesIt() throws {
        let state = try TemporaryDirectory(prefix: "fwstore")
        let image = testBytes(count: 200_000, seed: 2)
        do {
            let first = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 24)
            try first.reset()
            try Self.append(first, Array(image[0..<123_456]), blockSize: 512)
        }  // the process "dies": the next one finds the partial
        let second = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 24)
        #expect(try second.resume() == 123_456)
        // The downloader resumes on a block boundary.
        try second.truncate(to: 120_832)
        #expect(second.size == 120_832)
        try Self.append(second, Array(image[120_832...]), blockSize: 1024)
        let finished = try second.finish()
        #expect(try readFile(finished.path) == image)
        #expect(hex(finished.digest) == (try Self.sha256sum(finished.path)))
        // Nothing to resume: an empty partial.
        let third = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 24)
        #expect(try third.resume() == 0)
        #expect(try readFile(third.partialPath) == [])
    }

    @Test func refusesImagesOverTheMaximumSizeAndKeepsThePartial() throws {
        let state = try TemporaryDirectory(prefix: "fwstore")
        let store = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 10_000)
        try store.reset()
        try store.append(testBytes(count: 9_000, seed: 3))
        #expect(throws: FirmwareStoreError.tooLarge(limit: 10_000)) { try store.append(testBytes(count: 1_001, seed: 4)) }
        #expect(store.size == 9_000)
        #expect(try readFile(store.partialPath) == testBytes(count: 9_000, seed: 3))
        try store.append(testBytes(count: 1_000, seed: 4))
        let finished = try store.finish()
        #expect(finished.size == 10_000)
        #expect(hex(finished.digest) == (try Self.sha256sum(finished.path)))
    }

    @Test func checksFreeSpaceBeforeAndDuringTheDownload() throws {
        let state = try TemporaryDirectory(prefix: "fwstore")
        let partial = state.path + "/firmware/image.partial"
        // A fake file system of `capacity` bytes holding the partial (and whatever else uses it).
        var capacity: Int64 = 1_000_000
        var probed: [String] = []
        let store = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 30, reserve: 1_000_000) { path in
            probed.append(path)
            var info = stat()
            return capacity - (stat(partial, &info) == 0 ? Int64(info.st_size) : 0)
        }
        // Before: nothing beyond the reserve is free.
        #expect(throws: FirmwareStoreError.insufficientStorage) { try store.reset() }
        capacity = 3_000_000
        try store.reset()
        #expect(probed.last == state.path + "/firmware")
        try Self.append(store, testBytes(count: 900_000, seed: 5), blockSize: 1024)
        // During: someone else fills the disk; the store notices within 1 MiB of its own writes.
        capacity = 2_000_000
        #expect(throws: FirmwareStoreError.insufficientStorage) {
            try Self.append(store, testBytes(count: 400_000, seed: 6), blockSize: 1024)
        }
        #expect(store.size > 900_000 && store.size <= 1 << 20)
        #expect(Int64(try readFile(partial).count) == store.size)
        // The free space is enough again: the download goes on from where it stopped.
        capacity = 10_000_000
        try store.append(testBytes(count: 1024, seed: 7))
    }

    @Test func anAnnouncedSizeIsCheckedBeforeTheFirstByte() throws {
        let state = try TemporaryDirectory(prefix: "fwstore")
        let store = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 50_000_000, reserve: 1_000) { _ in 10_000_000 }
        try store.reset()
        #expect(throws: FirmwareStoreError.tooLarge(limit: 50_000_000)) { try store.checkAnnouncedSize(50_000_001) }
        #expect(throws: FirmwareStoreError.insufficientStorage) { try store.checkAnnouncedSize(9_999_001) }
        try store.checkAnnouncedSize(9_999_000)
        // Resumed: only what is still missing has to fit.
        try store.append(testBytes(count: 5_000, seed: 10))
        try store.checkAnnouncedSize(10_004_000)
        #expect(throws: FirmwareStoreError.insufficientStorage) { try store.checkAnnouncedSize(10_004_001) }
    }

    /// The budget from the last check is used before re-checking: a block larger than it is checked at once.
    @Test func aBlockBeyondTheKnownBudgetIsCheckedFirst() throws {
        let state = try TemporaryDirectory(prefix: "fwstore")
        var calls = 0
        let store = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 30, reserve: 100) { _ in
            calls += 1
            return 5_000
        }
        try store.reset()
        try store.append(testBytes(count: 4_000, seed: 8))
        #expect(calls == 1)
        #expect(throws: FirmwareStoreError.insufficientStorage) { try store.append(testBytes(count: 4_901, seed: 9)) }
        #expect(calls == 2)
        #expect(store.size == 4_000)
    }

    @Test func aRealFullFileSystemIsInsufficientStorage() throws {
        // A 64 KiB tmpfs would need mount privileges; /dev/full gives ENOSPC on every write.
        #expect(FileReader.exists("/dev/full"))
        let state = try TemporaryDirectory(prefix: "fwstore")
        let store = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 24, reserve: 0)
        try store.reset()
        try store.append(testBytes(count: 4096, seed: 7))
        // Swap the partial for /dev/full behind the store's back: the next write fails with ENOSPC.
        unlink(store.partialPath)
        #expect(symlink("/dev/full", store.partialPath) == 0)
        let resumed = FileFirmwareImageStore(stateDirectory: state.path, maximumSize: 1 << 24, reserve: 0)
        _ = try? resumed.resume()
        #expect(throws: FirmwareStoreError.insufficientStorage) { try resumed.append(testBytes(count: 4096, seed: 8)) }
    }
}
