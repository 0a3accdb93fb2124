import CTSS2

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The ESAPI calls the store makes, on one open ESYS_CONTEXT. Not thread-safe: `TPMContext`
/// calls it under its lock. Every transient object it loads or creates is tracked, so `close()`
/// can flush whatever an interrupted caller left behind.
final class ESAPI {
    typealias C = TPMConstants

    /// The TSS's functions (loaded by the first ESAPI opened).
    private let tss: UnsafeMutablePointer<ctss2_api>
    private var esys: OpaquePointer?
    private var tcti: OpaquePointer?
    /// Transient objects and sessions loaded and not yet flushed.
    private(set) var resident: Set<ESYS_TR> = []
    /// The storage key's ESAPI resource, once looked up or created.
    private var storageKey: ESYS_TR?
    /// The salted parameter-encryption session, kept between operations (starting one costs an
    /// ECDH on the host and a TPM2_StartAuthSession).
    private var encryptionSession: ESYS_TR?

    /// Loaded transient objects, not counting the kept encryption session.
    var residentObjectCount: Int { resident.count - (encryptionSession == nil ? 0 : 1) }

    /// Loads the TSS (first time only), opens the TCTI and the ESAPI context; sets the owner auth
    /// if given.
    init(configuration: TPMConfiguration) throws(TPMError) {
        let tss = try TSS2Library.functions()
        self.tss = tss
        var tcti: OpaquePointer?
        let rc = ctss2_Tss2_TctiLdr_Initialize(tss, configuration.tcti.loaderString, &tcti)
        guard rc == 0, tcti != nil else {
            throw .noTPM("\(configuration.tcti): \(ESAPI.transportHint(configuration.tcti, rc: rc))")
        }
        var esys: OpaquePointer?
        let esysRC = ctss2_Esys_Initialize(tss, &esys, tcti, nil)
        guard esysRC == 0, esys != nil else {
            ctss2_Tss2_TctiLdr_Finalize(tss, &tcti)
            throw .noTPM("\(configuration.tcti): Esys_Initialize: \(TPMError.decode(esysRC))")
        }
        self.esys = esys
        self.tcti = tcti
        if let ownerAuth = configuration.ownerAuth {
            var auth = TPM2B_AUTH()
            auth.size = ownerAuth.withUnsafeBytes { copyIntoTuple(&auth.buffer, $0) }
            let setRC = ctss2_Esys_TR_SetAuth(tss, esys, C.esysOwner, &auth)
            zeroizeValue(&auth)
            guard setRC == 0 else {
                close()
                throw TPMError(rc: setRC, operation: "set owner auth")
            }
        }
    }

    deinit { close() }

    /// Flushes every resident object, releases the storage key resource, closes ESAPI and TCTI.
    func close() {
        guard esys != nil else { return }
        for handle in resident { flush(handle) }
        encryptionSession = nil
        if var handle = storageKey {
            ctss2_Esys_TR_Close(tss, esys, &handle)
            storageKey = nil
        }
        ctss2_Esys_Finalize(tss, &esys)
        ctss2_Tss2_TctiLdr_Finalize(tss, &tcti)
        esys = nil
        tcti = nil
    }

    private func context() throws(TPMError) -> OpaquePointer {
        guard let esys else { throw .closed }
        return esys
    }

    private func check(_ rc: TSS2_RC, _ operation: @autoclosure () -> String) throws(TPMError) {
        if rc != 0 { throw TPMError(rc: rc, operation: operation()) }
    }

    // MARK: Storage key

    /// The storage primary key at `handle`: found there, or created from the TCG ECC P-256
    /// template and made persistent (needs the owner auth if one is set). Another process
    /// creating it at the same moment is fine: its key is used.
    func ensureStorageKey(at handle: UInt32) throws(TPMError) -> ESYS_TR {
        if let storageKey { return storageKey }
        let esys = try context()
        var resource = C.esysNone
        let lookup = ctss2_Esys_TR_FromTPMPublic(tss, esys, handle, C.esysNone, C.esysNone, C.esysNone, &resource)
        if lookup != 0 {
            guard TPMResponseCode(lookup) == .handle else {
                throw TPMError(rc: lookup, operation: "look up SRK 0x\(String(handle, radix: 16))")
            }
            resource = try createPersistentStorageKey(at: handle)
        }
        do throws(TPMError) {
            let publicArea = try readPublic(resource).publicArea
            let required = C.restricted | C.decrypt
            guard publicArea.objectAttributes & required == required,
                  publicArea.objectAttributes & C.sign == 0 else {
                throw TPMError.unsuitableStorageKey(handle: handle)
            }
        } catch {
            ctss2_Esys_TR_Close(tss, esys, &resource)
            throw error
        }
        storageKey = resource
        return resource
    }

