@testable import AgentDaemon
import Files
import Firmware
import Glibc
import LwM2M
import Synchronization
import TestSupport
import Testing

/// What the daemon's firmware wiring does after a kill -9 or a power cut (docs/firmware-update.md,
/// "Power cuts and crashes"); the same over the wire in Tests/interop/test_firmware_kill.py.
@Suite("firmware recovery after a crash")
struct FirmwareRecoveryTests {
    @Test("a signed package is cut back inside its image after a restart and completes verified")
    func signedResumeInsideABlock() throws {
        let scratch = try TemporaryDirectory(prefix: "fw-recovery")
        let key = try PackageSigningKey()
        let image = testBytes(count: 10_000, seed: 3)
        let manifest = try PackageManifest(board: "b", version: "1.0", size: Int64(image.count), sha256: SHA256Digest.of(image))
        let package = try PackageHeader.signed(manifest, with: key) + image
        let header = Int64(package.count - image.count)
        do {
            let signed = SignedPackageStore(files: FileFirmwareImageStore(stateDirectory: scratch.path, maximumSize: 1 << 20),
                                            key: try key.publicKey(), board: "b")
            try signed.reset()
            try signed.append(Array(package[0..<6000]))
        }  // the agent dies here with 6000 package bytes stored
        let files = FileFirmwareImageStore(stateDirectory: scratch.path, maximumSize: 1 << 20)
        let signed = SignedPackageStore(files: files, key: try key.publicKey(), board: "b")
        #expect(signed.resume() == 6000)
        #expect(signed.headerSize == header)
        let sink = ImageStoreSink(store: signed)
        try sink.truncate(to: 5120)  // a CoAP resume: back to the 1024-byte block boundary
        #expect(sink.size == 5120 && files.size == 5120 - header)
        #expect(throws: DownloadSinkError.self) { try sink.truncate(to: header - 1) }  // inside the header
        try signed.append(Array(package[5120...]))
        let done = try signed.finish()
        #expect(done.digest == SHA256Digest.of(image))
        #expect(try readFile(done.path) == image)
    }

    @Test("a cut back to a byte that was not stored, or to a header that no longer verifies, is refused")
    func signedCutRefusals() throws {
        let scratch = try TemporaryDirectory(prefix: "fw-recovery")
        let key = try PackageSigningKey()
        let image = testBytes(count: 4000, seed: 4)
        let manifest = try PackageManifest(board: "b", version: "1.0", size: Int64(image.count), sha256: SHA256Digest.of(image))
        let package = try PackageHeader.signed(manifest, with: key) + image
        let files = FileFirmwareImageStore(stateDirectory: scratch.path, maximumSize: 1 << 20)
        let signed = SignedPackageStore(files: files, key: try key.publicKey(), board: "b")
        try signed.reset()
        try signed.append(Array(package[0..<3000]))
        #expect(throws: FirmwareStoreError.self) { try signed.truncate(to: 3001) }
        try writeFile("\(files.directory)/package.header", [0x4C, 0x57])  // damaged
        #expect(throws: FirmwareStoreError.self) { try signed.truncate(to: 2048) }
    }

    @Test("an installer left running by a killed agent is stopped with everything it started")
    func leftoverInstallerStopped() throws {
        let scratch = try TemporaryDirectory(prefix: "fw-recovery")
        let leftovers = LeftoverInstallers(stateDirectory: scratch.path)
        let child = scratch.file("child.pid")
        let marker = leftovers.marker
        let ending = Mutex<InstallerProcess.Ending?>(nil)
        let join = startThread {
            let process = InstallerProcess(timeout: .seconds(60), environment: [marker])
            let result = process.run(["/bin/sh", "-c", "sleep 30 & echo $! > \(child); wait"])
            ending.withLock { $0 = result.ending }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileReader.exists(child), ContinuousClock.now < deadline { usleep(10_000) }
        usleep(50_000)
        let sleeper = Int32(try readTextFile(child).split(separator: "\n")[0])!
        #expect(leftovers.running().contains(sleeper))  // the hook's child carries the marker too
        #expect(LeftoverInstallers(stateDirectory: scratch.path + "-other").running().isEmpty)  // another agent's are not ours
        let stopped = leftovers.stop()
        #expect(stopped.count == 2 && stopped.contains(sleeper))
        join()
        #expect(ending.withLock { $0 } == .signaled(SIGKILL))
        #expect(leftovers.running().isEmpty)
        #expect(!LeftoverInstallers.isRunning(sleeper))
        #expect(leftovers.stop().isEmpty)  // nothing left: nothing to do
    }

    @Test("the marker reaches the installer's environment, added to the daemon's own")
    func markerInEnvironment() throws {
        let scratch = try TemporaryDirectory(prefix: "fw-recovery")
        let result = InstallerProcess(environment: ["LWM2M_AGENT_FIRMWARE_INSTALL=/state dir"])
            .run(["/bin/sh", "-c", "printf '%s|%s' \"$LWM2M_AGENT_FIRMWARE_INSTALL\" \"$PATH\""])
        #expect(result.ending == .exited(0))
        #expect(result.text == "/state dir|" + String(cString: getenv("PATH")))
        _ = scratch
    }

    @Test("an image is checked against its recorded size and digest before the installer gets it")
    func imageCheck() throws {
        let scratch = try TemporaryDirectory(prefix: "fw-recovery")
        let bytes = testBytes(count: 100_000, seed: 5)
        let path = scratch.file("image")
        try writeFile(path, bytes)
        let image = FirmwareImage(path: path, size: Int64(bytes.count), digest: SHA256Digest.of(bytes))
        #expect(ImageCheck.mismatch(image) == nil)
        var altered = bytes
        altered[70_000] ^= 0x01
        try writeFile(path, altered)
        #expect(ImageCheck.mismatch(image)?.contains("does not match the digest") == true)
        try writeFile(path, Array(bytes[0..<99_999]))
        #expect(ImageCheck.mismatch(image)?.contains("99999 bytes") == true)
        _ = unlink(path)
        #expect(ImageCheck.mismatch(image) != nil)
    }
}
