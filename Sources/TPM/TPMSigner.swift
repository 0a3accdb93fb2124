import CTSS2
import Credentials

/// Signs SHA-256 digests with an ECDSA P-256 key that lives in the TPM.
///
/// The public point comes from the blob, so reading it needs no TPM command. `sign(digest:)`
/// loads the key, signs and flushes it; with `keepsKeyLoaded` the key stays loaded until `close()`
/// or the signer is released (saves a TPM2_Load per signature but holds an object slot; over a
/// TCP swtpm without resource manager there are only three).
public final class TPMSigner: Signer, @unchecked Sendable {
    /// The uncompressed public point, `04 || X || Y`.
    public let publicKeyPoint: [UInt8]
    /// Whether the key stays loaded between signatures.
    public let keepsKeyLoaded: Bool

    private let context: TPMContext
    private let object: TPMBlob.Object
    private var loadedHandle: ESYS_TR?

    init(context: TPMContext, blob: TPMBlob, keepsKeyLoaded: Bool) throws(TPMError) {
        let publicArea = blob.objects[0].publicArea.publicArea
        guard publicArea.type == TPMConstants.algECC,
              publicArea.parameters.eccDetail.curveID == TPMConstants.curveNISTP256,
              publicArea.objectAttributes & TPMConstants.sign != 0 else {
            throw .malformedBlob("not an ECC P-256 signing key")
        }
        let point = publicArea.unique.ecc
        publicKeyPoint = [0x04] + leftPadded(bytesOfTuple(point.x.buffer, count: point.x.size), to: 32)
            + leftPadded(bytesOfTuple(point.y.buffer, count: point.y.size), to: 32)
        self.context = context
        self.object = blob.objects[0]
        self.keepsKeyLoaded = keepsKeyLoaded
    }

    deinit { close() }

    /// Flushes the key if it is kept loaded. The signer still works afterwards (it loads again).
    public func close() {
        try? context.perform { esapi throws(TPMError) in
            if let handle = loadedHandle { esapi.flush(handle) }
            loadedHandle = nil
        }
    }

    /// Signs a 32-byte SHA-256 digest in the TPM; returns a DER ECDSA signature.
    public func sign(digest: [UInt8]) throws(CredentialStoreError) -> [UInt8] {
        do throws(TPMError) { return try signInTPM(digest: digest) } catch { throw error.credentialStoreError(for: nil) }
    }

    /// `sign(digest:)` with the TPM error.
    public func signInTPM(digest: [UInt8]) throws(TPMError) -> [UInt8] {
        guard digest.count == 32 else { throw .invalidDigestLength(digest.count) }
        let (r, s) = try context.withStorageKey { esapi, storageKey throws(TPMError) in
            let handle: ESYS_TR
            if let loadedHandle { handle = loadedHandle } else { handle = try esapi.load(parent: storageKey, object) }
            let keep = keepsKeyLoaded
            defer { if !keep { esapi.flush(handle) } }
            if keep { loadedHandle = handle }
            do throws(TPMError) {
                return try esapi.signECDSA(handle, digest: digest)
            } catch {
                // A failed signature may mean the handle went stale: reload next time.
                if keep { esapi.flush(handle); loadedHandle = nil }
                throw error
            }
        }
        return derECDSASignature(r: r, s: s)
    }
}
