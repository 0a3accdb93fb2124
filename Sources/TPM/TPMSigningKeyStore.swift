import Credentials

/// A `SigningKeyStore` whose ECDSA P-256 keys are generated inside the TPM under the SRK and
/// never leave it (fixedTPM, fixedParent, sensitiveDataOrigin). Their blobs live in
/// `<stateDirectory>/keys/<id>.blob`; signing happens in the TPM through `TPMSigner`.
public final class TPMSigningKeyStore: SigningKeyStore, @unchecked Sendable {
    /// The TPM connection the store uses.
    public let context: TPMContext
    /// Whether signers keep their key loaded between signatures (faster; one TPM object slot
    /// per signer until it is closed or released). Off by default.
    public var keepsKeysLoaded: Bool
    private let directory: BlobDirectory

    /// A key store over `context`, with blobs in `<stateDirectory>/keys`.
    public init(context: TPMContext, keepsKeysLoaded: Bool = false) {
        self.context = context
        self.keepsKeysLoaded = keepsKeysLoaded
        directory = BlobDirectory(root: "\(context.configuration.stateDirectory)/keys")
    }

    /// Where the blob of key `id` lives (whether or not it exists).
    public func blobPath(of id: CredentialID) -> String { directory.path(of: id) }

    /// The names of every stored key, sorted.
    public func keyIdentifiers() throws(TPMError) -> [CredentialID] { try directory.identifiers() }

    // MARK: SigningKeyStore

    public func generateSigningKey(_ id: CredentialID) throws(CredentialStoreError) -> Signer {
        do throws(TPMError) { return try generateKey(id) } catch { throw error.credentialStoreError(for: id) }
    }

    public func signer(for id: CredentialID) throws(CredentialStoreError) -> Signer {
        let signer: TPMSigner?
        do throws(TPMError) { signer = try existingKey(id) } catch { throw error.credentialStoreError(for: id) }
        guard let signer else { throw .notFound(id) }
        return signer
    }

    public func removeSigningKey(_ id: CredentialID) throws(CredentialStoreError) {
        do throws(TPMError) { try directory.remove(id) } catch { throw error.credentialStoreError(for: id) }
    }

    // MARK: The same operations with TPM errors

    /// Generates a new key inside the TPM, writes its blob (replacing an older key of that name)
    /// and returns its signer.
    public func generateKey(_ id: CredentialID) throws(TPMError) -> TPMSigner {
        let configuration = context.configuration
        let object = try context.withStorageKey { esapi, storageKey throws(TPMError) in
            try esapi.create(parent: storageKey, template: ObjectTemplates.signingKey(), sensitiveData: nil)
        }
        let blob = TPMBlob(kind: .signingKey, parentHandle: configuration.storageKeyHandle,
                           pcrPolicy: nil, objects: [object])
        try directory.write(try blob.serialized(), for: id)
        return try TPMSigner(context: context, blob: blob, keepsKeyLoaded: keepsKeysLoaded)
    }

    /// The signer of an existing key; nil if there is no blob of that name.
    public func existingKey(_ id: CredentialID) throws(TPMError) -> TPMSigner? {
        guard let bytes = try directory.read(id) else { return nil }
        let blob = try TPMBlob(parsing: bytes, kind: .signingKey)
        guard blob.objects.count == 1 else { throw .malformedBlob("a key blob holds one object") }
        guard blob.parentHandle == context.configuration.storageKeyHandle else {
            throw .foreignBlob("key created under SRK 0x\(String(blob.parentHandle, radix: 16)), "
                               + "configured SRK is 0x\(String(context.configuration.storageKeyHandle, radix: 16))")
        }
        return try TPMSigner(context: context, blob: blob, keepsKeyLoaded: keepsKeysLoaded)
    }
}