    private func createPersistentStorageKey(at handle: UInt32) throws(TPMError) -> ESYS_TR {
        let esys = try context()
        var sensitive = TPM2B_SENSITIVE_CREATE()
        var template = ObjectTemplates.storageRootKey()
        var outsideInfo = TPM2B_DATA()
        var creationPCR = TPML_PCR_SELECTION()
        var primary = C.esysNone
        try check(ctss2_Esys_CreatePrimary(tss, esys, C.esysOwner, C.esysPassword, C.esysNone, C.esysNone,
                                     &sensitive, &template, &outsideInfo, &creationPCR,
                                     &primary, nil, nil, nil, nil), "create SRK (owner hierarchy)")
        resident.insert(primary)
        defer { flush(primary) }
        var persistent = C.esysNone
        let evict = ctss2_Esys_EvictControl(tss, esys, C.esysOwner, primary, C.esysPassword, C.esysNone, C.esysNone,
                                      handle, &persistent)
        if evict == 0 { return persistent }
        if TPMResponseCode(evict) == .nvDefined {
            // Created meanwhile by another process: use that one.
            var resource = C.esysNone
            try check(ctss2_Esys_TR_FromTPMPublic(tss, esys, handle, C.esysNone, C.esysNone, C.esysNone, &resource),
                      "look up SRK 0x\(String(handle, radix: 16))")
            return resource
        }
        throw TPMError(rc: evict, operation: "make SRK persistent at 0x\(String(handle, radix: 16))")
    }

    /// The public area of a loaded or persistent object.
    func readPublic(_ handle: ESYS_TR) throws(TPMError) -> TPM2B_PUBLIC {
        var output: UnsafeMutablePointer<TPM2B_PUBLIC>?
        try check(ctss2_Esys_ReadPublic(tss, try context(), handle, C.esysNone, C.esysNone, C.esysNone,
                                  &output, nil, nil), "read public area")
        defer { ctss2_Esys_Free(tss, output) }
        return output!.pointee
    }

    /// The TPM name (hash algorithm || digest of the public area) of an object.
    func name(of handle: ESYS_TR) throws(TPMError) -> [UInt8] {
        var output: UnsafeMutablePointer<TPM2B_NAME>?
        try check(ctss2_Esys_TR_GetName(tss, try context(), handle, &output), "read object name")
        defer { ctss2_Esys_Free(tss, output) }
        return bytesOfTuple(output!.pointee.name, count: output!.pointee.size)
    }

    // MARK: Objects

    /// Creates an object under `parent`; `sensitiveData` is the data to seal (nil for a key the
    /// TPM generates). The input structure holding the data is zeroed afterwards.
    /// `session` authorises the parent: the password session, or a salted session from
    /// `startEncryptionSession` (which then also encrypts the sensitive data on the bus).
    func create(parent: ESYS_TR, template: TPM2B_PUBLIC, sensitiveData: UnsafeRawBufferPointer?,
                session: ESYS_TR = TPMConstants.esysPassword) throws(TPMError) -> TPMBlob.Object
    {
        let esys = try context()
        var sensitive = TPM2B_SENSITIVE_CREATE()
        if let sensitiveData {
            sensitive.sensitive.data.size = copyIntoTuple(&sensitive.sensitive.data.buffer, sensitiveData)
        }
        defer { zeroizeValue(&sensitive) }
        var template = template
        var outsideInfo = TPM2B_DATA()
        var creationPCR = TPML_PCR_SELECTION()
        var outPrivate: UnsafeMutablePointer<TPM2B_PRIVATE>?
        var outPublic: UnsafeMutablePointer<TPM2B_PUBLIC>?
        if session != C.esysPassword { try setAttributes(session, C.sessionContinue | C.sessionDecrypt | C.sessionEncrypt) }
        try check(ctss2_Esys_Create(tss, esys, parent, session, C.esysNone, C.esysNone, &sensitive, &template,
                              &outsideInfo, &creationPCR, &outPrivate, &outPublic, nil, nil, nil),
                  "create object under SRK")
        defer {
            ctss2_Esys_Free(tss, outPrivate)
            ctss2_Esys_Free(tss, outPublic)
        }
        return TPMBlob.Object(publicArea: outPublic!.pointee, privateArea: outPrivate!.pointee)
    }

