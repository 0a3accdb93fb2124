import Glibc
import Files
import TestSupport
import Testing

@Suite struct AtomicFileTests {
    private func temporaryDirectory() -> String {
        var template = Array("/tmp/lwm2m-atomic-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        return path
    }

    @Test func writesReadsAndReplaces() throws {
        let directory = temporaryDirectory()
        let path = "\(directory)/state.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        #expect(try FileReader.read(path) == [1, 2, 3])
        try AtomicFile.write(Array(repeating: 7, count: 40_000), to: path)
        #expect(try FileReader.read(path) == Array(repeating: 7, count: 40_000))
        #expect(try Directory.list(directory) == ["state.bin"])
        try AtomicFile.remove(path)
        try AtomicFile.remove(path)
        #expect(!FileReader.exists(path))
    }

    /// `durable: false` (the PID file) still replaces the whole file through a temporary that is
    /// renamed over it: same content rules, mode and clean-up, only without the fsyncs.
    @Test func aNonDurableWriteStillReplacesWholly() throws {
        let directory = temporaryDirectory()
        let path = "\(directory)/daemon.pid"
        try AtomicFile.write(Array("123\n".utf8), to: path, mode: 0o644, durable: false)
        try AtomicFile.write(Array("45678\n".utf8), to: path, mode: 0o644, durable: false)
        #expect(try FileReader.read(path) == Array("45678\n".utf8))
        #expect(try Directory.list(directory) == ["daemon.pid"])
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o644)
        try AtomicFile.remove(path, durable: false)
        #expect(!FileReader.exists(path))
    }

    @Test func newFilesAreOwnerOnly() throws {
        let path = "\(temporaryDirectory())/secret-free-state"
        try AtomicFile.write([0], to: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func missingFileIsReportedAsNotFound() {
        do {
            _ = try FileReader.read("/nonexistent/lwm2m/file")
            Issue.record("read succeeded")
        } catch {
            #expect(error.isNotFound)
            #expect(error.description.contains("/nonexistent/lwm2m/file"))
        }
    }

    @Test func createsNestedDirectoriesAndCleansTemporaries() throws {
        let base = temporaryDirectory()
        let nested = "\(base)/a/b/c"
        try Directory.create(nested)
        try Directory.create(nested)
        let fd = open("\(nested)/state.tmp-123", O_CREAT | O_WRONLY, 0o600)
        close(fd)
        Directory.removeTemporaryFiles(in: nested)
        #expect(try Directory.list(nested) == [])
    }

    @Test func failingWriteLeavesTheOldContent() throws {
        let directory = temporaryDirectory()
        let path = "\(directory)/state"
        try AtomicFile.write([1], to: path)
        // A directory where the temporary file goes: creating it fails for every user, root
        // included (the test used to return early as root and assert nothing).
        let obstacle = "\(path).tmp-\(getpid())"
        #expect(mkdir(obstacle, 0o700) == 0)
        #expect(throws: FileError.self) { try AtomicFile.write([2], to: path) }
        #expect(try FileReader.read(path) == [1])
        rmdir(obstacle)
        // A read-only directory: the same (as root, the write is made as `nobody`, whom the
        // permissions stop).
        chmod(directory, 0o555)
        defer { chmod(directory, 0o700) }
        withoutRootFileAccess {
            #expect(throws: FileError.self) { try AtomicFile.write([3], to: path) }
        }
        #expect(try FileReader.read(path) == [1])
    }

    // Issue 10, defect 12: a FIFO (or a device) where a file should be is refused at once,
    // never waited on, and a size limit bounds what is read.
    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let path = "\(temporaryDirectory())/configuration.json"
        #expect(mkfifo(path, 0o600) == 0)
        let started = MonotonicInstant.now()
        do {
            _ = try FileReader.read(path)
            Issue.record("read a FIFO")
        } catch {
            #expect(error.description == "read \(path): a FIFO, not a regular file")
            #expect(!error.isNotFound)
        }
        #expect(MonotonicInstant.now() - started < 1_000_000_000)
    }

    @Test func aDeviceIsRefused() {
        #expect(throws: FileError.self) { try FileReader.read("/dev/zero", maximumSize: 4096) }
        do {
            _ = try FileReader.read("/dev/zero")
        } catch {
            #expect(error.description == "read /dev/zero: a character device, not a regular file")
        }
    }

    @Test func theSizeLimitIsEnforced() throws {
        let path = "\(temporaryDirectory())/serial"
        try AtomicFile.write(Array(repeating: 0x38, count: 5000), to: path)
        #expect(try FileReader.read(path, maximumSize: 5000).count == 5000)
        do {
            _ = try FileReader.read(path, maximumSize: 4096)
            Issue.record("read past the limit")
        } catch {
            #expect(error.description == "read \(path): larger than 4096 bytes")
        }
        // /proc files report size 0: the read loop enforces the limit too.
        #expect(throws: FileError.self) { try FileReader.read("/proc/self/maps", maximumSize: 16) }
        #expect(try FileReader.read("/proc/self/status").count > 0)
    }
}

/// CLOCK_MONOTONIC in nanoseconds (Storage tests do not link the transport module).
private enum MonotonicInstant {
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
