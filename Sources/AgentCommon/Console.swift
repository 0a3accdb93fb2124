import Glibc

/// Unbuffered writes to standard output and standard error (write(2), no stdio globals).
public enum Console {
    /// Writes `text` to standard error.
    public static func error(_ text: String) { write(Array(text.utf8), to: 2) }

    /// Writes raw bytes to standard output.
    public static func output(_ bytes: [UInt8]) { write(bytes, to: 1) }

    /// Writes all of `bytes` to `descriptor`, retrying after EINTR and short writes.
    public static func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }
}
