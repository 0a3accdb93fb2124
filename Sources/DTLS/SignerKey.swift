import CMbedTLS
import Credentials

/// An `mbedtls_pk_context` whose private-key operation is a `Signer`: the key itself may live in
/// a TPM and never be seen by mbedTLS.
///
/// Built with the documented mbedTLS 2.28 technique: a copy of the `mbedtls_eckey_info` vtable
/// (so verify, bit length, debug and key writing keep working on the public point) with
/// `sign_func`, `check_pair_func` and `ctx_free_func` replaced. The PK context is an
/// `mbedtls_ecp_keypair` holding only the public point, followed by a retained pointer to the
/// signer. `MbedTLSGuard.check()` must pass before this is used.
final class SignerKey {
    /// The PK context to hand to `mbedtls_ssl_conf_own_cert`; stays put while `self` lives.
    let context: UnsafeMutablePointer<mbedtls_pk_context>
    let box: SignerBox

    init(signer: Signer) throws(DTLSError) {
        try MbedTLSLibrary.load()
        let point = signer.publicKeyPoint
        guard point.count == 65, point[0] == 0x04 else {
            throw .invalidConfiguration("signer public key is not an uncompressed P-256 point")
        }
        let box = SignerBox(signer)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: SignerKey.pointerOffset + 8, alignment: 16)
        let keypair = raw.bindMemory(to: mbedtls_ecp_keypair.self, capacity: 1)
        mbedTLS.mbedtls_ecp_keypair_init(keypair)
        var status = mbedTLS.mbedtls_ecp_group_load(&keypair.pointee.grp, MBEDTLS_ECP_DP_SECP256R1)
        if status == 0 { status = mbedTLS.mbedtls_ecp_point_read_binary(&keypair.pointee.grp, &keypair.pointee.Q, point, point.count) }
        if status == 0 { status = mbedTLS.mbedtls_ecp_check_pubkey(&keypair.pointee.grp, &keypair.pointee.Q) }
        guard status == 0 else {
            mbedTLS.mbedtls_ecp_keypair_free(keypair)
            raw.deallocate()
            throw .invalidConfiguration("signer public key is not a valid P-256 point")
        }
        raw.storeBytes(of: Unmanaged.passRetained(box).toOpaque(), toByteOffset: SignerKey.pointerOffset, as: UnsafeMutableRawPointer.self)
        context = .allocate(capacity: 1)
        mbedTLS.mbedtls_pk_init(context)
        context.pointee.pk_info = UnsafePointer(SignerKey.vtable)
        context.pointee.pk_ctx = raw
        self.box = box
    }

    deinit {
        mbedTLS.mbedtls_pk_free(context)  // calls ctxFree below through the vtable
        context.deallocate()
    }

    /// The longest DER ECDSA P-256 signature (two 33-byte integers with headers).
    static let maxSignatureLength = 72

    /// Where the signer pointer sits after the key pair.
    static let pointerOffset = (MemoryLayout<mbedtls_ecp_keypair>.stride + 15) & ~15

    static func box(of pkContext: UnsafeRawPointer) -> SignerBox {
        let opaque = pkContext.load(fromByteOffset: pointerOffset, as: UnsafeMutableRawPointer.self)
        return Unmanaged<SignerBox>.fromOpaque(opaque).takeUnretainedValue()
    }

    /// The vtable shared by every signer key: eckey's, with three functions replaced.
    nonisolated(unsafe) static let vtable: UnsafeMutablePointer<mbedtls_pk_info_t> = {
        let info = UnsafeMutablePointer<mbedtls_pk_info_t>.allocate(capacity: 1)
        info.initialize(to: mbedTLS.mbedtls_eckey_info.pointee)
        info.pointee.sign_func = { context, algorithm, hash, hashLength, signature, signatureLength, _, _ in
            guard let context, let hash, let signature, let signatureLength else { return MBEDTLS_ERR_PK_BAD_INPUT_DATA }
            let box = SignerKey.box(of: context)
            guard algorithm == MBEDTLS_MD_SHA256, hashLength == 32 else {
                box.lastError = "only SHA-256 digests can be signed"
                return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE
            }
            let digest = Array(UnsafeBufferPointer(start: hash, count: 32))
            do {
                let der = try box.signer.sign(digest: digest)
                guard !der.isEmpty, der.count <= SignerKey.maxSignatureLength else {
                    box.lastError = "signature of \(der.count) bytes"
                    return MBEDTLS_ERR_PK_BAD_INPUT_DATA
                }
                der.withUnsafeBufferPointer { signature.update(from: $0.baseAddress!, count: der.count) }
                signatureLength.pointee = der.count
                return 0
            } catch {
                box.lastError = "\(error)"
                return MBEDTLS_ERR_PK_HW_ACCEL_FAILED
            }
        }
        info.pointee.check_pair_func = { publicContext, privateContext in
            guard let publicContext, let privateContext else { return MBEDTLS_ERR_PK_BAD_INPUT_DATA }
            let lhs = publicContext.assumingMemoryBound(to: mbedtls_ecp_keypair.self)
            let rhs = privateContext.assumingMemoryBound(to: mbedtls_ecp_keypair.self)
            guard lhs.pointee.grp.id == rhs.pointee.grp.id else { return MBEDTLS_ERR_ECP_BAD_INPUT_DATA }
            return withUnsafePointer(to: lhs.pointee.Q) { q1 in
                withUnsafePointer(to: rhs.pointee.Q) { q2 in
                    mbedTLS.mbedtls_ecp_point_cmp(q1, q2) == 0 ? 0 : MBEDTLS_ERR_ECP_BAD_INPUT_DATA
                }
            }
        }
        info.pointee.ctx_alloc_func = nil
        info.pointee.ctx_free_func = { context in
            guard let context else { return }
            let opaque = context.load(fromByteOffset: SignerKey.pointerOffset, as: UnsafeMutableRawPointer.self)
            Unmanaged<SignerBox>.fromOpaque(opaque).release()
            mbedTLS.mbedtls_ecp_keypair_free(context.assumingMemoryBound(to: mbedtls_ecp_keypair.self))
            context.deallocate()
        }
        return info
    }()
}

/// The signer behind a `SignerKey`, and the last error it reported (for the session's error).
final class SignerBox {
    let signer: Signer
    var lastError: String?
    init(_ signer: Signer) { self.signer = signer }
}
