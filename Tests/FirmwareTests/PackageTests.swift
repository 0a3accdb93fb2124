import Files
import Firmware
import Glibc
import LwM2M
import TestSupport
import Testing

/// Vendor keys made by openssl (not by the code under test) and packages signed with them.
final class PackageFixture {
    let scratch: TemporaryDirectory
    let image: [UInt8]
    init(imageSize: Int = 100_000) throws {
        scratch = try TemporaryDirectory(prefix: "fwpkg")
        image = testBytes(count: imageSize, seed: 42)
        for name in ["vendor", "other"] {
            let key = try ChildProcess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                            "-out", path("\(name).key")])
            try #require(key.succeeded, "\(key.text)")
            let pub = try ChildProcess.run(["openssl", "pkey", "-in", path("\(name).key"), "-pubout", "-out", path("\(name).pub")])
            try #require(pub.succeeded, "\(pub.text)")
        }
        try writeFile(path("image.bin"), image)
    }
    func path(_ name: String) -> String { scratch.file(name) }
    func signingKey(_ name: String = "vendor") throws -> PackageSigningKey { try PackageSigningKey(encoded: readFile(path("\(name).key"))) }
    func publicKey(_ name: String = "vendor") throws -> PackagePublicKey { try PackagePublicKey(encoded: readFile(path("\(name).pub"))) }

    /// Signs image.bin into package.fw for `board` and returns the package bytes.
    func package(board: String = "test-board", version: String = "2.1.0") throws -> [UInt8] {
        try PackageFile.sign(image: path("image.bin"), to: path("package.fw"), board: board, version: version, key: signingKey())
        return try readFile(path("package.fw"))
    }

    /// The error PackageFile.verify reports for `bytes` (nil when it verifies).
    func verifyError(_ bytes: [UInt8], key: String = "vendor", board: String? = "test-board") throws -> PackageError? {
        try writeFile(path("candidate.fw"), bytes)
        do {
            _ = try PackageFile.verify(path("candidate.fw"), key: publicKey(key), board: board)
            return nil
        } catch {
            guard case .package(let packageError)? = error as? PackageFileError else { Issue.record("file error \(error)"); return nil }
            return packageError
        }
    }
}

@Suite struct PackageTests {
    @Test func signVerifyRoundTripWithOpensslKeys() throws {
        let fixture = try PackageFixture()
        let package = try fixture.package()
        let (manifest, offset) = try PackageFile.verify(fixture.path("package.fw"), key: fixture.publicKey(), board: "test-board")
        #expect(manifest.board == "test-board")
        #expect(manifest.version == "2.1.0")
        #expect(manifest.size == 100_000)
        #expect(Array(package[Int(offset)...]) == fixture.image)
        let sha = try ChildProcess.run(["sha256sum", fixture.path("image.bin")])
        #expect(hex(manifest.sha256) == String(sha.text.prefix(64)))
        // Any board when none is asked for.
        #expect(try fixture.verifyError(package, board: nil) == nil)
    }

    @Test func theSignatureVerifiesWithOpenssl() throws {
        // The header's signature is a standard ECDSA/SHA-256 signature over magic…manifest.
        let fixture = try PackageFixture(imageSize: 1000)
        let package = try fixture.package()
        let manifestLength = Int(package[8]) << 8 | Int(package[9])
        let signedEnd = 10 + manifestLength
        let signatureLength = Int(package[signedEnd]) << 8 | Int(package[signedEnd + 1])
        try writeFile(fixture.path("signed.bin"), Array(package[0..<signedEnd]))
        try writeFile(fixture.path("sig.der"), Array(package[(signedEnd + 2)..<(signedEnd + 2 + signatureLength)]))
        let check = try ChildProcess.run(["openssl", "dgst", "-sha256", "-verify", fixture.path("vendor.pub"),
                                          "-signature", fixture.path("sig.der"), fixture.path("signed.bin")])
        #expect(check.succeeded, "\(check.text)")
        #expect(check.text.contains("Verified OK"))
        let manifest = String(decoding: package[10..<signedEnd], as: UTF8.self)
        #expect(manifest.hasPrefix("board=test-board\nversion=2.1.0\nsize=1000\nsha256="))
    }

