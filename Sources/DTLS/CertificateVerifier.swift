import CMbedTLS

/// Applies a `ServerTrust` (LwM2M Certificate Usage) inside mbedTLS's verification: chooses the
/// trust anchors and, from the verify callback, enforces the /0/x/4 pin and constraint.
///
/// mbedTLS calls the callback once per certificate of the verified chain, from the top (trust
/// anchor) down to the server's certificate at depth 0, so the depth-0 call sees the whole chain.
final class CertificateVerifier {
    let trust: ServerTrust
    /// The anchors given to `mbedtls_ssl_conf_ca_chain`; stays put while `self` lives.
    let anchors: UnsafeMutablePointer<mbedtls_x509_crt>
    /// Set when the callback rejected the chain for a pin or constraint reason.
    private(set) var pinMismatch = false
    /// The final verification flags as the callback left them.
    private(set) var flags: UInt32 = 0
    private var sawPinnedCA = false

    init(trust: ServerTrust, additionalAnchors: [[UInt8]]) throws(DTLSError) {
        self.trust = trust
        anchors = .allocate(capacity: 1)
        mbedTLS.mbedtls_x509_crt_init(anchors)
        var anchorDERs: [[UInt8]]
        switch trust.usage {
        case .caConstraint: anchorDERs = [trust.certificate] + additionalAnchors
        case .serviceCertificateConstraint: anchorDERs = additionalAnchors.isEmpty ? [trust.certificate] : additionalAnchors
        case .trustAnchorAssertion, .domainIssuedCertificate: anchorDERs = [trust.certificate]
        }
        for (index, der) in anchorDERs.enumerated() {
            let status = mbedTLS.mbedtls_x509_crt_parse_der(anchors, der, der.count)
            guard status == 0 else {
                mbedTLS.mbedtls_x509_crt_free(anchors)
                anchors.deallocate()
                let what = index == 0 && trust.usage != .serviceCertificateConstraint ? "/0/x/4 certificate" : "trust anchor \(index)"
                throw .invalidConfiguration("\(what) is not a DER X.509 certificate (\(DTLSError.library(status)))")
            }
        }
        anchorDERs.removeAll()
    }

    deinit {
        mbedTLS.mbedtls_x509_crt_free(anchors)
        anchors.deallocate()
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The `f_vrfy` callback for `mbedtls_ssl_conf_verify`.
    static let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<mbedtls_x509_crt>?, Int32, UnsafeMutablePointer<UInt32>?) -> Int32 = {
        context, certificate, depth, flags in
        guard let context, let certificate, let flags else { return MBEDTLS_ERR_X509_BAD_INPUT_DATA }
        let verifier = Unmanaged<CertificateVerifier>.fromOpaque(context).takeUnretainedValue()
        verifier.check(certificate, depth: depth, flags: &flags.pointee)
        return 0
    }

    private func check(_ certificate: UnsafeMutablePointer<mbedtls_x509_crt>, depth: Int32, flags: inout UInt32) {
        let isPinned = equalsPin(certificate)
        switch trust.usage {
        case .caConstraint:
            if depth > 0 && isPinned { sawPinnedCA = true }
            if depth == 0 && !sawPinnedCA { reject(&flags) }
        case .serviceCertificateConstraint:
            if depth == 0 && !isPinned { reject(&flags) }
        case .trustAnchorAssertion:
            break
        case .domainIssuedCertificate:
            // The pin is the whole decision: dates, chain and names are not checked.
            flags = 0
            if depth == 0 && !isPinned { reject(&flags) }
        }
        if depth == 0 { self.flags = flags } else { self.flags |= flags }
    }

    private func reject(_ flags: inout UInt32) {
        pinMismatch = true
        flags |= UInt32(MBEDTLS_X509_BADCERT_OTHER)
    }

    private func equalsPin(_ certificate: UnsafeMutablePointer<mbedtls_x509_crt>) -> Bool {
        let raw = certificate.pointee.raw
        guard raw.len == trust.certificate.count, let bytes = raw.p else { return false }
        return UnsafeBufferPointer(start: bytes, count: raw.len).elementsEqual(trust.certificate)
    }

    /// Maps a verification failure to the error an operator can act on.
    func error(verifyResult: UInt32, expectedName: String?) -> DTLSError {
        let result = verifyResult == 0 || verifyResult == UInt32.max ? flags : verifyResult | flags
        if pinMismatch { return .certificatePinMismatch(usage: trust.usage) }
        if result & UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0 { return .unknownCA }
        if result & UInt32(MBEDTLS_X509_BADCERT_EXPIRED) != 0 { return .certificateExpired }
        if result & UInt32(MBEDTLS_X509_BADCERT_FUTURE) != 0 { return .certificateNotYetValid }
        if result & UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0 { return .hostMismatch(expected: expectedName ?? "") }
        var buffer = [CChar](repeating: 0, count: 512)
        _ = mbedTLS.mbedtls_x509_crt_verify_info(&buffer, buffer.count, "", result)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .certificateRejected(flags: text.split(separator: "\n").joined(separator: "; "))
    }
}
