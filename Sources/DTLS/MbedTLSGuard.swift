import CMbedTLS

/// Start-up check that the mbedTLS loaded at run time is the one this module was written for:
/// version 2.28.x (the `mbedtls_pk_info_t` layout the signer key relies on is private in 3.x
/// and differs when `MBEDTLS_ECP_RESTARTABLE` is on) with the DTLS features LwM2M needs.
public enum MbedTLSGuard {
    /// Compile-time options the DTLS client needs, checked in the library actually loaded.
    public static let requiredFeatures = [
        "MBEDTLS_SSL_PROTO_DTLS", "MBEDTLS_SSL_CLI_C", "MBEDTLS_SSL_DTLS_HELLO_VERIFY",
        "MBEDTLS_SSL_DTLS_ANTI_REPLAY", "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED",
        "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED", "MBEDTLS_CCM_C", "MBEDTLS_GCM_C",
        "MBEDTLS_ECP_DP_SECP256R1_ENABLED", "MBEDTLS_ECDSA_C", "MBEDTLS_X509_CRT_PARSE_C",
        "MBEDTLS_PK_PARSE_C", "MBEDTLS_SSL_SERVER_NAME_INDICATION", "MBEDTLS_SSL_SESSION_TICKETS",
        "MBEDTLS_HAVE_TIME_DATE",
    ]
    /// Options that must be off: they change the `mbedtls_pk_info_t` layout.
    public static let forbiddenFeatures = ["MBEDTLS_ECP_RESTARTABLE"]

    /// Throws `.unsupportedLibrary` naming the first mismatch: version, a missing feature, a
    /// forbidden one, or an EC key vtable that does not look like 2.28's; loads mbedTLS first
    /// (``MbedTLSLibrary``), so a missing library is reported here too. Checked once per process
    /// (every DTLS session runs it), the verdict kept.
    public static func check() throws(DTLSError) {
        try verdict.get()
    }

    /// The one check's outcome.
    private static let verdict: Result<Void, DTLSError> = {
        do throws(DTLSError) {
            try checkLoadedLibrary()
            return .success(())
        } catch {
            return .failure(error)
        }
    }()

    private static func checkLoadedLibrary() throws(DTLSError) {
        try MbedTLSLibrary.load()
        try check(runtimeVersion: mbedTLS.mbedtls_version_get_number()) { mbedTLS.mbedtls_version_check_feature($0) }
        let info = mbedTLS.mbedtls_eckey_info.pointee
        guard info.type == MBEDTLS_PK_ECKEY, let name = info.name, String(cString: name) == "EC",
              info.sign_func != nil, info.verify_func != nil, info.ctx_free_func != nil,
              info.check_pair_func != nil, info.get_bitlen != nil
        else {
            throw .unsupportedLibrary("mbedtls_eckey_info does not have the expected 2.28 layout")
        }
    }

    /// The version and configuration part of ``check()``, with the library's answers passed in
    /// (`featureStatus` answers like `mbedtls_version_check_feature`: 0 present, -1 absent,
    /// -2 feature list not compiled in), so tests can play other libraries.
    static func check(runtimeVersion runtime: UInt32, featureStatus: (String) -> Int32) throws(DTLSError) {
        guard runtime >> 16 == 0x021C else {
            throw .unsupportedLibrary("version \(versionString(runtime)) found, this build needs 2.28.x")
        }
        guard runtime >> 16 == UInt32(MBEDTLS_VERSION_NUMBER) >> 16 else {
            throw .unsupportedLibrary("library \(versionString(runtime)) differs from the headers built against (\(MBEDTLS_VERSION_STRING))")
        }
        guard featureStatus("MBEDTLS_SSL_PROTO_DTLS") != -2 else {
            throw .unsupportedLibrary("built without MBEDTLS_VERSION_FEATURES, its configuration cannot be checked")
        }
        for feature in requiredFeatures where featureStatus(feature) != 0 {
            throw .unsupportedLibrary("built without \(feature)")
        }
        for feature in forbiddenFeatures where featureStatus(feature) == 0 {
            throw .unsupportedLibrary("built with \(feature), which changes the PK vtable layout")
        }
    }

    /// `2.28.3` from `0x021C0300`.
    static func versionString(_ number: UInt32) -> String {
        "\(number >> 24).\((number >> 16) & 0xFF).\((number >> 8) & 0xFF)"
    }
}
