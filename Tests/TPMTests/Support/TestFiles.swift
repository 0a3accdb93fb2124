import Files

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TestSupport

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

/// The permission bits of `path`.
func fileMode(_ path: String) -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return info.st_mode & 0o777
}
