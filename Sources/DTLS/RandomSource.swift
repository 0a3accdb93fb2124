import CMbedTLS

/// Fills a buffer with cryptographically secure random bytes. The DTLS module reads no device
/// itself: production passes `Transport.secureRandomBytes`, tests may pass a seeded generator.
public typealias RandomSource = (UnsafeMutableRawBufferPointer) -> Void

/// Holds a `RandomSource` where mbedTLS's `f_rng`/`p_rng` pair can reach it.
final class RandomBox {
    let source: RandomSource
    init(_ source: @escaping RandomSource) { self.source = source }

    /// An opaque pointer for `p_rng`; valid while `self` lives.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The `f_rng` callback: `p_rng` must be a `RandomBox.opaque`.
    static let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
        context, output, length in
        guard let context, let output else { return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED }
        let box = Unmanaged<RandomBox>.fromOpaque(context).takeUnretainedValue()
        box.source(UnsafeMutableRawBufferPointer(start: output, count: length))
        return 0
    }
}
