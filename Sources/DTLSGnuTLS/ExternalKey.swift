import CGnuTLS
import Credentials
import DTLS

/// Our raw public key for GnuTLS: the SubjectPublicKeyInfo of the `Signer`'s point as the
/// "certificate", and a GnuTLS private key whose signing is the `Signer`
/// (`gnutls_privkey_import_ext4`), so a TPM-resident key signs the handshake inside the TPM.
/// Only ECDSA P-256 with SHA-256 (the LwM2M RPK suites) is offered.
final class ExternalKey {
    /// The SubjectPublicKeyInfo (DER) we present: /0/x/3 of an RPK account.
    let publicKeyInfo: [UInt8]
    let box: ExternalKeyBox

    init(signer: Signer) throws(DTLSError) {
        let point = signer.publicKeyPoint
        guard point.count == 65, point[0] == 0x04 else {
            throw .invalidConfiguration("client key is not an uncompressed P-256 point")
        }
        publicKeyInfo = PublicKeyInfo.der(publicKeyPoint: point)
        box = ExternalKeyBox(signer)
    }

    /// Puts the key pair into `credentials` (which then owns the GnuTLS key and the pcert's
    /// contents; `self` must outlive `credentials`: the key's user data points at `box`).
    func install(in credentials: OpaquePointer, api: UnsafeMutablePointer<cgnutls_api>) throws(DTLSError) {
        var privateKey: OpaquePointer?
        var status = cgnutls_privkey_init(api, &privateKey)
        guard status >= 0, let privateKey else { throw .gnutls(code: status, text: "creating the client key") }
        status = cgnutls_privkey_import_ext4(api, privateKey, Unmanaged.passUnretained(box).toOpaque(),
                                             ExternalKeyBox.signHashCallback, nil, ExternalKeyBox.infoCallback)
        guard status >= 0 else {
            cgnutls_privkey_deinit(api, privateKey)
            throw .gnutls(code: status, text: "importing the client key")
        }
        let pcert = UnsafeMutablePointer<gnutls_pcert_st>.allocate(capacity: 1)
        defer { pcert.deallocate() }  // set_key copies the array; the contents become the credentials'
        status = publicKeyInfo.withUnsafeBufferPointer { bytes in
            var datum = gnutls_datum_t(data: UnsafeMutablePointer(mutating: bytes.baseAddress), size: UInt32(bytes.count))
            return cgnutls_pcert_import_rawpk_der(api, pcert, &datum)
        }
        guard status >= 0 else {
            cgnutls_privkey_deinit(api, privateKey)
            throw .invalidConfiguration("GnuTLS refused the client public key (\(status))")
        }
        // GnuTLS checks the pair here: the signer signs a test digest, checked against the SPKI.
        // A TPM that cannot sign fails now, before any datagram is sent.
        status = cgnutls_certificate_set_key(api, credentials, pcert, privateKey)
        guard status >= 0 else {
            cgnutls_pcert_deinit(api, pcert)
            cgnutls_privkey_deinit(api, privateKey)
            if let why = box.lastError { throw .signerFailed(why) }
            throw .gnutls(code: status, text: "setting the client key")
        }
        // GnuTLS skips the check quietly when the signature fails; a signer that cannot sign
        // now would fail the handshake later, so it fails here, with its own reason.
        if let why = box.lastError { throw .signerFailed(why) }
        box.signatures = 0  // the pair check's signature is not a handshake signature
    }
}

/// The signer behind an `ExternalKey`, what it last failed with, and how often it signed.
final class ExternalKeyBox {
    let signer: Signer
    var lastError: String?
    /// Signatures made: our CertificateVerify went out (so a later alert is about our key).
    var signatures = 0
    init(_ signer: Signer) { self.signer = signer }

    static func box(_ userdata: UnsafeMutableRawPointer?) -> ExternalKeyBox {
        Unmanaged<ExternalKeyBox>.fromOpaque(userdata!).takeUnretainedValue()
    }

    /// Signs the SHA-256 digest GnuTLS hands over; the DER signature goes back in gnutls_malloc'ed memory.
    static let signHashCallback: @convention(c) (
        OpaquePointer?, gnutls_sign_algorithm_t, UnsafeMutableRawPointer?, UInt32, UnsafePointer<gnutls_datum_t>?,
        UnsafeMutablePointer<gnutls_datum_t>?
    ) -> Int32 = { _, algorithm, userdata, _, hash, signature in
        let box = box(userdata)
        guard let hash, let signature, let data = hash.pointee.data else { return Int32(CGNUTLS_E_INVALID_REQUEST) }
        let algorithm = Int(algorithm.rawValue)
        guard algorithm == Int(CGNUTLS_SIGN_ECDSA_SHA256) || algorithm == Int(CGNUTLS_SIGN_ECDSA_SECP256R1_SHA256),
              hash.pointee.size == 32 else {
            box.lastError = "only ECDSA with SHA-256 digests can be signed (asked for algorithm \(algorithm))"
            return Int32(CGNUTLS_E_PK_SIGN_FAILED)
        }
        let digest = Array(UnsafeBufferPointer(start: data, count: 32))
        let der: [UInt8]
        do {
            der = try box.signer.sign(digest: digest)
        } catch {
            box.lastError = "\(error)"
            return Int32(CGNUTLS_E_PK_SIGN_FAILED)
        }
        guard !der.isEmpty, der.count <= 72, let library = try? GnuTLSLibrary.shared.get() else {
            box.lastError = "signature of \(der.count) bytes"
            return Int32(CGNUTLS_E_PK_SIGN_FAILED)
        }
        guard let copy = der.withUnsafeBytes({ cgnutls_malloc_copy(library.api, $0.baseAddress, $0.count) }) else {
            return Int32(CGNUTLS_E_MEMORY_ERROR)
        }
        signature.pointee.data = copy.assumingMemoryBound(to: UInt8.self)
        signature.pointee.size = UInt32(der.count)
        box.signatures += 1
        return 0
    }

    /// What GnuTLS asks about the key: ECDSA, 256 bits, signs with ECDSA-SHA256 only.
    static let infoCallback: @convention(c) (OpaquePointer?, UInt32, UnsafeMutableRawPointer?) -> Int32 = { _, flags, _ in
        if flags & UInt32(CGNUTLS_PRIVKEY_INFO_PK_ALGO) != 0 { return Int32(CGNUTLS_PK_ECDSA) }
        if flags & UInt32(CGNUTLS_PRIVKEY_INFO_SIGN_ALGO) != 0 { return Int32(CGNUTLS_SIGN_ECDSA_SHA256) }
        if flags & UInt32(CGNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) != 0 {
            let asked = Int(cgnutls_flags_to_sign_algo(flags))
            return asked == Int(CGNUTLS_SIGN_ECDSA_SHA256) || asked == Int(CGNUTLS_SIGN_ECDSA_SECP256R1_SHA256) ? 1 : 0
        }
        if flags & UInt32(CGNUTLS_PRIVKEY_INFO_PK_ALGO_BITS) != 0 { return 256 }
        return -2
    }
}
