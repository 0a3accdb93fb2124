import Firmware
import Glibc
import LwM2M

/// Checks a stored firmware image against what the image store recorded when it completed it
/// (size and SHA-256) before an installer gets it: a file changed on disk since (a power cut on
/// a file system without ordered writes, flash wear, a hand) must never be installed.
enum ImageCheck {
    /// nil when the file at `image.path` has `image.size` bytes with digest `image.digest`;
    /// otherwise why not (for the log and the install failure's detail).
    static func mismatch(_ image: FirmwareImage) -> String? {
        let fd = open(image.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return "the image \(image.path) does not match the stored one: \(String(cString: strerror(errno)))"
        }
        defer { close(fd) }
        let digest = SHA256Digest()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var total: Int64 = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                return "the image \(image.path) does not match the stored one: read: \(String(cString: strerror(errno)))"
            }
            if count == 0 { break }
            chunk.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += Int64(count)
        }
        guard total == image.size, digest.current() == image.digest else {
            return "the image \(image.path) does not match the digest recorded when it was stored (\(total) bytes, \(image.size) recorded)"
        }
        return nil
    }
}
