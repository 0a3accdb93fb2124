import Glibc

/// An error from the transport layer: sockets, polling, name resolution and address parsing.
public enum TransportError: Error, Equatable, CustomStringConvertible {
    /// A system call failed; `errno` is its error number and `operation` names the call
    /// (for example `"bind"` or `"sendto"`).
    case socket(errno: Int32, operation: String)

    /// `getaddrinfo` could not resolve `host`; `message` is the resolver's explanation
    /// (`gai_strerror` text, or `strerror` text for `EAI_SYSTEM`).
    case resolution(host: String, message: String)

    /// The text is not a usable numeric IP address (or the address does not fit the socket).
    case invalidAddress(String)

    /// The system error number, for `.socket` errors.
    public var errno: Int32? {
        if case .socket(let errno, _) = self { return errno }
        return nil
    }

    public var description: String {
        switch self {
        case .socket(let errno, let operation):
            return "\(operation) failed: \(TransportError.errorText(errno)) (errno \(errno))"
        case .resolution(let host, let message):
            return "cannot resolve \"\(host)\": \(message)"
        case .invalidAddress(let text):
            return "invalid IP address \"\(text)\""
        }
    }

    /// The `strerror` text for an error number.
    static func errorText(_ errno: Int32) -> String {
        guard let text = strerror(errno) else { return "unknown error" }
        return String(cString: text)
    }

    /// A `.socket` error for `operation` carrying the calling thread's current `errno`.
    @usableFromInline
    static func lastError(_ operation: String) -> TransportError {
        .socket(errno: Glibc.errno, operation: operation)
    }
}
