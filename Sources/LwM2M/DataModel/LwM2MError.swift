import CoAP

/// Why an LwM2M operation on the client's objects failed, as the response code the server sees
/// (LwM2M TS 1.1 §6.3, the response-code tables of Read, Discover, Write, Execute, Create and
/// Delete). Objects throw these; `RequestHandler` turns them into CoAP error responses with the
/// diagnostic text as payload (RFC 7252 §5.5.2).
public enum LwM2MError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 4.04: the object, instance, resource or resource instance does not exist.
    case notFound
    /// 4.05: the target exists but does not allow the operation (Read of a write-only resource,
    /// Write to a read-only one, Execute of a non-executable one, Create on a single-instance
    /// object …).
    case methodNotAllowed
    /// 4.05 with the reason this device does not allow it (a board that does not let the agent
    /// set the clock or the time zone).
    case notAllowed(String)
    /// 4.00: the request or its payload is wrong; the text says how.
    case badRequest(String)
    /// 4.01: the server has no access right for the operation.
    case unauthorized
    /// 4.06: none of the formats the server accepts can carry the answer.
    case notAcceptable
    /// 4.15: the payload's Content-Format is missing or not one we read.
    case unsupportedContentFormat
    /// 5.00: the client failed (a platform object could not do what it should).
    case internalError(String)
    /// 5.01: a valid request for a feature this agent does not implement yet.
    case notImplemented(String)

    /// A decoding failure of a request payload: always the server's fault (4.00).
    public init(_ error: ContentFormatError) {
        self = .badRequest(error.description)
    }

    /// The CoAP response code for this error.
    public var code: CoAPCode {
        switch self {
        case .notFound: .notFound
        case .methodNotAllowed, .notAllowed: .methodNotAllowed
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .notAcceptable: .notAcceptable
        case .unsupportedContentFormat: .unsupportedContentFormat
        case .internalError: .internalServerError
        case .notImplemented: .notImplemented
        }
    }

    /// The diagnostic text sent as the payload of the error response.
    public var description: String {
        switch self {
        case .notFound: "not found"
        case .methodNotAllowed: "operation not allowed on this target"
        case .notAllowed(let why): "not allowed: \(why)"
        case .badRequest(let why): "bad request: \(why)"
        case .unauthorized: "unauthorized"
        case .notAcceptable: "none of the accepted content formats can carry this value"
        case .unsupportedContentFormat: "missing or unsupported content format"
        case .internalError(let why): "internal error: \(why)"
        case .notImplemented(let what): "not implemented: \(what)"
        }
    }

    /// The error as a CoAP response with its diagnostic payload.
    public var response: CoAPResponse { .error(code, description) }
}
