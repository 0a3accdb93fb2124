/// The layout of a signed firmware package (docs/firmware-update.md, "Package format"):
///
///     offset 0   7 bytes  magic "LWM2MFW"
///            7   1 byte   format version (1)
///            8   2 bytes  manifest length M, big-endian (1…4096)
///           10   M bytes  manifest (`PackageManifest`)
///       10 + M   2 bytes  signature length S, big-endian (8…160)
///       12 + M   S bytes  signature: DER ECDSA P-256 over SHA-256(bytes 0 ..< 10 + M)
///   12 + M + S            the image, exactly `size` bytes of the manifest
///
/// The signature covers the manifest, which carries the image's size and SHA-256: the image is
/// verified while it streams and accepted only at its end.
public enum PackageHeader {
    /// "LWM2MFW".
    public static let magic: [UInt8] = Array("LWM2MFW".utf8)
    /// The format version this build writes and reads.
    public static let formatVersion: UInt8 = 1
    public static let maximumManifestLength = 4096
    public static let signatureLengthRange = 8...160

    /// The signed part: magic, version, manifest length and manifest.
    public static func signedPart(_ manifest: [UInt8]) -> [UInt8] {
        magic + [formatVersion, UInt8(manifest.count >> 8), UInt8(manifest.count & 0xFF)] + manifest
    }

    /// The whole header (what precedes the image).
    public static func encode(manifest: PackageManifest, signature: [UInt8]) -> [UInt8] {
        signedPart(manifest.encoded) + [UInt8(signature.count >> 8), UInt8(signature.count & 0xFF)] + signature
    }

    /// The header of `manifest`, signed with `key`.
    public static func signed(_ manifest: PackageManifest, with key: PackageSigningKey) throws(PackageError) -> [UInt8] {
        let encoded = manifest.encoded
        guard encoded.count <= maximumManifestLength else { throw .malformedManifest("manifest too long") }
        let signature = try key.sign(digest: SHA256Digest.of(signedPart(encoded)))
        return encode(manifest: manifest, signature: signature)
    }
}
