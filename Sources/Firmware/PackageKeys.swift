import CMbedTLS
import DTLS
import Files
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The vendor's public key (ECDSA P-256), which verifies package signatures on the device.
public final class PackagePublicKey {
    let context: UnsafeMutablePointer<mbedtls_pk_context>

    /// Reads a PEM (`-----BEGIN PUBLIC KEY-----`) or DER SubjectPublicKeyInfo P-256 key.
    public init(encoded: [UInt8]) throws(PackageError) {
        context = try loadKey(encoded, what: "public key") { pk, bytes, count in
            mbedTLS.mbedtls_pk_parse_public_key(pk, bytes, count)
        }
    }

    deinit { releaseKey(context) }

    /// Whether `signature` (DER ECDSA) signs the SHA-256 `digest`.
    public func verifies(_ signature: [UInt8], digest: [UInt8]) -> Bool {
        guard digest.count == 32, !signature.isEmpty else { return false }
        return mbedTLS.mbedtls_pk_verify(context, MBEDTLS_MD_SHA256, digest, digest.count, signature, signature.count) == 0
    }
}

/// The vendor's private signing key (ECDSA P-256), used by `lwm2m-agent firmware sign` on the
/// vendor's build machine, never on a device. Freed (and zeroised by mbedTLS) with the object.
public final class PackageSigningKey {
    let context: UnsafeMutablePointer<mbedtls_pk_context>

    /// Reads an unencrypted PEM or DER P-256 private key (SEC1 or PKCS#8).
    public init(encoded: [UInt8]) throws(PackageError) {
        context = try loadKey(encoded, what: "private key") { pk, bytes, count in
            mbedTLS.mbedtls_pk_parse_key(pk, bytes, count, nil, 0)
        }
    }

    /// A new random P-256 key.
    public init(generating: Void = ()) throws(PackageError) {
        try loadMbedTLS()
        let pk = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
        mbedTLS.mbedtls_pk_init(pk)
        var status = mbedTLS.mbedtls_pk_setup(pk, mbedTLS.mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
        if status == 0 {
            status = mbedTLS.mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, pk.pointee.pk_ctx.assumingMemoryBound(to: mbedtls_ecp_keypair.self),
                                                 systemRandom, nil)
        }
        guard status == 0 else {
            releaseKey(pk)
            throw .invalidKey("key generation failed (mbedTLS -0x\(String(-status, radix: 16)))")
        }
        context = pk
    }

    deinit { releaseKey(context) }

    /// A DER ECDSA signature of the SHA-256 `digest` (RFC 6979 deterministic, blinded).
    public func sign(digest: [UInt8]) throws(PackageError) -> [UInt8] {
        guard digest.count == 32 else { throw .invalidKey("a SHA-256 digest has 32 bytes") }
        var signature = [UInt8](repeating: 0, count: 160)  // MBEDTLS_ECDSA_MAX_LEN is 141
        var length = 0
        let status = mbedTLS.mbedtls_pk_sign(context, MBEDTLS_MD_SHA256, digest, digest.count, &signature, &length, systemRandom, nil)
        guard status == 0 else { throw .invalidKey("signing failed (mbedTLS -0x\(String(-status, radix: 16)))") }
        return Array(signature[0..<length])
    }

    /// The private key as PEM (`-----BEGIN EC PRIVATE KEY-----`).
    public var privateKeyPEM: [UInt8] { pem { mbedTLS.mbedtls_pk_write_key_pem(context, $0, $1) } }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), for the devices.
    public var publicKeyPEM: [UInt8] { pem { mbedTLS.mbedtls_pk_write_pubkey_pem(context, $0, $1) } }

    /// The public half, for verifying.
    public func publicKey() throws(PackageError) -> PackagePublicKey {
        try PackagePublicKey(encoded: publicKeyPEM)
    }

    private func pem(_ write: (UnsafeMutablePointer<UInt8>, Int) -> Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let status = buffer.withUnsafeMutableBufferPointer { write($0.baseAddress!, $0.count) }
        defer { buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) } }
        guard status == 0 else { return [] }
        return Array(buffer.prefix(while: { $0 != 0 }))
    }
}

/// Parses a key with `parse` (PEM needs a terminating NUL, which is added) and checks that it is
/// an EC P-256 key; the working copy of the encoded key is zeroised.
private func loadKey(_ encoded: [UInt8], what: String,
                     _ parse: (UnsafeMutablePointer<mbedtls_pk_context>, UnsafePointer<UInt8>, Int) -> Int32)
    throws(PackageError) -> UnsafeMutablePointer<mbedtls_pk_context> {
    try loadMbedTLS()
    let pk = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
    mbedTLS.mbedtls_pk_init(pk)
    var bytes = encoded
    let isPEM = String(decoding: bytes, as: UTF8.self).includes("-----BEGIN")
    if isPEM && bytes.last != 0 { bytes.append(0) }
    let status = bytes.withUnsafeBufferPointer { parse(pk, $0.baseAddress!, $0.count) }
    bytes.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
    guard !encoded.isEmpty, status == 0 else {
        releaseKey(pk)
        throw .invalidKey("not a readable PEM or DER \(what) (mbedTLS -0x\(String(-status, radix: 16)))")
    }
    guard mbedTLS.mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY,
          pk.pointee.pk_ctx.assumingMemoryBound(to: mbedtls_ecp_keypair.self).pointee.grp.id == MBEDTLS_ECP_DP_SECP256R1 else {
        releaseKey(pk)
        throw .invalidKey("the \(what) is not an EC P-256 key")
    }
    return pk
}

/// Loads mbedTLS (``MbedTLSLibrary``) before the first key operation; its absence is the key's error.
private func loadMbedTLS() throws(PackageError) {
    do { try MbedTLSLibrary.load() } catch { throw .invalidKey("\(error)") }
}

private func releaseKey(_ pk: UnsafeMutablePointer<mbedtls_pk_context>) {
    mbedTLS.mbedtls_pk_free(pk)
    pk.deallocate()
}

/// mbedTLS's `f_rng` over /dev/urandom (keys are made and used on the vendor's machine; Swift's
/// Glibc module does not import getrandom(2)).
private let systemRandom: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
    _, output, length in
    guard let output else { return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED }
    let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED }
    defer { close(fd) }
    var filled = 0
    while filled < length {
        let count = read(fd, output + filled, length - filled)
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED }
        filled += count
    }
    return 0
}
