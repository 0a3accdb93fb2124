import Glibc
import Storage
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
        #expect(try AtomicFile.read(path) == [1, 2, 3])
        try AtomicFile.write(Array(repeating: 7, count: 40_000), to: path)
        #expect(try AtomicFile.read(path) == Array(repeating: 7, count: 40_000))
        #expect(try AtomicFile.list(directory) == ["state.bin"])
        try AtomicFile.remove(path)
        try AtomicFile.remove(path)
        #expect(!AtomicFile.exists(path))
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
            _ = try AtomicFile.read("/nonexistent/lwm2m/file")
            Issue.record("read succeeded")
        } catch {
            #expect(error.isNotFound)
            #expect(error.description.contains("/nonexistent/lwm2m/file"))
        }
    }

    @Test func createsNestedDirectoriesAndCleansTemporaries() throws {
        let base = temporaryDirectory()
        let nested = "\(base)/a/b/c"
        try AtomicFile.createDirectory(nested)
        try AtomicFile.createDirectory(nested)
        let fd = open("\(nested)/state.tmp-123", O_CREAT | O_WRONLY, 0o600)
        close(fd)
        AtomicFile.removeTemporaryFiles(in: nested)
        #expect(try AtomicFile.list(nested) == [])
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
        #expect(try AtomicFile.read(path) == [1])
        rmdir(obstacle)
        // A read-only directory: the same, except for root, which ignores directory permissions.
        guard getuid() != 0 else { return }
        chmod(directory, 0o500)
        defer { chmod(directory, 0o700) }
        #expect(throws: FileError.self) { try AtomicFile.write([3], to: path) }
        #expect(try AtomicFile.read(path) == [1])
    }
}
