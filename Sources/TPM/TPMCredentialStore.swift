import Credentials

/// A `CredentialStore` that seals each secret into TPM data objects under the SRK and keeps the
/// resulting blobs in `<stateDirectory>/sealed/<id>.blob`.
///
/// The blobs are useless without this TPM: the private parts are encrypted with a key derived
/// from the SRK's seed. `load` loads the objects, unseals them and flushes them again on every
/// path; the caller gets the secret in a zeroising `SecretBytes` and should drop it as soon as
/// the handshake has used it. Secrets of up to 2048 bytes are accepted (sealed in chunks of 128,
/// the TPM's limit per object).
///
/// With `TPMConfiguration.pcrPolicy` set, new secrets are bound to the current values of those
/// PCRs (TPM2_PolicyPCR): after a boot-chain change `load` fails with `.unusable` and
/// `TPMError.policyMismatch`.
public final class TPMCredentialStore: CredentialStore, @unchecked Sendable {
    /// The TPM connection the store uses.
    public let context: TPMContext
    private let directory: BlobDirectory

    /// A store over `context`, with blobs in `<stateDirectory>/sealed`.
    public init(context: TPMContext) {
        self.context = context
        directory = BlobDirectory(root: "\(context.configuration.stateDirectory)/sealed")
    }

    /// Blobs survive restarts: always true.
    public var isPersistent: Bool { true }

    /// Where the blob of `id` lives (whether or not it exists).
    public func blobPath(of id: CredentialID) -> String { directory.path(of: id) }

    // MARK: CredentialStore

    public func store(_ secret: SecretBytes, as id: CredentialID) throws(CredentialStoreError) {
        do throws(TPMError) { try seal(secret, as: id) } catch { throw error.credentialStoreError(for: id) }
    }

    public func load(_ id: CredentialID) throws(CredentialStoreError) -> SecretBytes {
        let secret: SecretBytes?
        do throws(TPMError) { secret = try unseal(id) } catch { throw error.credentialStoreError(for: id) }
        guard let secret else { throw .notFound(id) }
        return secret
    }

    public func remove(_ id: CredentialID) throws(CredentialStoreError) {
        do throws(TPMError) { try directory.remove(id) } catch { throw error.credentialStoreError(for: id) }
    }

    public func identifiers() throws(CredentialStoreError) -> [CredentialID] {
        do throws(TPMError) { return try directory.identifiers() } catch { throw error.credentialStoreError(for: nil) }
    }

    // MARK: The same operations with TPM errors

    /// Seals `secret` (1...2048 bytes) and writes its blob atomically, replacing any previous one.
    public func seal(_ secret: SecretBytes, as id: CredentialID) throws(TPMError) {
        let count = secret.count
        guard count >= 1, count <= TPMConstants.maximumSecretLength else { throw .invalidSecretLength(count) }
        let configuration = context.configuration
        let objects = try context.withStorageKey { esapi, storageKey throws(TPMError) in
            var authPolicy: [UInt8]?
            if let selection = configuration.pcrPolicy {
                authPolicy = try PCRPolicy.digest(for: selection, esapi: esapi)
            }
            let template = ObjectTemplates.sealedData(authPolicy: authPolicy)
            let session = configuration.encryptsParameters
                ? try esapi.sharedEncryptionSession(storageKey: storageKey) : TPMConstants.esysPassword
            return try secret.withUnsafeBytes { bytes throws(TPMError) in
                var objects: [TPMBlob.Object] = []
                for start in stride(from: 0, to: count, by: TPMConstants.maximumSealedChunk) {
                    let end = min(start + TPMConstants.maximumSealedChunk, count)
                    let chunk = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                    do throws(TPMError) {
                        objects.append(try esapi.create(parent: storageKey, template: template, sensitiveData: chunk,
                                                        session: session))
                    } catch {
                        esapi.discardEncryptionSession()
                        throw error
                    }
                }
                return objects
            }
        }
        let blob = TPMBlob(kind: .sealedSecret, parentHandle: configuration.storageKeyHandle,
                           pcrPolicy: configuration.pcrPolicy, objects: objects)
        try directory.write(try blob.serialized(), for: id)
    }

    /// Loads, unseals and flushes the objects of `id`'s blob; nil if there is no blob.
    public func unseal(_ id: CredentialID) throws(TPMError) -> SecretBytes? {
        guard let bytes = try directory.read(id) else { return nil }
        let blob = try TPMBlob(parsing: bytes, kind: .sealedSecret)
        let configuration = context.configuration
        guard blob.parentHandle == configuration.storageKeyHandle else {
            throw .foreignBlob("sealed under SRK 0x\(String(blob.parentHandle, radix: 16)), "
                               + "configured SRK is 0x\(String(configuration.storageKeyHandle, radix: 16))")
        }
        // Sized for the largest possible result, so appending never reallocates (a reallocation
        // would leave a copy of the secret in freed memory).
        var secret: [UInt8] = []
        secret.reserveCapacity(blob.objects.count * TPMConstants.maximumSealedChunk)
        do throws(TPMError) {
            try context.withStorageKey { esapi, storageKey throws(TPMError) in
                let encryption = configuration.encryptsParameters
                    ? try esapi.sharedEncryptionSession(storageKey: storageKey) : nil
                do throws(TPMError) {
                    for object in blob.objects {
                        let handle = try esapi.load(parent: storageKey, object)
                        defer { esapi.flush(handle) }
                        if let selection = blob.pcrPolicy {
                            try PCRPolicy.withSatisfiedSession(for: selection, esapi: esapi) { session throws(TPMError) in
                                try esapi.unseal(handle, session: session, encryption: encryption, appendingTo: &secret)
                            }
                        } else {
                            try esapi.unseal(handle, session: encryption ?? TPMConstants.esysPassword,
                                             encryption: encryption, appendingTo: &secret)
                        }
                    }
                } catch {
                    esapi.discardEncryptionSession()
                    throw error
                }
            }
        } catch {
            zeroize(&secret)
            throw error
        }
        return SecretBytes(secret)
    }
}
