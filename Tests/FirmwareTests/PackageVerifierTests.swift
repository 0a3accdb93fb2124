import CoAP
import Firmware
import TestSupport
import Testing

@Suite struct PackageVerifierTests {
    /// Feeds `package` in chunks of the given sizes (cycled); returns the image bytes seen and the verdict.
    static func feed(_ package: [UInt8], chunks: [Int], key: PackagePublicKey) throws(PackageError) -> ([UInt8], PackageManifest) {
        var verifier = PackageVerifier(key: key, board: "test-board")
        var image: [UInt8] = []
        var offset = 0
        var turn = 0
        while offset < package.count {
            let end = min(offset + chunks[turn % chunks.count], package.count)
            let chunk = Array(package[offset..<end])
            let start = try verifier.consume(chunk)
            image += chunk[start...]
            offset = end
            turn += 1
        }
        return (image, try verifier.finish(imageDigest: SHA256Digest.of(image)))
    }

    @Test func anyChunkingGivesTheSameVerdict() throws {
        let fixture = try PackageFixture(imageSize: 3000)
        let package = try fixture.package()
        let key = try fixture.publicKey()
        for chunks in [[1], [2, 3], [7], [10], [11, 1], [1024], [package.count], [5, 200, 1]] {
            let (image, manifest) = try Self.feed(package, chunks: chunks, key: key)
            #expect(image == fixture.image, "chunks \(chunks)")
            #expect(manifest.size == 3000)
        }
    }

    @Test func randomDamageIsAlwaysATypedRefusal() throws {
        let fixture = try PackageFixture(imageSize: 500)
        let package = try fixture.package()
        let key = try fixture.publicKey()
        var generator = SplitMix64(seed: 2026)
        for round in 0..<300 {
            var damaged = package
            let position = Int(generator.next() % UInt64(damaged.count))
            switch round % 3 {
            case 0: damaged[position] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            case 1: damaged.removeSubrange(position...)
            default: damaged.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
            }
            #expect(throws: PackageError.self, "round \(round) at \(position)") {
                _ = try Self.feed(damaged, chunks: [Int(generator.next() % 64) + 1], key: key)
            }
        }
    }

    @Test func resumingReverifiesTheSavedHeader() throws {
        let fixture = try PackageFixture(imageSize: 2000)
        let package = try fixture.package()
        var first = PackageVerifier(key: try fixture.publicKey(), board: "test-board")
        _ = try first.consume(Array(package.prefix(1500)))
        let header = try #require(first.completeHeader)
        var resumed = PackageVerifier(key: try fixture.publicKey(), board: "test-board")
        try resumed.resume(header: header, imageBytes: Int64(1500 - header.count))
        #expect(resumed.received == 1500)
        var otherKey = PackageVerifier(key: try fixture.publicKey("other"), board: "test-board")
        #expect(throws: PackageError.badSignature) { try otherKey.resume(header: header, imageBytes: 0) }
        var tooMuch = PackageVerifier(key: try fixture.publicKey(), board: "test-board")
        #expect(throws: PackageError.trailingData) { try tooMuch.resume(header: header, imageBytes: 2001) }
    }
}
