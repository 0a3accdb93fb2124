import CMbedTLS

/// DTLS cipher suites by IANA number, as LwM2M /0/x/16 lists them. mbedTLS identifies suites by
/// the same numbers, so mapping is a check that the library knows (and was built with) a suite.
public enum DTLSCipherSuite {
    /// TLS_PSK_WITH_AES_128_CCM_8, mandatory for LwM2M PSK mode.
    public static let pskAES128CCM8: UInt16 = 0xC0A8
    /// TLS_PSK_WITH_AES_128_CCM.
    public static let pskAES128CCM: UInt16 = 0xC0A4
    /// TLS_PSK_WITH_AES_128_GCM_SHA256.
    public static let pskAES128GCMSHA256: UInt16 = 0x00A8
    /// TLS_PSK_WITH_AES_128_CBC_SHA256.
    public static let pskAES128CBCSHA256: UInt16 = 0x00AE
    /// TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, mandatory for LwM2M certificate mode.
    public static let ecdheECDSAAES128CCM8: UInt16 = 0xC0AE
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
    public static let ecdheECDSAAES128GCMSHA256: UInt16 = 0xC02B

    /// PSK defaults: the mandatory CCM_8 suite first, then the other AES-128 PSK suites.
    public static let defaultPSK: [UInt16] = [pskAES128CCM8, pskAES128CCM, pskAES128GCMSHA256, pskAES128CBCSHA256]
    /// Certificate defaults: ECDHE-ECDSA with AES-128-CCM_8, then AES-128-GCM-SHA256.
    public static let defaultCertificate: [UInt16] = [ecdheECDSAAES128CCM8, ecdheECDSAAES128GCMSHA256]

    /// The mbedTLS name of a suite it supports, `nil` for unknown or disabled suites.
    public static func name(of suite: UInt16) -> String? {
        guard (try? MbedTLSLibrary.load()) != nil else { return nil }
        guard let info = mbedTLS.mbedtls_ssl_ciphersuite_from_id(Int32(suite)), let name = info.pointee.name else { return nil }
        return String(cString: name)
    }

    /// Whether a suite authenticates with a pre-shared key only.
    static func isPSK(_ suite: UInt16) -> Bool {
        guard let info = mbedTLS.mbedtls_ssl_ciphersuite_from_id(Int32(suite)) else { return false }
        return info.pointee.key_exchange == MBEDTLS_KEY_EXCHANGE_PSK
    }

    /// Whether a suite authenticates the server with an ECDSA certificate.
    static func isECDHEECDSA(_ suite: UInt16) -> Bool {
        guard let info = mbedTLS.mbedtls_ssl_ciphersuite_from_id(Int32(suite)) else { return false }
        return info.pointee.key_exchange == MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA
    }
}