    @Test func everyFailureIsTyped() throws {
        let fixture = try PackageFixture(imageSize: 5000)
        let package = try fixture.package()
        let headerLength = package.count - 5000
        #expect(try fixture.verifyError(package, key: "other") == .badSignature)
        #expect(try fixture.verifyError(package, board: "another-board") == .wrongBoard(expected: "another-board", found: "test-board"))
        var flippedImage = package
        flippedImage[headerLength + 1234] ^= 0x01
        #expect(try fixture.verifyError(flippedImage) == .digestMismatch)
        var flippedManifest = package
        flippedManifest[12] ^= 0x01  // inside "board=test-board"
        #expect(try fixture.verifyError(flippedManifest) == .badSignature)
        var flippedSignature = package
        flippedSignature[headerLength - 3] ^= 0x40
        #expect(try fixture.verifyError(flippedSignature) == .badSignature)
        #expect(try fixture.verifyError(Array(package.dropLast(1))) == .truncated(expected: Int64(package.count), received: Int64(package.count - 1)))
        // 40 bytes: inside the manifest, the header needs at least up to the signature length.
        let manifestLength = Int(package[8]) << 8 | Int(package[9])
        #expect(try fixture.verifyError(Array(package.prefix(40))) == .truncated(expected: Int64(12 + manifestLength), received: 40))
        #expect(try fixture.verifyError(package + [0]) == .trailingData)
        #expect(try fixture.verifyError(testBytes(count: 4096, seed: 9)) == .notAPackage)
        #expect(try fixture.verifyError(Array("LWM2".utf8)) == .truncated(expected: 10, received: 4))
        #expect(try fixture.verifyError([]) == .truncated(expected: 10, received: 0))
        var future = package
        future[7] = 2
        #expect(try fixture.verifyError(future) == .unsupportedFormat(2))
        var emptyManifest = package
        emptyManifest[8] = 0; emptyManifest[9] = 0
        #expect(try fixture.verifyError(emptyManifest) == .malformedManifest("manifest length 0 outside 1…4096"))
        var hugeSignature = package
        let signatureAt = 10 + (Int(package[8]) << 8 | Int(package[9]))
        hugeSignature[signatureAt] = 0x10
        #expect(try fixture.verifyError(hugeSignature) == .malformedManifest("signature length \(0x1000 + Int(package[signatureAt + 1])) outside 8...160"))
        // The Update Results these map to.
        #expect(PackageError.badSignature.updateResult.rawValue == 5)
        #expect(PackageError.digestMismatch.updateResult.rawValue == 5)
        #expect(PackageError.truncated(expected: 1, received: 0).updateResult.rawValue == 5)
        #expect(PackageError.wrongBoard(expected: "a", found: "b").updateResult.rawValue == 6)
        #expect(PackageError.notAPackage.updateResult.rawValue == 6)
    }

    @Test func manifestParsingIsStrict() throws {
        let digest = String(repeating: "ab", count: 32)
        let good = "board=b\nversion=1\nsize=10\nsha256=\(digest)\n"
        let manifest = try PackageManifest(parsing: Array(good.utf8))
        #expect(manifest.encoded == Array(good.utf8))
        for bad in [
            "board=b\nversion=1\nsize=10\nsha256=\(digest)",           // no final newline
            "version=1\nboard=b\nsize=10\nsha256=\(digest)\n",         // order
            "board=b\nversion=1\nsize=-1\nsha256=\(digest)\n",         // negative size
            "board=b\nversion=1\nsize=+1\nsha256=\(digest)\n",
            "board=b\nversion=1\nsize=10\nsha256=\(digest.uppercased())\n",
            "board=b\nversion=1\nsize=10\nsha256=abcd\n",
            "board=b c\nversion=1\nsize=10\nsha256=\(digest)\n",       // space
            "board=\nversion=1\nsize=10\nsha256=\(digest)\n",          // empty
            "board=b\nversion=1\nsize=10\nsha256=\(digest)\nextra=1\n",
            "board=b\nversion=1\nsize=99999999999999999999\nsha256=\(digest)\n",
        ] {
            #expect(throws: PackageError.self, "\(bad)") { try PackageManifest(parsing: Array(bad.utf8)) }
        }
        #expect(throws: PackageError.self) { try PackageManifest(parsing: [0xFF, 0xFE, 0x0A]) }
    }

    @Test func keysAreCheckedAndKeygenRoundTrips() throws {
        let fixture = try PackageFixture(imageSize: 10)
        #expect(throws: PackageError.self) { try PackagePublicKey(encoded: Array("not a key".utf8)) }
        #expect(throws: PackageError.self) { try PackagePublicKey(encoded: []) }
        let rsa = try ChildProcess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                                        "-out", fixture.path("rsa.key")])
        try #require(rsa.succeeded)
        #expect(throws: PackageError.invalidKey("the private key is not an EC P-256 key")) {
            try PackageSigningKey(encoded: readFile(fixture.path("rsa.key")))
        }
        // A generated key's PEM files are read by openssl.
        let generated = try PackageSigningKey()
        try writeFile(fixture.path("gen.key"), generated.privateKeyPEM)
        try writeFile(fixture.path("gen.pub"), generated.publicKeyPEM)
        let check = try ChildProcess.run(["openssl", "pkey", "-in", fixture.path("gen.key"), "-pubout"])
        #expect(check.succeeded)
        #expect(check.text == String(decoding: generated.publicKeyPEM, as: UTF8.self))
        let digest = [UInt8](repeating: 7, count: 32)
        #expect(try generated.publicKey().verifies(generated.sign(digest: digest), digest: digest))
        #expect(try !fixture.publicKey().verifies(generated.sign(digest: digest), digest: digest))
    }
}
