import CMbedTLS
import Credentials

/// PKCS#10 certificate signing requests and public-key helpers for keys behind a `Signer`
/// (a TPM key never leaves the TPM: mbedTLS writes the request and the signer signs it).
public enum CertificateRequest {
    /// A PEM `CERTIFICATE REQUEST` with subject `CN=<commonName>`, ECDSA with SHA-256, signed by
    /// `signer`. `MbedTLSGuard.check()` must pass first.
    public static func pem(commonName: String, signer: Signer, random: @escaping RandomSource) throws(DTLSError) -> String {
        try MbedTLSLibrary.load()
        guard !commonName.isEmpty, commonName.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw .invalidConfiguration("common name must be printable ASCII")
        }
        let key = try SignerKey(signer: signer)
        let randomBox = RandomBox(random)
        var request = mbedtls_x509write_csr()
        mbedTLS.mbedtls_x509write_csr_init(&request)
        defer { mbedTLS.mbedtls_x509write_csr_free(&request) }
        // Characters with a meaning in mbedTLS's subject syntax are escaped.
        var escaped = ""
        for character in commonName {
            if character == "," || character == "\\" || character == "=" || character == "+" { escaped.append("\\") }
            escaped.append(character)
        }
        var status = mbedTLS.mbedtls_x509write_csr_set_subject_name(&request, "CN=\(escaped)")
        guard status == 0 else { throw .library(code: status, text: "subject name") }
        mbedTLS.mbedtls_x509write_csr_set_md_alg(&request, MBEDTLS_MD_SHA256)
        mbedTLS.mbedtls_x509write_csr_set_key(&request, key.context)
        var buffer = [UInt8](repeating: 0, count: 4096)
        status = buffer.withUnsafeMutableBufferPointer { output in
            mbedTLS.mbedtls_x509write_csr_pem(&request, output.baseAddress, output.count, RandomBox.callback, randomBox.opaque)
        }
        withExtendedLifetime(key) {}
        guard status == 0 else {
            if let why = key.box.lastError { throw .signerFailed(why) }
            throw .library(code: status, text: "writing the certificate request")
        }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// DER SubjectPublicKeyInfo of P-256 public points, and signature checks against them.
public enum PublicKeyInfo {
    /// `SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING point }` for an
    /// uncompressed P-256 point (65 bytes).
    public static func der(publicKeyPoint point: [UInt8]) -> [UInt8] {
        let header: [UInt8] = [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
                               0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00]
        return header + point
    }

    /// The DER SubjectPublicKeyInfo of an X.509 certificate (DER).
    public static func der(ofCertificate certificate: [UInt8]) throws(DTLSError) -> [UInt8] {
        try MbedTLSLibrary.load()
        var parsed = mbedtls_x509_crt()
        mbedTLS.mbedtls_x509_crt_init(&parsed)
        defer { mbedTLS.mbedtls_x509_crt_free(&parsed) }
        var status = mbedTLS.mbedtls_x509_crt_parse_der(&parsed, certificate, certificate.count)
        guard status == 0 else { throw .library(code: status, text: "parsing the certificate") }
        var buffer = [UInt8](repeating: 0, count: 512)
        status = buffer.withUnsafeMutableBufferPointer { output in
            mbedTLS.mbedtls_pk_write_pubkey_der(&parsed.pk, output.baseAddress, output.count)
        }
        guard status > 0 else { throw .library(code: status, text: "writing the public key") }
        // mbedTLS writes at the end of the buffer.
        return Array(buffer.suffix(Int(status)))
    }

    /// SHA-256 of `bytes` (mbedTLS, which must be available: a dependency of the package).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = mbedTLS.mbedtls_sha256_ret(bytes, bytes.count, &digest, 0)
        return digest
    }

    /// Whether `signature` (DER ECDSA) over the SHA-256 `digest` verifies with the public key of
    /// `signer` (checked by mbedTLS in software, not by the signer).
    public static func verify(signature: [UInt8], digest: [UInt8], signer: Signer) throws(DTLSError) -> Bool {
        guard digest.count == 32 else { throw .invalidConfiguration("digest must be 32 bytes") }
        try MbedTLSLibrary.load()
        let key = try SignerKey(signer: signer)
        let status = mbedTLS.mbedtls_pk_verify(key.context, MBEDTLS_MD_SHA256, digest, digest.count, signature, signature.count)
        return status == 0
    }
}
