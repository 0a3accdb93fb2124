import CTSS2

/// Public-area templates of the three kinds of object the store creates.
enum ObjectTemplates {
    typealias C = TPMConstants

    /// The TCG ECC P-256 storage root key template (TCG TPM v2.0 Provisioning Guidance):
    /// restricted decryption key, AES-128-CFB, noDA, empty auth, empty unique.
    static func storageRootKey() -> TPM2B_PUBLIC {
        var template = TPM2B_PUBLIC()
        template.publicArea.type = C.algECC
        template.publicArea.nameAlg = C.algSHA256
        template.publicArea.objectAttributes = C.fixedTPM | C.fixedParent | C.sensitiveDataOrigin
            | C.userWithAuth | C.noDA | C.restricted | C.decrypt
        template.publicArea.parameters.eccDetail.symmetric.algorithm = C.algAES
        template.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128
        template.publicArea.parameters.eccDetail.symmetric.mode.aes = C.algCFB
        template.publicArea.parameters.eccDetail.scheme.scheme = C.algNull
        template.publicArea.parameters.eccDetail.curveID = C.curveNISTP256
        template.publicArea.parameters.eccDetail.kdf.scheme = C.algNull
        return template
    }

    /// A sealed data object (keyed hash, no scheme). Without a policy it unseals with its empty
    /// auth value; with `authPolicy` it unseals only through a satisfied policy session.
    static func sealedData(authPolicy: [UInt8]?) -> TPM2B_PUBLIC {
        var template = TPM2B_PUBLIC()
        template.publicArea.type = C.algKeyedHash
        template.publicArea.nameAlg = C.algSHA256
        template.publicArea.objectAttributes = C.fixedTPM | C.fixedParent | C.noDA
        if let authPolicy {
            template.publicArea.authPolicy.size = authPolicy.withUnsafeBytes {
                copyIntoTuple(&template.publicArea.authPolicy.buffer, $0)
            }
        } else {
            template.publicArea.objectAttributes |= C.userWithAuth
        }
        template.publicArea.parameters.keyedHashDetail.scheme.scheme = C.algNull
        return template
    }

    /// A non-exportable ECDSA P-256 / SHA-256 signing key generated inside the TPM.
    static func signingKey() -> TPM2B_PUBLIC {
        var template = TPM2B_PUBLIC()
        template.publicArea.type = C.algECC
        template.publicArea.nameAlg = C.algSHA256
        template.publicArea.objectAttributes = C.fixedTPM | C.fixedParent | C.sensitiveDataOrigin
            | C.userWithAuth | C.sign
        template.publicArea.parameters.eccDetail.symmetric.algorithm = C.algNull
        template.publicArea.parameters.eccDetail.scheme.scheme = C.algECDSA
        template.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = C.algSHA256
        template.publicArea.parameters.eccDetail.curveID = C.curveNISTP256
        template.publicArea.parameters.eccDetail.kdf.scheme = C.algNull
        return template
    }
}
