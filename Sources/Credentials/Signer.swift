/// An ECDSA P-256 private key that signs without revealing itself: a key generated inside the
/// TPM, or a software key for development. The DTLS layer signs the handshake through this.
public protocol Signer: AnyObject {
    /// The public key as an uncompressed SEC1 point (`04 || X || Y`, 65 bytes).
    var publicKeyPoint: [UInt8] { get }
    /// Signs a SHA-256 digest (32 bytes) and returns a DER-encoded ECDSA signature
    /// (`SEQUENCE { r INTEGER, s INTEGER }`).
    func sign(digest: [UInt8]) throws(CredentialStoreError) -> [UInt8]
}

/// Where non-exportable signing keys live: generated inside the device, referred to by name.
public protocol SigningKeyStore: AnyObject {
    /// Generates a new P-256 key named `id` (replacing an existing one) and returns its signer.
    func generateSigningKey(_ id: CredentialID) throws(CredentialStoreError) -> Signer
    /// The signer of an existing key.
    func signer(for id: CredentialID) throws(CredentialStoreError) -> Signer
    /// Removes the key; removing an absent one is not an error.
    func removeSigningKey(_ id: CredentialID) throws(CredentialStoreError)
}

/// DER encoding of an ECDSA signature from its big-endian `r` and `s` integers.
public func derECDSASignature(r: [UInt8], s: [UInt8]) -> [UInt8] {
    func integer(_ bytes: [UInt8]) -> [UInt8] {
        var value = Array(bytes.drop(while: { $0 == 0 }))
        if value.isEmpty { value = [0] }
        if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
        return [0x02] + derLength(value.count) + value
    }
    let body = integer(r) + integer(s)
    return [0x30] + derLength(body.count) + body
}

private func derLength(_ length: Int) -> [UInt8] {
    if length < 0x80 { return [UInt8(length)] }
    if length <= 0xFF { return [0x81, UInt8(length)] }
    return [0x82, UInt8(length >> 8), UInt8(length & 0xFF)]
}