    /// Loads an object under `parent`; the caller must `flush` it on every path.
    func load(parent: ESYS_TR, _ object: TPMBlob.Object) throws(TPMError) -> ESYS_TR {
        var publicArea = object.publicArea
        var privateArea = object.privateArea
        var handle = C.esysNone
        let rc = ctss2_Esys_Load(tss, try context(), parent, C.esysPassword, C.esysNone, C.esysNone,
                           &privateArea, &publicArea, &handle)
        guard rc == 0 else {
            let error = TPMError(rc: rc, operation: "load blob")
            // A parameter the TPM rejects (bad size, value, key, integrity) is the blob's fault.
            if case .other = error, rc >> 16 == 0, rc & 0x0C0 == 0x0C0 {
                throw .foreignBlob("load blob: 0x\(String(rc, radix: 16)) \(TPMError.decode(rc))")
            }
            throw error
        }
        resident.insert(handle)
        return handle
    }

    /// Flushes a transient object or session; errors are ignored (nothing more can be done).
    func flush(_ handle: ESYS_TR) {
        guard resident.remove(handle) != nil, let esys else { return }
        _ = ctss2_Esys_FlushContext(tss, esys, handle)
    }

    /// Unseals a loaded data object, appending the data to `output`; the ESAPI output buffer is
    /// zeroed before it is freed. `session` authorises (a policy session, a salted HMAC session
    /// or the password session); `encryption`, if given, encrypts the response on the bus (it may
    /// be `session` itself).
    func unseal(_ handle: ESYS_TR, session: ESYS_TR, encryption: ESYS_TR?,
                appendingTo output: inout [UInt8]) throws(TPMError) {
        var second = C.esysNone
        if let encryption {
            try setAttributes(encryption, C.sessionContinue | C.sessionEncrypt)
            if encryption != session { second = encryption }
        }
        var data: UnsafeMutablePointer<TPM2B_SENSITIVE_DATA>?
        let rc = ctss2_Esys_Unseal(tss, try context(), handle, session, second, C.esysNone, &data)
        defer {
            zeroizeMemory(data, size: MemoryLayout<TPM2B_SENSITIVE_DATA>.size)
            ctss2_Esys_Free(tss, data)
        }
        try check(rc, "unseal")
        let size = Int(data!.pointee.size)
        withUnsafeBytes(of: &data!.pointee.buffer) { output.append(contentsOf: $0.prefix(size)) }
    }

    /// Signs a SHA-256 digest with a loaded ECDSA key; returns big-endian r and s.
    func signECDSA(_ handle: ESYS_TR, digest: [UInt8]) throws(TPMError) -> (r: [UInt8], s: [UInt8]) {
        var tpmDigest = TPM2B_DIGEST()
        tpmDigest.size = digest.withUnsafeBytes { copyIntoTuple(&tpmDigest.buffer, $0) }
        var scheme = TPMT_SIG_SCHEME()
        scheme.scheme = C.algECDSA
        scheme.details.ecdsa.hashAlg = C.algSHA256
        var validation = TPMT_TK_HASHCHECK()
        validation.tag = C.tagHashCheck
        validation.hierarchy = C.hierarchyNull
        var signature: UnsafeMutablePointer<TPMT_SIGNATURE>?
        try check(ctss2_Esys_Sign(tss, try context(), handle, C.esysPassword, C.esysNone, C.esysNone,
                            &tpmDigest, &scheme, &validation, &signature), "sign")
        defer { ctss2_Esys_Free(tss, signature) }
        let ecdsa = signature!.pointee.signature.ecdsa
        return (bytesOfTuple(ecdsa.signatureR.buffer, count: ecdsa.signatureR.size),
                bytesOfTuple(ecdsa.signatureS.buffer, count: ecdsa.signatureS.size))
    }

