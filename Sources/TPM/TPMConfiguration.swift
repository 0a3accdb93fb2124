import Credentials

/// Everything the TPM store needs to know: how to reach the TPM, where the storage key lives,
/// where blobs go, and how secrets are bound.
public struct TPMConfiguration: Sendable {
    /// How to reach the TPM; `device:/dev/tpmrm0` by default.
    public var tcti: TCTI
    /// Persistent handle of the storage primary key (SRK), created on first use if absent.
    /// Must be in the owner's persistent range 0x81000000...0x817FFFFF.
    public var storageKeyHandle: UInt32
    /// Directory for the blob files (`sealed/` and `keys/` below it).
    public var stateDirectory: String
    /// Owner hierarchy authorisation, needed only to create the SRK when the owner auth is set.
    public var ownerAuth: SecretBytes?
    /// If set, secrets sealed from now on unseal only while these PCRs keep their current values.
    public var pcrPolicy: PCRSelection?
    /// Whether secrets cross the TPM bus encrypted (a session salted with the SRK, AES-128-CFB
    /// parameter encryption, for sealing and unsealing). On by default; costs a few milliseconds
    /// per seal or unseal on the host (ECDH for the salt).
    public var encryptsParameters: Bool

    /// The default SRK handle, 0x81000001.
    public static let defaultStorageKeyHandle: UInt32 = 0x8100_0001

    /// A configuration; `validate()` checks it (the `TPMContext` initialiser calls it).
    public init(
        tcti: TCTI = .defaultDevice,
        storageKeyHandle: UInt32 = TPMConfiguration.defaultStorageKeyHandle,
        stateDirectory: String,
        ownerAuth: SecretBytes? = nil,
        pcrPolicy: PCRSelection? = nil,
        encryptsParameters: Bool = true
    ) {
        self.tcti = tcti
        self.storageKeyHandle = storageKeyHandle
        self.stateDirectory = stateDirectory
        self.ownerAuth = ownerAuth
        self.pcrPolicy = pcrPolicy
        self.encryptsParameters = encryptsParameters
    }

    /// Parses a handle written as `0x81000001` (or decimal) and checks its range.
    public static func parseStorageKeyHandle(_ text: String) throws(TPMError) -> UInt32 {
        let value = text.hasPrefix("0x") || text.hasPrefix("0X")
            ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
        guard let value, persistentRange.contains(value) else {
            throw .invalidConfiguration("SRK handle must be 0x81000000...0x817fffff: \(text)")
        }
        return value
    }

    /// Throws `.invalidConfiguration` for an out-of-range handle, an empty state directory or an
    /// owner auth longer than a SHA-256 digest.
    public func validate() throws(TPMError) {
        guard Self.persistentRange.contains(storageKeyHandle) else {
            throw .invalidConfiguration(
                "SRK handle 0x\(String(storageKeyHandle, radix: 16)) is outside 0x81000000...0x817fffff")
        }
        guard !stateDirectory.isEmpty else { throw .invalidConfiguration("empty state directory") }
        if let ownerAuth, ownerAuth.count > 32 {
            throw .invalidConfiguration("owner auth longer than 32 bytes")
        }
    }

    private static let persistentRange: ClosedRange<UInt32> = 0x8100_0000...0x817F_FFFF
}
