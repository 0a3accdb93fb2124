import CMbedTLS
import Credentials

/// A P-256 key held in process memory, signing with mbedTLS (deterministic ECDSA, RFC 6979):
/// for tests and the development mode. Production keys live in a TPM behind another `Signer`.
public final class SoftwareSigner: Signer {
    private let key: UnsafeMutablePointer<mbedtls_pk_context>
    private let random: RandomBox
    /// The public key, uncompressed SEC1 (65 bytes).
    public let publicKeyPoint: [UInt8]

    /// Loads a PKCS#8 or SEC1 DER (or PEM, NUL-terminated) P-256 private key.
    public init(privateKey: SecretBytes, random: @escaping RandomSource) throws(DTLSError) {
        try MbedTLSLibrary.load()
        let key = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
        mbedTLS.mbedtls_pk_init(key)
        self.key = key
        self.random = RandomBox(random)
        let status = privateKey.withUnsafeBytes { bytes in
            mbedTLS.mbedtls_pk_parse_key(key, bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, nil, 0)
        }
        guard status == 0 else {
            SoftwareSigner.release(key)
            throw .invalidConfiguration("private key is not a readable PKCS#8 or SEC1 key (\(DTLSError.library(status)))")
        }
        guard let point = SoftwareSigner.p256Point(key) else {
            SoftwareSigner.release(key)
            throw .invalidConfiguration("private key is not an EC P-256 key")
        }
        publicKeyPoint = point
    }

    /// Generates a fresh P-256 key.
    public init(generatingWith random: @escaping RandomSource) throws(DTLSError) {
        try MbedTLSLibrary.load()
        key = .allocate(capacity: 1)
        mbedTLS.mbedtls_pk_init(key)
        self.random = RandomBox(random)
        var status = mbedTLS.mbedtls_pk_setup(key, mbedTLS.mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
        if status == 0 {
            status = mbedTLS.mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, key.pointee.pk_ctx.assumingMemoryBound(to: mbedtls_ecp_keypair.self),
                                                 RandomBox.callback, self.random.opaque)
        }
        guard status == 0, let point = SoftwareSigner.p256Point(key) else {
            SoftwareSigner.release(key)
            throw DTLSError.library(status)
        }
        publicKeyPoint = point
    }

    deinit { SoftwareSigner.release(key) }

    /// Deterministic ECDSA (RFC 6979) over a SHA-256 digest; DER `SEQUENCE { r, s }`.
    public func sign(digest: [UInt8]) throws(CredentialStoreError) -> [UInt8] {
        guard digest.count == 32 else { throw .refused("a SHA-256 digest has 32 bytes, got \(digest.count)") }
        var signature = [UInt8](repeating: 0, count: SignerKey.maxSignatureLength)
        var length = 0
        let keypair = key.pointee.pk_ctx.assumingMemoryBound(to: mbedtls_ecp_keypair.self)
        let status = mbedTLS.mbedtls_ecdsa_write_signature(keypair, MBEDTLS_MD_SHA256, digest, digest.count, &signature, &length,
                                                           RandomBox.callback, random.opaque)
        guard status == 0 else { throw .refused("ECDSA signing failed (\(DTLSError.library(status)))") }
        return Array(signature[0..<length])
    }

    private static func p256Point(_ key: UnsafeMutablePointer<mbedtls_pk_context>) -> [UInt8]? {
        guard mbedTLS.mbedtls_pk_get_type(key) == MBEDTLS_PK_ECKEY else { return nil }
        let keypair = key.pointee.pk_ctx.assumingMemoryBound(to: mbedtls_ecp_keypair.self)
        guard keypair.pointee.grp.id == MBEDTLS_ECP_DP_SECP256R1 else { return nil }
        var point = [UInt8](repeating: 0, count: 65)
        var length = 0
        let status = mbedTLS.mbedtls_ecp_point_write_binary(&keypair.pointee.grp, &keypair.pointee.Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                            &length, &point, point.count)
        return status == 0 && length == 65 ? point : nil
    }

    private static func release(_ key: UnsafeMutablePointer<mbedtls_pk_context>) {
        mbedTLS.mbedtls_pk_free(key)  // zeroises the private scalar
        key.deallocate()
    }
}
