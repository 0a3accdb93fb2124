import Files

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fresh directory under /tmp, removed with its content when released.
final class TemporaryDirectory {
    let path: String

    init(prefix: String) throws {
        var template = Array("/tmp/lwm2m-tpm-\(prefix)-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FixtureError("mkdtemp failed")
        }
        path = String(cString: created)
    }

    /// Kept when LWM2M_TPM_KEEP_TEST_FILES is set (swtpm logs for diagnosis).
    deinit {
        if getenv("LWM2M_TPM_KEEP_TEST_FILES") == nil { _ = try? Subprocess.run(["rm", "-rf", path]) }
    }
}

/// Every regular file below `directory` (recursively) with its content.
func filesBelow(_ directory: String) throws -> [(path: String, bytes: [UInt8])] {
    var result: [(String, [UInt8])] = []
    for name in try Directory.list(directory) {
        let path = "\(directory)/\(name)"
        var info = stat()
        guard stat(path, &info) == 0 else { continue }
        if info.st_mode & S_IFMT == S_IFDIR {
            result += try filesBelow(path)
        } else {
            result.append((path, try FileReader.read(path)))
        }
    }
    return result
}

/// Whether `haystack` contains `needle` as a contiguous run.
func contains(_ haystack: [UInt8], _ needle: ArraySlice<UInt8>) -> Bool {
    guard !needle.isEmpty, needle.count <= haystack.count else { return false }
    let first = needle.first!
    for start in 0...(haystack.count - needle.count) where haystack[start] == first {
        if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
    }
    return false
}

/// Lowercase hex of `bytes`.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

/// Deterministic test bytes (SplitMix64), distinct per seed.
func testBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
}

/// A PEM SubjectPublicKeyInfo for a P-256 public point (`04 || X || Y`): the fixed DER prefix
/// (SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING }) followed by the point.
func p256PublicKeyPEM(point: [UInt8]) -> String {
    let prefix: [UInt8] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
        0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ]
    let der = prefix + point
    let encoded = base64(der)
    var lines: [String] = ["-----BEGIN PUBLIC KEY-----"]
    var rest = Substring(encoded)
    while !rest.isEmpty {
        lines.append(String(rest.prefix(64)))
        rest = rest.dropFirst(64)
    }
    lines.append("-----END PUBLIC KEY-----")
    return lines.joined(separator: "\n") + "\n"
}

private func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    var output = ""
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
        for position in 0..<4 {
            output.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * position) & 0x3F)] : "=")
        }
        index += 3
    }
    return output
}

/// Writes `bytes` to `path` (test scratch files), creating the directory.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Directory.create(String(path[..<path.lastIndex(of: "/")!]))
    try AtomicFile.write(bytes, to: path)
}

/// The permission bits of `path`.
func fileMode(_ path: String) -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return info.st_mode & 0o777
}
