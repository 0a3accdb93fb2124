import CTSS2

/// TPM 2.0 constants (TPM 2.0 Library, Part 2) and ESAPI handles used by this module, spelled
/// out with their Swift types: several of the C macros are casts that do not import into Swift.
enum TPMConstants {
    // Algorithms (TPM2_ALG_ID).
    static let algECC: TPM2_ALG_ID = 0x0023
    static let algKeyedHash: TPM2_ALG_ID = 0x0008
    static let algSHA256: TPM2_ALG_ID = 0x000B
    static let algAES: TPM2_ALG_ID = 0x0006
    static let algCFB: TPM2_ALG_ID = 0x0043
    static let algECDSA: TPM2_ALG_ID = 0x0018
    static let algNull: TPM2_ALG_ID = 0x0010
    static let curveNISTP256: TPM2_ECC_CURVE = 0x0003

    // Object attributes (TPMA_OBJECT).
    static let fixedTPM: TPMA_OBJECT = 0x0000_0002
    static let fixedParent: TPMA_OBJECT = 0x0000_0010
    static let sensitiveDataOrigin: TPMA_OBJECT = 0x0000_0020
    static let userWithAuth: TPMA_OBJECT = 0x0000_0040
    static let noDA: TPMA_OBJECT = 0x0000_0400
    static let restricted: TPMA_OBJECT = 0x0001_0000
    static let decrypt: TPMA_OBJECT = 0x0002_0000
    static let sign: TPMA_OBJECT = 0x0004_0000

    // Structure tags, session types, hierarchies.
    static let tagHashCheck: TPM2_ST = 0x8024
    static let sessionPolicy: TPM2_SE = 0x01
    static let sessionTrial: TPM2_SE = 0x03
    static let sessionHMAC: TPM2_SE = 0x00

    // Session attributes (TPMA_SESSION).
    static let sessionContinue: TPMA_SESSION = 0x01
    static let sessionDecrypt: TPMA_SESSION = 0x20
    static let sessionEncrypt: TPMA_SESSION = 0x40
    static let hierarchyNull: TPM2_RH = 0x4000_0007

    // ESAPI resource handles (ESYS_TR).
    static let esysNone: ESYS_TR = 0xFFF
    static let esysPassword: ESYS_TR = 0x0FF
    static let esysOwner: ESYS_TR = 0x101

    /// Sealed data objects hold at most MAX_SYM_DATA bytes: 128 on every TPM this targets
    /// (the TSS headers' 256 is the structure's capacity, not the TPM's limit).
    static let maximumSealedChunk = 128
    /// Longest secret the store accepts (split into sealed chunks of 128 bytes).
    static let maximumSecretLength = 2048
}
