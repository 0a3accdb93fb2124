import CGnuTLS
import DTLS

/// Mapping GnuTLS failures and alerts to `DTLSError`s an operator can act on.
extension RawPublicKeySession {
    /// Alerts a server sends when it does not accept the client's key (RFC 5246 §7.2).
    static let clientKeyProblems: Set<Int32> = [42, 43, 44, 45, 46, 48, 49]  // bad_certificate … access_denied

    func handshakeError(_ status: Int32) -> DTLSError {
        if let pinFailure { return pinFailure }
        if let why = key.box.lastError { return .signerFailed(why) }
        switch status {
        case Int32(CGNUTLS_E_TIMEDOUT):
            return .handshakeTimeout
        case Int32(CGNUTLS_E_FATAL_ALERT_RECEIVED):
            return alertError()
        case Int32(CGNUTLS_E_UNSUPPORTED_CERTIFICATE_TYPE):
            return .serverPublicKeyMismatch(presented: "no raw public key (the server did not agree to RFC 7250 key types)")
        case Int32(CGNUTLS_E_PREMATURE_TERMINATION):
            return .closedByPeer
        default:
            return gnutlsError(status, "handshake")
        }
    }

    func alertError() -> DTLSError {
        let code = cgnutls_alert_get(api, session)
        let name = cgnutls_alert_get_name(api, code).map { String(cString: $0) } ?? "alert"
        if key.box.signatures > 0, Self.clientKeyProblems.contains(code) {
            return .clientKeyRejected(alert: "\(name) (\(code))")
        }
        return .alertReceived(code: UInt8(clamping: code), name: name)
    }

    func gnutlsError(_ status: Int32, _ what: String) -> DTLSError {
        let text = cgnutls_strerror(api, status).map { String(cString: $0) } ?? "unknown error"
        return .gnutls(code: status, text: "\(what): \(text)")
    }
}
