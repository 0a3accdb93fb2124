import CMbedTLS

/// An incremental SHA-256 (mbedTLS), for images hashed while they stream. The context lives on
/// the heap and stays put, as mbedTLS contexts must.
public final class SHA256Digest {
    private let context: UnsafeMutablePointer<mbedtls_sha256_context>

    /// A fresh digest.
    public init() {
        context = .allocate(capacity: 1)
        mbedtls_sha256_init(context)
        _ = mbedtls_sha256_starts_ret(context, 0)
    }

    deinit {
        mbedtls_sha256_free(context)
        context.deallocate()
    }

    /// Starts over (as if no byte had been hashed).
    public func restart() {
        mbedtls_sha256_free(context)
        mbedtls_sha256_init(context)
        _ = mbedtls_sha256_starts_ret(context, 0)
    }

    /// Hashes the next bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = mbedtls_sha256_update_ret(context, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Hashes the next bytes.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed so far (32 bytes); the running state is left as it is, so
    /// hashing can go on (a copy of the context is finished).
    public func current() -> [UInt8] {
        let copy = UnsafeMutablePointer<mbedtls_sha256_context>.allocate(capacity: 1)
        mbedtls_sha256_init(copy)
        mbedtls_sha256_clone(copy, context)
        var digest = [UInt8](repeating: 0, count: 32)
        _ = mbedtls_sha256_finish_ret(copy, &digest)
        mbedtls_sha256_free(copy)
        copy.deallocate()
        return digest
    }

    /// The SHA-256 of `bytes`.
    public static func of(_ bytes: [UInt8]) -> [UInt8] {
        let digest = SHA256Digest()
        digest.update(bytes)
        return digest.current()
    }
}
