import CMbedTLS
import DTLS

/// An incremental SHA-256 (mbedTLS), for images hashed while they stream. The context lives on
/// the heap and stays put, as mbedTLS contexts must. mbedTLS is first touched when something is
/// hashed or a digest asked for, not when the digest is made: the daemon's firmware store holds
/// one from start-up, and an agent that never downloads an image never loads mbedTLS for it.
///
/// Needs mbedTLS (a dependency of the package): without it the first use stops the process.
public final class SHA256Digest {
    private let context: UnsafeMutablePointer<mbedtls_sha256_context>
    /// Whether `context` is initialised and started.
    private var started = false

    /// A fresh digest.
    public init() {
        context = .allocate(capacity: 1)
    }

    deinit {
        if started { mbedTLS.mbedtls_sha256_free(context) }
        context.deallocate()
    }

    /// Starts over (as if no byte had been hashed).
    public func restart() {
        if started { mbedTLS.mbedtls_sha256_free(context) }
        started = false
    }

    /// Initialises and starts the context on first use.
    private func start() {
        guard !started else { return }
        mbedTLS.mbedtls_sha256_init(context)
        _ = mbedTLS.mbedtls_sha256_starts_ret(context, 0)
        started = true
    }

    /// Hashes the next bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        start()
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = mbedTLS.mbedtls_sha256_update_ret(context, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Hashes the next bytes.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed so far (32 bytes); the running state is left as it is, so
    /// hashing can go on (a copy of the context is finished).
    public func current() -> [UInt8] {
        start()
        let copy = UnsafeMutablePointer<mbedtls_sha256_context>.allocate(capacity: 1)
        mbedTLS.mbedtls_sha256_init(copy)
        mbedTLS.mbedtls_sha256_clone(copy, context)
        var digest = [UInt8](repeating: 0, count: 32)
        _ = mbedTLS.mbedtls_sha256_finish_ret(copy, &digest)
        mbedTLS.mbedtls_sha256_free(copy)
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