    // MARK: Sessions

    /// Starts an HMAC session salted with the storage key (ECDH: only this TPM can derive the
    /// session key) with AES-128-CFB parameter encryption; flush it after use. Commands using it
    /// carry secrets encrypted between host and TPM instead of in clear on the bus.
    func startEncryptionSession(storageKey: ESYS_TR) throws(TPMError) -> ESYS_TR {
        var symmetric = TPMT_SYM_DEF()
        symmetric.algorithm = C.algAES
        symmetric.keyBits.aes = 128
        symmetric.mode.aes = C.algCFB
        var session = C.esysNone
        try check(ctss2_Esys_StartAuthSession(tss, try context(), storageKey, C.esysNone, C.esysNone, C.esysNone, C.esysNone,
                                        nil, C.sessionHMAC, &symmetric, C.algSHA256, &session),
                  "start salted session")
        resident.insert(session)
        return session
    }

    /// The kept encryption session, started on first use.
    func sharedEncryptionSession(storageKey: ESYS_TR) throws(TPMError) -> ESYS_TR {
        if let encryptionSession { return encryptionSession }
        let session = try startEncryptionSession(storageKey: storageKey)
        encryptionSession = session
        return session
    }

    /// Flushes the kept encryption session (after a failed command its nonces may be out of step);
    /// the next operation starts a new one.
    func discardEncryptionSession() {
        if let encryptionSession { flush(encryptionSession) }
        encryptionSession = nil
    }

    private func setAttributes(_ session: ESYS_TR, _ attributes: TPMA_SESSION) throws(TPMError) {
        try check(ctss2_Esys_TRSess_SetAttributes(tss, try context(), session, attributes, 0xFF), "set session attributes")
    }

    /// Starts an unsalted, unbound policy (or trial) session with SHA-256; flush it after use.
    func startPolicySession(trial: Bool) throws(TPMError) -> ESYS_TR {
        let esys = try context()
        var symmetric = TPMT_SYM_DEF()
        symmetric.algorithm = C.algNull
        var session = C.esysNone
        try check(ctss2_Esys_StartAuthSession(tss, esys, C.esysNone, C.esysNone, C.esysNone, C.esysNone, C.esysNone,
                                        nil, trial ? C.sessionTrial : C.sessionPolicy, &symmetric,
                                        C.algSHA256, &session), "start policy session")
        resident.insert(session)
        // Keep the session after use, so that flushing it is always the caller's job.
        _ = ctss2_Esys_TRSess_SetAttributes(tss, esys, session, C.sessionContinue, C.sessionContinue)
        return session
    }

    /// Extends the session's policy with the current values of `selection` (TPM2_PolicyPCR).
    func policyPCR(_ session: ESYS_TR, _ selection: PCRSelection) throws(TPMError) {
        var pcrDigest = TPM2B_DIGEST()
        var pcrs = selection.tpmlSelection
        try check(ctss2_Esys_PolicyPCR(tss, try context(), session, C.esysNone, C.esysNone, C.esysNone, &pcrDigest, &pcrs),
                  "PolicyPCR \(selection)")
    }

    /// The session's policy digest.
    func policyDigest(_ session: ESYS_TR) throws(TPMError) -> [UInt8] {
        var digest: UnsafeMutablePointer<TPM2B_DIGEST>?
        try check(ctss2_Esys_PolicyGetDigest(tss, try context(), session, C.esysNone, C.esysNone, C.esysNone, &digest),
                  "read policy digest")
        defer { ctss2_Esys_Free(tss, digest) }
        return bytesOfTuple(digest!.pointee.buffer, count: digest!.pointee.size)
    }

    // MARK: Diagnostics

    private static func transportHint(_ tcti: TCTI, rc: TSS2_RC) -> String {
        let text = TPMError.decode(rc)
        guard case .device(let path) = tcti else { return text }
        return TransportProbe.openDevice(path, detail: text) ?? text
    }
}
