import DTLS

/// The ECDHE-ECDSA suites a raw-public-key session may use, by IANA number (LwM2M /0/x/16), as
/// GnuTLS priority-string keywords.
public enum RawPublicKeyCipherSuites {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (mandatory for LwM2M RPK), AES_128_CCM,
    /// AES_128_GCM_SHA256, AES_128_CBC_SHA256: the suite numbers this backend accepts.
    static let ciphers: [(suite: UInt16, cipher: String, mac: String)] = [
        (0xC0AE, "AES-128-CCM-8", "AEAD"),
        (0xC0AC, "AES-128-CCM", "AEAD"),
        (0xC02B, "AES-128-GCM", "AEAD"),
        (0xC023, "AES-128-CBC", "SHA256"),
    ]

    /// The default: CCM_8 first, then AES-128-GCM (as the mbedTLS certificate defaults).
    public static let defaults: [UInt16] = [0xC0AE, 0xC02B]

    /// Whether `suite` can run a raw-public-key session here.
    public static func isSupported(_ suite: UInt16) -> Bool { ciphers.contains { $0.suite == suite } }

    /// GnuTLS priorities for `suites` (in preference order; unknown numbers dropped, none left is
    /// an error): DTLS 1.2 only, ECDHE on P-256, ECDSA-SHA256 signatures, raw public keys only
    /// for both sides.
    static func priorityString(_ suites: [UInt16]?) throws(DTLSError) -> String {
        let chosen = (suites ?? defaults).compactMap { suite in ciphers.first { $0.suite == suite } }
        guard !chosen.isEmpty else {
            throw .invalidConfiguration("none of the cipher suites \(suites ?? []) is usable for raw public keys (ECDHE-ECDSA suites only)")
        }
        var macs: [String] = []
        for entry in chosen where !macs.contains(entry.mac) { macs.append(entry.mac) }
        return (["NONE", "+VERS-DTLS1.2", "+ECDHE-ECDSA"] + chosen.map { "+" + $0.cipher } + macs.map { "+" + $0 }
                + ["+SIGN-ECDSA-SHA256", "+GROUP-SECP256R1", "+COMP-NULL", "+CTYPE-CLI-RAWPK", "+CTYPE-SRV-RAWPK"])
            .joined(separator: ":")
    }
}
