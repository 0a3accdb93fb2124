import CoAP
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure of the test fixtures themselves (a tool missing, a file unreadable), not of the
/// code under test.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory under /tmp, removed with its content when released (kept when
/// LWM2M_KEEP_TEST_FILES is set, for the peers' logs).
public final class TemporaryDirectory {
    public let path: String

    public init(prefix: String) throws(TestFailure) {
        var template = Array("/tmp/lwm2m-\(prefix)-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp failed")
        }
        path = String(cString: created)
    }

    /// `name` inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        if getenv("LWM2M_KEEP_TEST_FILES") == nil { _ = try? ChildProcess.run(["rm", "-rf", path]) }
    }
}

/// Reads a whole file.
public func readFile(_ path: String) throws(TestFailure) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TestFailure("cannot read \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let count = read(fd, &chunk, chunk.count)
        if count <= 0 { return bytes }
        bytes += chunk[0..<count]
    }
}

/// Reads a whole file as UTF-8 text.
public func readTextFile(_ path: String) throws(TestFailure) -> String {
    String(decoding: try readFile(path), as: UTF8.self)
}

/// Writes `bytes` to `path` (mode 0600), replacing it; missing parent directories are created.
public func writeFile(_ path: String, _ bytes: [UInt8]) throws(TestFailure) {
    var parent = ""
    for component in path.split(separator: "/").dropLast() {
        parent += (parent.isEmpty && !path.hasPrefix("/") ? "" : "/") + component
        if mkdir(parent, 0o700) != 0 && errno != EEXIST { throw TestFailure("cannot create \(parent)") }
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw TestFailure("cannot write \(path)") }
    defer { close(fd) }
    guard write(fd, bytes, bytes.count) == bytes.count else { throw TestFailure("short write to \(path)") }
}

/// Lowercase hex of `bytes`.
public func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

/// Deterministic test bytes, distinct per seed (SplitMix64, the generator the CoAP endpoint uses).
public func testBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 | 1)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}
