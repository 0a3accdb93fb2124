import CMbedTLS
import Credentials

/// The state of an established session (session ID or ticket, master secret, suite), kept after
/// a handshake so a later `DTLSClientSession` to the same server can resume it with an
/// abbreviated handshake. Holds key material: never log it, and keep it in memory (or sealed).
public final class DTLSSavedSession {
    let session: UnsafeMutablePointer<mbedtls_ssl_session>

    /// Copies the current session out of an established mbedTLS context.
    init?(from ssl: UnsafePointer<mbedtls_ssl_context>) {
        session = .allocate(capacity: 1)
        mbedTLS.mbedtls_ssl_session_init(session)
        guard mbedTLS.mbedtls_ssl_get_session(ssl, session) == 0 else {
            mbedTLS.mbedtls_ssl_session_free(session)
            session.deallocate()
            return nil
        }
    }

    /// Restores a session serialised by ``serialized()``.
    public init(serialized: SecretBytes) throws(DTLSError) {
        try MbedTLSLibrary.load()
        session = .allocate(capacity: 1)
        mbedTLS.mbedtls_ssl_session_init(session)
        let status = serialized.withUnsafeBytes { bytes in
            mbedTLS.mbedtls_ssl_session_load(session, bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count)
        }
        guard status == 0 else {
            mbedTLS.mbedtls_ssl_session_free(session)
            session.deallocate()
            throw .invalidConfiguration("saved DTLS session cannot be loaded (\(DTLSError.library(status)))")
        }
    }

    deinit {
        mbedTLS.mbedtls_ssl_session_free(session)  // zeroises the master secret
        session.deallocate()
    }

    /// Whether the server gave a session ticket (otherwise resumption uses the session ID).
    public var hasTicket: Bool { session.pointee.ticket_len > 0 }

    /// mbedTLS's serialisation of the session (contains the master secret), for keeping it
    /// across a process restart in sealed storage.
    public func serialized() throws(DTLSError) -> SecretBytes {
        var length = 0
        _ = mbedTLS.mbedtls_ssl_session_save(session, nil, 0, &length)
        var buffer = [UInt8](repeating: 0, count: length)
        defer { zeroize(&buffer) }
        let status = mbedTLS.mbedtls_ssl_session_save(session, &buffer, buffer.count, &length)
        guard status == 0 else { throw DTLSError.library(status) }
        return SecretBytes(Array(buffer[0..<length]))
    }
}
