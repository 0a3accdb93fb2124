import Files
import Firmware
import Glibc
import TestSupport
import Testing

/// The real swupdate (Debian's 2022.12, built for CMS-signed images) installing .swu files made by
/// the test: a sw-description with one file entry (written to the scratch directory), signed
/// with `openssl cms` by a certificate the test makes, packed with cpio.
final class SWUpdateRig {
    let scratch: TemporaryDirectory
    let payload = Array("firmware payload \(UInt32.random(in: 0...UInt32.max))\n".utf8)

    init() throws {
        scratch = try TemporaryDirectory(prefix: "swu")
        for (name, subject) in [("vendor", "/CN=swu signer"), ("stranger", "/CN=stranger")] {
            try run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("\(name).key"),
                     "-out", file("\(name).pem"), "-days", "30", "-subj", subject,
                     "-addext", "extendedKeyUsage=emailProtection", "-addext", "keyUsage=digitalSignature"])
        }
        try writeFile(file("build/payload.bin"), payload)
        let digest = String(try ChildProcess.run(["sha256sum", file("build/payload.bin")]).text.prefix(64))
        try writeFile(file("build/sw-description"), Array("""
            software =
            {
                version = "2.1.0";
                hardware-compatibility: [ "1.0" ];
                files: (
                    {
                        filename = "payload.bin";
                        path = "\(file("installed/payload.bin"))";
                        sha256 = "\(digest)";
                    }
                );
            }

            """.utf8))
        try Directory.create(file("installed"))
        try Directory.create(file("tmp"))
    }

    func file(_ name: String) -> String { scratch.file(name) }

    func run(_ arguments: [String], input: [UInt8] = []) throws {
        let result = try ChildProcess.run(arguments, input: input)
        guard result.succeeded else { throw TestFailure("\(arguments.joined(separator: " ")): \(result.text)") }
    }

    /// A .swu signed by `signer`; `tamper` flips a payload bit after signing.
    func swu(_ name: String, signer: String = "vendor", tamper: Bool = false) throws -> String {
        try run(["openssl", "cms", "-sign", "-in", file("build/sw-description"), "-out", file("build/sw-description.sig"),
                 "-signer", file("\(signer).pem"), "-inkey", file("\(signer).key"), "-outform", "DER", "-nosmimecap", "-binary"])
        if tamper {
            var flipped = payload
            flipped[0] ^= 1
            try writeFile(file("build/payload.bin"), flipped)
        }
        defer { try? writeFile(file("build/payload.bin"), payload) }
        let archive = try ChildProcess.run(["sh", "-c", "cd '\(file("build"))' && printf 'sw-description\\nsw-description.sig\\npayload.bin\\n' | cpio -o -H crc 2>/dev/null"])
        #expect(archive.succeeded)
        try writeFile(file(name), archive.output)
        return file(name)
    }

    func installer(hardware: String = "test-board:1.0") -> SWUpdateInstaller {
        // swupdate puts its IPC sockets in $TMPDIR: two runs at once (another test process) collide.
        SWUpdateInstaller(command: ["env", "TMPDIR=\(file("tmp"))", "swupdate", "-k", file("vendor.pem"), "-H", hardware],
                          rebootRequired: false,
                          process: InstallerProcess(timeout: .seconds(60)))
    }
}

@Suite(.serialized) struct SWUpdateTests {
    @Test(requires(toolOnPath("swupdate") && toolOnPath("cpio"), "needs swupdate and cpio (scripts/setup.sh)"))
    func installsASignedImage() throws {
        let rig = try SWUpdateRig()
        let outcome = rig.installer().install(image: try rig.swu("update.swu"), version: "2.1.0")
        #expect(outcome == .installed(rebootRequired: false, record: ""))
        #expect(try readFile(rig.file("installed/payload.bin")) == rig.payload)
    }

    @Test(requires(toolOnPath("swupdate") && toolOnPath("cpio"), "needs swupdate and cpio (scripts/setup.sh)"))
    func refusalsMapToUpdateResults() throws {
        let rig = try SWUpdateRig()
        func failure(_ outcome: InstallOutcome) -> InstallFailure? {
            if case .failed(let failure, _) = outcome { return failure }
            return nil
        }
        #expect(failure(rig.installer().install(image: try rig.swu("stranger.swu", signer: "stranger"), version: "2.1.0")) == .integrityFailure)
        #expect(failure(rig.installer().install(image: try rig.swu("tampered.swu", tamper: true), version: "2.1.0")) == .integrityFailure)
        #expect(failure(rig.installer(hardware: "test-board:2.0").install(image: try rig.swu("update.swu"), version: "2.1.0")) == .unsupportedPackage)
        try writeFile(rig.file("garbage.swu"), testBytes(count: 5000, seed: 3))
        #expect(failure(rig.installer().install(image: rig.file("garbage.swu"), version: "2.1.0")) == .updateFailed)
        #expect(!FileReader.exists(rig.file("installed/payload.bin")))
    }
}
