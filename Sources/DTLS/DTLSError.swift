import CMbedTLS

/// Why a DTLS session failed or refused an operation. Messages name the cause an operator can
/// act on; they never contain key bytes or PSK material.
public enum DTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server did not accept the pre-shared key: it answered with an alert saying so, or
    /// (as most DTLS servers do) dropped our Finished message silently until the handshake
    /// timed out.
    case pskRejected(reason: String)
    /// The server's certificate chain does not lead to a trusted anchor.
    case unknownCA
    /// A certificate in the server's chain has expired.
    case certificateExpired
    /// A certificate in the server's chain is not valid yet.
    case certificateNotYetValid
    /// The server's certificate does not carry the expected host name.
    case hostMismatch(expected: String)
    /// The server's certificate is not the one /0/x/4 pins (usages 1 and 3), or the chain does
    /// not contain the /0/x/4 CA (usage 0).
    case certificatePinMismatch(usage: CertificateUsage)
    /// Any other certificate problem, with mbedTLS's verification flags spelled out.
    case certificateRejected(flags: String)
    /// The server refused our client certificate (an alert such as unknown_ca or
    /// bad_certificate arrived after we sent it).
    case clientCertificateRejected(alert: String)
    /// The server sent a fatal alert (other than the ones mapped above).
    case alertReceived(code: UInt8, name: String)
    /// No handshake flight was answered before the retransmission timer reached its maximum.
    case handshakeTimeout
    /// The client key's signer failed (a TPM error, for instance).
    case signerFailed(String)
    /// The configuration cannot work (missing trust, bad certificate DER, unknown suites, ...).
    case invalidConfiguration(String)
    /// The installed mbedTLS is not the version or configuration this code was built for.
    case unsupportedLibrary(String)
    /// The operation needs an established session (or the session has ended).
    case notConnected
    /// The plaintext does not fit one DTLS record.
    case messageTooLong(Int)
    /// The server closed the session (close_notify).
    case closedByPeer
    /// Any other mbedTLS failure: its error code and text.
    case library(code: Int32, text: String)
    /// Raw public keys: the server presented another key than the pinned one (/0/x/4), or no
    /// raw public key at all; `presented` is the SHA-256 of the SubjectPublicKeyInfo it sent
    /// (hex), or what it sent instead.
    case serverPublicKeyMismatch(presented: String)
    /// Raw public keys: the server refused our public key (an alert such as access_denied,
    /// bad_certificate or unsupported_certificate arrived after we sent it).
    case clientKeyRejected(alert: String)
    /// The DTLS backend a mode needs cannot be used here (GnuTLS missing or too old for raw
    /// public keys, or a mode the chosen backend does not implement).
    case backendUnavailable(String)
    /// Any other GnuTLS failure: its error code and text.
    case gnutls(code: Int32, text: String)

    public var description: String {
        switch self {
        case .pskRejected(let reason): "DTLS handshake failed: wrong PSK identity or key (\(reason))"
        case .unknownCA: "DTLS handshake failed: server certificate is not issued by a trusted CA (unknown CA)"
        case .certificateExpired: "DTLS handshake failed: server certificate has expired"
        case .certificateNotYetValid: "DTLS handshake failed: server certificate is not valid yet"
        case .hostMismatch(let expected): "DTLS handshake failed: server certificate does not match host name \"\(expected)\""
        case .certificatePinMismatch(let usage):
            "DTLS handshake failed: server certificate does not match /0/x/4 (certificate usage \(usage.rawValue), \(usage))"
        case .certificateRejected(let flags): "DTLS handshake failed: server certificate rejected (\(flags))"
        case .clientCertificateRejected(let alert): "DTLS handshake failed: server rejected our client certificate (alert \(alert))"
        case .alertReceived(let code, let name): "DTLS: server sent fatal alert \(name) (\(code))"
        case .handshakeTimeout: "DTLS handshake timed out: no answer from the server"
        case .signerFailed(let reason): "DTLS: client key could not sign: \(reason)"
        case .invalidConfiguration(let reason): "DTLS configuration: \(reason)"
        case .unsupportedLibrary(let reason): "unsupported mbedTLS: \(reason)"
        case .notConnected: "DTLS session is not connected"
        case .messageTooLong(let count): "DTLS: \(count)-byte message does not fit one record"
        case .closedByPeer: "DTLS session closed by the server"
        case .library(let code, let text): "DTLS: mbedTLS error -0x\(String(-Int(code), radix: 16)): \(text)"
        case .serverPublicKeyMismatch(let presented):
            "DTLS handshake failed: server public key does not match /0/x/4 (raw public key pin; server presented \(presented))"
        case .clientKeyRejected(let alert): "DTLS handshake failed: server rejected our raw public key (alert \(alert))"
        case .backendUnavailable(let reason): "DTLS backend unavailable: \(reason)"
        case .gnutls(let code, let text): "DTLS: GnuTLS error \(code): \(text)"
        }
    }

    /// An mbedTLS error code with its text.
    static func library(_ code: Int32) -> DTLSError {
        var buffer = [CChar](repeating: 0, count: 200)
        mbedTLS.mbedtls_strerror(code, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .library(code: code, text: text)
    }
}

/// Names of TLS alert descriptions (RFC 5246 §7.2, RFC 4279).
enum TLSAlert {
    static let badRecordMAC: UInt8 = 20
    static let handshakeFailure: UInt8 = 40
    static let badCertificate: UInt8 = 42
    static let unsupportedCertificate: UInt8 = 43
    static let certificateRevoked: UInt8 = 44
    static let certificateExpired: UInt8 = 45
    static let certificateUnknown: UInt8 = 46
    static let unknownCA: UInt8 = 48
    static let accessDenied: UInt8 = 49
    static let decryptError: UInt8 = 51
    static let unknownPSKIdentity: UInt8 = 115

    /// Alerts a server sends when it does not accept the client's certificate.
    static let clientCertificateProblems: Set<UInt8> = [
        badCertificate, unsupportedCertificate, certificateRevoked, certificateExpired, certificateUnknown, unknownCA, accessDenied,
    ]

    static func name(_ code: UInt8) -> String {
        switch code {
        case 0: "close_notify"
        case 10: "unexpected_message"
        case 20: "bad_record_mac"
        case 22: "record_overflow"
        case 40: "handshake_failure"
        case 42: "bad_certificate"
        case 43: "unsupported_certificate"
        case 44: "certificate_revoked"
        case 45: "certificate_expired"
        case 46: "certificate_unknown"
        case 47: "illegal_parameter"
        case 48: "unknown_ca"
        case 49: "access_denied"
        case 50: "decode_error"
        case 51: "decrypt_error"
        case 70: "protocol_version"
        case 71: "insufficient_security"
        case 80: "internal_error"
        case 90: "user_canceled"
        case 110: "unsupported_extension"
        case 112: "unrecognized_name"
        case 115: "unknown_psk_identity"
        default: "alert"
        }
    }
}
