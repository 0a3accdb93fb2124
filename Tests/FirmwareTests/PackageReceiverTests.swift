import Files
import Firmware
import Glibc
import LwM2M
import TestSupport
import Testing

@Suite struct PackageReceiverTests {
    static func receiver(_ fixture: PackageFixture, board: String = "test-board") throws -> (PackageReceiver, FileFirmwareImageStore) {
        let store = FileFirmwareImageStore(stateDirectory: fixture.path("state"), maximumSize: 1 << 24)
        let receiver = PackageReceiver(store: store, key: try fixture.publicKey(), board: board,
                                       headerPath: fixture.path("state") + "/firmware/package.header")
        return (receiver, store)
    }

    static func feed(_ receiver: PackageReceiver, _ bytes: ArraySlice<UInt8>, blockSize: Int = 1024) throws(PackageReceiveError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let end = min(offset + blockSize, bytes.endIndex)
            try receiver.append(Array(bytes[offset..<end]))
            offset = end
        }
    }

    @Test func storesOnlyTheVerifiedImage() throws {
        let fixture = try PackageFixture(imageSize: 70_000)
        let package = try fixture.package()
        let (receiver, store) = try Self.receiver(fixture)
        try receiver.reset()
        try Self.feed(receiver, package[...], blockSize: 1024)
        let (image, manifest) = try receiver.finish()
        #expect(manifest.version == "2.1.0")
        #expect(try readFile(image.path) == fixture.image)
        #expect(image.digest == manifest.sha256)
        #expect(!FileReader.exists(receiver.headerPath))
        #expect(store.size == 0)
    }

    @Test func aPackageForAnotherBoardIsRefusedBeforeItsImage() throws {
        let fixture = try PackageFixture(imageSize: 50_000)
        let package = try fixture.package(board: "other-board")
        let (receiver, store) = try Self.receiver(fixture)
        try receiver.reset()
        // The header fits in the first block: the first append already refuses.
        #expect(throws: PackageReceiveError.package(.wrongBoard(expected: "test-board", found: "other-board"))) {
            try receiver.append(Array(package.prefix(1024)))
        }
        #expect(store.size == 0)
        #expect(!FileReader.exists(receiver.headerPath))
    }

    @Test func aCorruptedImageNeverStaysOnDisk() throws {
        let fixture = try PackageFixture(imageSize: 30_000)
        var package = try fixture.package()
        package[package.count - 100] ^= 0xFF
        let (receiver, store) = try Self.receiver(fixture)
        try receiver.reset()
        try Self.feed(receiver, package[...])
        #expect(throws: PackageReceiveError.package(.digestMismatch)) { try receiver.finish() }
        #expect(!FileReader.exists(store.imagePath))
        #expect(try readFile(store.partialPath) == [])
        // Truncated: refused as well.
        let good = try fixture.package()
        try receiver.reset()
        try Self.feed(receiver, good.dropLast(10))
        #expect(throws: PackageReceiveError.package(.truncated(expected: Int64(good.count), received: Int64(good.count - 10)))) {
            try receiver.finish()
        }
        #expect(!FileReader.exists(store.imagePath))
    }

    @Test func resumesAfterARestart() throws {
        let fixture = try PackageFixture(imageSize: 80_000)
        let package = try fixture.package()
        do {
            let (receiver, _) = try Self.receiver(fixture)
            try receiver.reset()
            try Self.feed(receiver, package.prefix(40_000))
            #expect(receiver.received == 40_000)
        }
        let (receiver, store) = try Self.receiver(fixture)
        let stored = try store.resume()
        let offset = try receiver.resume(storedImageBytes: stored)
        #expect(offset == 40_000)
        try Self.feed(receiver, package[Int(offset)...])
        let (image, _) = try receiver.finish()
        #expect(try readFile(image.path) == fixture.image)
        // A restart before the header completed starts over.
        try receiver.reset()
        try receiver.append(Array(package.prefix(20)))
        let (again, againStore) = try Self.receiver(fixture)
        #expect(try again.resume(storedImageBytes: try againStore.resume()) == 0)
    }
}
