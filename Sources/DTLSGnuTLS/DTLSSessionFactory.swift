import DTLS
import Time

/// Picks the DTLS backend for a configuration: GnuTLS (``RawPublicKeySession``) for raw public
/// keys, mbedTLS (`DTLSClientSession`) for PSK and X.509. GnuTLS is loaded only when the first
/// raw-public-key session is made.
public enum DTLSSessionFactory {
    /// A new session for `configuration`, its handshake started.
    /// - Parameters:
    ///   - resuming: a saved mbedTLS session to offer (ignored for raw public keys).
    ///   - random: mbedTLS's randomness source; GnuTLS draws from its own (getrandom).
    public static func makeSession(
        configuration: DTLSConfiguration, resuming: DTLSSavedSession? = nil,
        random: @escaping RandomSource, now: Instant
    ) throws(DTLSError) -> any DTLSSession {
        if case .rawPublicKey = configuration.authentication {
            return try RawPublicKeySession(configuration: configuration, now: now)
        }
        return try DTLSClientSession(configuration: configuration, resuming: resuming, random: random, now: now)
    }
}
