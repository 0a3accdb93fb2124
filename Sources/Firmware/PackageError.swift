import LwM2M

/// Why a signed firmware package was refused. `updateResult` is the Firmware Update object's
/// Update Result for it (docs/firmware-update.md, "Package format").
public enum PackageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data does not start with the package magic: not a signed package at all.
    case notAPackage
    /// A package of a format version this build does not read.
    case unsupportedFormat(UInt8)
    /// The manifest or the header around it is malformed.
    case malformedManifest(String)
    /// The signature does not verify with the vendor key (or is not a DER ECDSA signature).
    case badSignature
    /// The package is signed for another board.
    case wrongBoard(expected: String, found: String)
    /// The image's SHA-256 differs from the manifest's.
    case digestMismatch
    /// The data ended before the header or the image was complete.
    case truncated(expected: Int64, received: Int64)
    /// More bytes follow the image than the manifest announces.
    case trailingData
    /// The vendor key (or a key file) is unusable.
    case invalidKey(String)

    /// The Update Result this failure reports: 6 (unsupported package type) when the package is
    /// not one for this device (not a package, unknown format, another board), 5 (integrity
    /// check failure) for everything that says the bytes are not what the vendor signed.
    public var updateResult: FirmwareUpdateResult {
        switch self {
        case .notAPackage, .unsupportedFormat, .wrongBoard: .unsupportedPackageType
        case .malformedManifest, .badSignature, .digestMismatch, .truncated, .trailingData, .invalidKey: .integrityCheckFailure
        }
    }

    public var description: String {
        switch self {
        case .notAPackage: "not a signed firmware package (no LWM2MFW magic)"
        case .unsupportedFormat(let version): "unsupported package format version \(version)"
        case .malformedManifest(let why): "malformed package: \(why)"
        case .badSignature: "the package signature does not verify with the vendor key"
        case .wrongBoard(let expected, let found): "the package is for board \"\(found)\", this is \"\(expected)\""
        case .digestMismatch: "the image's SHA-256 differs from the signed manifest"
        case .truncated(let expected, let received): "truncated package: \(received) of \(expected) bytes"
        case .trailingData: "data after the image"
        case .invalidKey(let why): "vendor key: \(why)"
        }
    }
}
