/// A CoAP code `c.dd`: 0.00 empty, 0.xx request methods, 2.xx–5.xx responses (RFC 7252 §3, §12.1).
public struct CoAPCode: Hashable, Sendable, CustomStringConvertible {
    /// The raw byte: class in the top 3 bits, detail in the low 5.
    public var rawValue: UInt8

    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    @inlinable public init(_ codeClass: UInt8, _ detail: UInt8) { rawValue = (codeClass << 5) | (detail & 0x1F) }

    @inlinable public var codeClass: UInt8 { rawValue >> 5 }
    @inlinable public var detail: UInt8 { rawValue & 0x1F }

    @inlinable public var isEmpty: Bool { rawValue == 0 }
    @inlinable public var isRequest: Bool { codeClass == 0 && detail != 0 }
    @inlinable public var isResponse: Bool { codeClass >= 2 && codeClass <= 5 }
    @inlinable public var isSuccess: Bool { codeClass == 2 }
    /// Classes 1, 6 and 7 are reserved: a message carrying one is a format error.
    @inlinable public var isReserved: Bool { codeClass == 1 || codeClass >= 6 }

    public var description: String {
        let d = detail
        return "\(codeClass).\(d < 10 ? "0" : "")\(d)"
    }

    public static let empty = CoAPCode(0, 0)
    // Methods (RFC 7252, RFC 8132)
    public static let get = CoAPCode(0, 1)
    public static let post = CoAPCode(0, 2)
    public static let put = CoAPCode(0, 3)
    public static let delete = CoAPCode(0, 4)
    public static let fetch = CoAPCode(0, 5)
    public static let patch = CoAPCode(0, 6)
    public static let iPatch = CoAPCode(0, 7)
    // 2.xx
    public static let created = CoAPCode(2, 1)
    public static let deleted = CoAPCode(2, 2)
    public static let valid = CoAPCode(2, 3)
    public static let changed = CoAPCode(2, 4)
    public static let content = CoAPCode(2, 5)
    public static let `continue` = CoAPCode(2, 31)
    // 4.xx
    public static let badRequest = CoAPCode(4, 0)
    public static let unauthorized = CoAPCode(4, 1)
    public static let badOption = CoAPCode(4, 2)
    public static let forbidden = CoAPCode(4, 3)
    public static let notFound = CoAPCode(4, 4)
    public static let methodNotAllowed = CoAPCode(4, 5)
    public static let notAcceptable = CoAPCode(4, 6)
    public static let requestEntityIncomplete = CoAPCode(4, 8)
    public static let conflict = CoAPCode(4, 9)
    public static let preconditionFailed = CoAPCode(4, 12)
    public static let requestEntityTooLarge = CoAPCode(4, 13)
    public static let unsupportedContentFormat = CoAPCode(4, 15)
    // 5.xx
    public static let internalServerError = CoAPCode(5, 0)
    public static let notImplemented = CoAPCode(5, 1)
    public static let badGateway = CoAPCode(5, 2)
    public static let serviceUnavailable = CoAPCode(5, 3)
    public static let gatewayTimeout = CoAPCode(5, 4)
    public static let proxyingNotSupported = CoAPCode(5, 5)
}

extension CoAPCode {
    /// The registry name ("Content", "Not Found" …), or `nil` for an unregistered code.
    public var name: String? {
        switch (codeClass, detail) {
        case (0, 0): "Empty"
        case (0, 1): "GET"
        case (0, 2): "POST"
        case (0, 3): "PUT"
        case (0, 4): "DELETE"
        case (0, 5): "FETCH"
        case (0, 6): "PATCH"
        case (0, 7): "iPATCH"
        case (2, 1): "Created"
        case (2, 2): "Deleted"
        case (2, 3): "Valid"
        case (2, 4): "Changed"
        case (2, 5): "Content"
        case (2, 31): "Continue"
        case (4, 0): "Bad Request"
        case (4, 1): "Unauthorized"
        case (4, 2): "Bad Option"
        case (4, 3): "Forbidden"
        case (4, 4): "Not Found"
        case (4, 5): "Method Not Allowed"
        case (4, 6): "Not Acceptable"
        case (4, 8): "Request Entity Incomplete"
        case (4, 9): "Conflict"
        case (4, 12): "Precondition Failed"
        case (4, 13): "Request Entity Too Large"
        case (4, 15): "Unsupported Content-Format"
        case (5, 0): "Internal Server Error"
        case (5, 1): "Not Implemented"
        case (5, 2): "Bad Gateway"
        case (5, 3): "Service Unavailable"
        case (5, 4): "Gateway Timeout"
        case (5, 5): "Proxying Not Supported"
        default: nil
        }
    }
}
