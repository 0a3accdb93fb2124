import CMbedTLS

/// Mapping mbedTLS failures and alerts to `DTLSError`s an operator can act on.
extension DTLSClientSession {
    func handshakeError(_ status: Int32) -> DTLSError {
        if let message = signerKey?.box.lastError { return .signerFailed(message) }
        switch status {
        case MBEDTLS_ERR_SSL_TIMEOUT:
            // Servers drop a Finished made with a wrong key silently (RFC 6347 §4.1.2.7): a
            // timeout after ours was sent is the usual sign of a wrong PSK.
            if usesPSK && ssl.pointee.state >= Int32(MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC.rawValue) {
                return .pskRejected(reason: "the server never answered our Finished message")
            }
            return .handshakeTimeout
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
            guard let verifier else { return .library(status) }
            return verifier.error(verifyResult: mbedTLS.mbedtls_ssl_get_verify_result(ssl), expectedName: expectedName)
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
            return alertError()
        case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
            return .closedByPeer
        default:
            return .library(status)
        }
    }

    func alertError() -> DTLSError {
        let code = ssl.pointee.in_msg.map { $0[1] } ?? 0
        if usesPSK, [TLSAlert.decryptError, TLSAlert.badRecordMAC, TLSAlert.unknownPSKIdentity].contains(code) {
            return .pskRejected(reason: "server sent \(TLSAlert.name(code))")
        }
        if !usesPSK, clientCertificateSent, TLSAlert.clientCertificateProblems.contains(code) {
            return .clientCertificateRejected(alert: TLSAlert.name(code))
        }
        return .alertReceived(code: code, name: TLSAlert.name(code))
    }

    /// Whether the handshake got past sending our Certificate message.
    private var clientCertificateSent: Bool {
        ssl.pointee.state > Int32(MBEDTLS_SSL_CLIENT_CERTIFICATE.rawValue)
    }
}
