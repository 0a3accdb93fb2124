import CTSS2
import Credentials

/// Why a TPM operation failed, decoded from the TSS response code. Messages name the operation
/// and the TSS's own text for the code; they never contain secret bytes.
public enum TPMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A TCTI string, PCR selection, handle or auth value is malformed.
    case invalidConfiguration(String)
    /// No TPM answers: the device node is missing or inaccessible, tpm2-abrmd or swtpm is not
    /// running, or the TCTI library is not installed.
    case noTPM(String)
    /// The TPM2 Software Stack (libtss2-esys, -mu, -rc, -tctildr), loaded on the TPM's first use,
    /// cannot be loaded: `dlerror()`'s words for the library, or the functions it lacks.
    case stackUnavailable(String)
    /// The TPM is in dictionary-attack lockout (TPM_RC_LOCKOUT): too many failed
    /// authorisations. It recovers after the lockout interval or `tpm2_dictionarylockout -c`.
    case lockout(operation: String)
    /// An authorisation value was wrong (TPM_RC_AUTH_FAIL / TPM_RC_BAD_AUTH), e.g. the owner
    /// hierarchy auth when the storage key has to be created.
    case badAuth(operation: String)
    /// The TPM refused a blob (TPM_RC_INTEGRITY and friends): it was sealed by another TPM, under
    /// another storage key (the TPM was cleared), or the file was altered.
    case foreignBlob(String)
    /// A blob file is not in the store's format (truncated, wrong magic, unknown version).
    case malformedBlob(String)
    /// The TPM has no room for another loaded object or session (TPM_RC_OBJECT_MEMORY ...):
    /// objects leaked by some process, or no resource manager in front of the TPM.
    case objectMemory(operation: String)
    /// The PCRs a secret is bound to no longer hold the values they had at sealing time.
    case policyMismatch
    /// The persistent handle holds an object that cannot be a storage parent.
    case unsuitableStorageKey(handle: UInt32)
    /// Reading or writing the state directory failed.
    case storage(String)
    /// The secret is empty or longer than the store accepts.
    case invalidSecretLength(Int)
    /// A digest to sign is not 32 bytes (SHA-256).
    case invalidDigestLength(Int)
    /// The context was closed.
    case closed
    /// Any other response code, with the operation and the TSS's decoding.
    case other(rc: UInt32, operation: String, text: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): return "invalid TPM configuration: \(text)"
        case .noTPM(let text): return "no TPM: \(text)"
        case .stackUnavailable(let reason): return "TPM software stack unavailable: \(reason)"
        case .lockout(let operation):
            return "\(operation): TPM is in dictionary-attack lockout (TPM_RC_LOCKOUT)"
        case .badAuth(let operation): return "\(operation): wrong authorisation value"
        case .foreignBlob(let text):
            return "blob refused by this TPM (sealed by another TPM or storage key, or altered): \(text)"
        case .malformedBlob(let text): return "malformed TPM blob: \(text)"
        case .objectMemory(let operation):
            return "\(operation): TPM object or session memory full (leaked transient objects?)"
        case .policyMismatch:
            return "PCR policy check failed: the bound PCR values changed since sealing"
        case .unsuitableStorageKey(let handle):
            return "persistent handle 0x\(String(handle, radix: 16)) is not a restricted decryption (storage) key"
        case .storage(let text): return "TPM state directory: \(text)"
        case .invalidSecretLength(let count):
            return "secret of \(count) bytes: the TPM store seals 1...\(TPMConstants.maximumSecretLength) bytes"
        case .invalidDigestLength(let count): return "digest of \(count) bytes: ECDSA P-256 signs 32-byte SHA-256 digests"
        case .closed: return "TPM context is closed"
        case .other(let rc, let operation, let text):
            return "\(operation): TPM error 0x\(String(rc, radix: 16)) (\(text))"
        }
    }

    /// Classifies a failed response code of `operation`.
    public init(rc: TSS2_RC, operation: String) {
        let text = TPMError.decode(rc)
        let layer = rc >> 16
        if layer == 10 {  // TCTI: the transport itself failed.
            self = .noTPM("\(operation): \(text)")
            return
        }
        guard layer == 0 || layer == 12 else {  // ESAPI, MU, resource manager.
            self = .other(rc: rc, operation: operation, text: text)
            return
        }
        switch TPMResponseCode(rc) {
        case .lockout: self = .lockout(operation: operation)
        case .authFail, .badAuth: self = .badAuth(operation: operation)
        case .integrity: self = .foreignBlob("\(operation): 0x\(String(rc, radix: 16)) \(text)")
        case .policyFail: self = .policyMismatch
        case .objectMemory, .objectHandles, .sessionMemory, .sessionHandles:
            self = .objectMemory(operation: operation)
        default: self = .other(rc: rc, operation: operation, text: text)
        }
    }

    /// Tss2_RC_Decode's text for `rc` (its buffer is per thread: copied at once); "unknown" when
    /// the TSS cannot be loaded (no code reaches here then: every TSS call needs it loaded).
    static func decode(_ rc: TSS2_RC) -> String {
        guard let tss = try? TSS2Library.functions(), let text = ctss2_Tss2_RC_Decode(tss, rc) else { return "unknown" }
        return String(cString: text)
    }

    /// The error the `CredentialStore` and `Signer` protocols report for this failure.
    public func credentialStoreError(for id: CredentialID?) -> CredentialStoreError {
        switch self {
        case .noTPM, .stackUnavailable, .closed: return .unavailable(description)
        case .lockout, .badAuth, .objectMemory, .unsuitableStorageKey, .other, .invalidConfiguration,
            .invalidSecretLength, .invalidDigestLength:
            return .refused(description)
        case .foreignBlob, .malformedBlob, .policyMismatch:
            if let id { return .unusable(id, reason: description) }
            return .refused(description)
        case .storage: return .storage(description)
        }
    }
}

/// The response codes the store tells apart, with the handle/session/parameter number removed.
enum TPMResponseCode: Equatable {
    case lockout, authFail, badAuth, integrity, policyFail, handle, nvDefined
    case objectMemory, objectHandles, sessionMemory, sessionHandles
    case unknown(UInt32)

    init(_ rc: TSS2_RC) {
        let code: UInt32
        if rc & 0x080 != 0 {
            code = 0x080 | (rc & 0x03F)  // format one: strip the parameter/handle/session number
        } else {
            code = rc & 0xFFF
        }
        switch code {
        case 0x921: self = .lockout
        case 0x08E: self = .authFail
        case 0x0A2: self = .badAuth
        case 0x09F: self = .integrity
        case 0x09D: self = .policyFail
        case 0x08B: self = .handle
        case 0x14C: self = .nvDefined
        case 0x902: self = .objectMemory
        case 0x906: self = .objectHandles
        case 0x903: self = .sessionMemory
        case 0x905: self = .sessionHandles
        default: self = .unknown(code)
        }
    }
}
