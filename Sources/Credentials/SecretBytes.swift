/// Bytes of a secret (a PSK, a private key) held in memory only as long as needed.
///
/// A reference type on purpose: the bytes live in one heap buffer that is zeroed when the last
/// reference goes away, so copies of the secret never linger in freed memory. The description is
/// redacted, so a secret never reaches a log line through string interpolation.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    private var storage: [UInt8]

    /// Takes ownership of `bytes`; the caller should zero its own copy if it has one.
    public init(_ bytes: [UInt8]) {
        storage = bytes
    }

    /// Copies `count` bytes from `pointer`.
    public init(copying pointer: UnsafeRawBufferPointer) {
        storage = Array(pointer)
    }

    deinit {
        wipe()
    }

    /// Number of secret bytes.
    public var count: Int { storage.count }

    /// Whether there are no bytes.
    public var isEmpty: Bool { storage.isEmpty }

    /// Lends the bytes to `body`; do not let the pointer escape.
    public func withUnsafeBytes<R, E: Error>(
        _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        var result: Result<R, E>?
        storage.withUnsafeBytes { buffer in
            do throws(E) { result = .success(try body(buffer)) } catch { result = .failure(error) }
        }
        return try result!.get()
    }

    /// A copy of the bytes as an array, for APIs that need one (the caller must zero it).
    public func copyBytes() -> [UInt8] { storage }

    /// Compares in constant time with respect to the content.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard storage.count == other.storage.count else { return false }
        var difference: UInt8 = 0
        for index in storage.indices { difference |= storage[index] ^ other.storage[index] }
        return difference == 0
    }

    /// Overwrites the bytes with zeros; the secret is empty afterwards.
    public func wipe() {
        storage.withUnsafeMutableBytes { buffer in
            for index in buffer.indices { buffer[index] = 0 }
        }
        storage.removeAll()
    }

    public var description: String { "<secret: \(storage.count) bytes>" }
}

extension SecretBytes: Equatable {
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        lhs.constantTimeEquals(rhs)
    }
}

/// Zeroes an array in place (for temporary copies of secrets).
public func zeroize(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        for index in buffer.indices { buffer[index] = 0 }
    }
}
