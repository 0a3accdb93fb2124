/// What a raw public key in the Security object (/0/x/3, /0/x/4 of a mode-1 account) must look
/// like here: a DER SubjectPublicKeyInfo of an uncompressed ECDSA P-256 point (91 bytes), the key
/// type of the LwM2M RPK cipher suite TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8.
public enum RawPublicKeyShape {
    /// `SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) 04 … }`.
    static let p256Header: [UInt8] = [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
                                      0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04]
    static let idECPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
    static let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]

    /// Why `der` is not a P-256 SubjectPublicKeyInfo, or nil when it is.
    public static func problem(_ der: [UInt8]) -> String? {
        if der.count == 91, Array(der.prefix(p256Header.count)) == p256Header { return nil }
        guard der.count >= 2, der[0] == 0x30 else { return "is not a DER SubjectPublicKeyInfo" }
        if Array(der.prefix(13)) == Array(p256Header.prefix(13)) || Array(der.prefix(p256Header.count)) == p256Header {
            return "is \(der.count) bytes and not an ECDSA P-256 SubjectPublicKeyInfo (91 bytes)"
        }
        if contains(der, rsaEncryption) { return "is an RSA key (raw public keys here: ECDSA P-256 only)" }
        if contains(der, idECPublicKey) {
            return "is an EC key on another curve or in compressed form (ECDSA P-256, uncompressed, only)"
        }
        return "is \(der.count) bytes and not an ECDSA P-256 SubjectPublicKeyInfo (91 bytes)"
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<start + needle.count]) == needle { return true }
        return false
    }
}
