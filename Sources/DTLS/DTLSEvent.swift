/// What a `DTLSClientSession` reports to its driver.
public enum DTLSEvent: Equatable, Sendable {
    /// The handshake finished; `resumed` when an earlier session was resumed (abbreviated
    /// handshake), `cipherSuite` is mbedTLS's name for the negotiated suite.
    case connected(resumed: Bool, cipherSuite: String)
    /// The session failed and is unusable; make a new one to try again.
    case failed(DTLSError)
    /// The session ended in an orderly way (our `close()` or the server's close_notify).
    case closed
}
