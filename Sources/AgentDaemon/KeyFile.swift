import AgentCommon
import Credentials
import Glibc
import LwM2M

/// Why a key or certificate file could not be used (names the file, never its content).
public struct KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "\(path): \(reason)" }
}

/// Reads key and certificate files for the command line and the daemon: secrets into one
/// buffer that is zeroed afterwards, certificates as DER (PEM converted).
public enum KeyFile {
    /// The file's bytes as a secret; at most 64 KiB.
    public static func secret(_ path: String) throws(KeyFileError) -> SecretBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KeyFileError(path: path, reason: "cannot read it") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        defer { zeroize(&buffer) }
        var count = 0
        while count < buffer.count {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw KeyFileError(path: path, reason: "cannot read it") }
            if got == 0 { break }
            count += got
        }
        guard count > 0, count < buffer.count else { throw KeyFileError(path: path, reason: "empty or larger than 64 KiB") }
        return buffer.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// A PSK key: hex text (whitespace ignored) when the file is nothing else, raw bytes otherwise.
    public static func pskKey(_ path: String) throws(KeyFileError) -> SecretBytes {
        let secret = try secret(path)
        var bytes = secret.copyBytes()
        defer { zeroize(&bytes) }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        var digits = bytes.filter { !isSpace($0) }
        defer { zeroize(&digits) }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        guard !digits.isEmpty, digits.count % 2 == 0, digits.allSatisfy({ nibble($0) != nil }) else { return secret }
        var key = [UInt8](repeating: 0, count: digits.count / 2)
        for index in key.indices { key[index] = nibble(digits[2 * index])! << 4 | nibble(digits[2 * index + 1])! }
        secret.wipe()
        return SecretBytes(key)
    }

    /// A certificate or private key as DER: the file as it is, or the first PEM block decoded.
    public static func der(_ path: String) throws(KeyFileError) -> SecretBytes {
        let content = try secret(path)
        var bytes = content.copyBytes()
        defer { zeroize(&bytes) }
        guard bytes.starts(with: Array("-----BEGIN".utf8)) else { return content }
        content.wipe()
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.trimmingSpaces() }
        guard let start = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN") }),
              let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("-----END") }) else {
            throw KeyFileError(path: path, reason: "unterminated PEM block")
        }
        guard let der = Base64.decode(lines[(start + 1)..<end].joined()) else {
            throw KeyFileError(path: path, reason: "PEM block is not base64")
        }
        return SecretBytes(der)
    }
}
