/// A `coap://` or `coaps://` URI decomposed as RFC 7252 §6.4 prescribes: host, port, and the
/// percent-decoded path segments and query items that become Uri-Path and Uri-Query options.
public struct CoAPURI: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case coap, coaps }

    public var scheme: Scheme
    /// Host name or IP literal, without IPv6 brackets.
    public var host: String
    public var port: UInt16
    public var pathSegments: [String]
    public var queryItems: [String]

    /// Default ports: 5683 for coap, 5684 for coaps.
    public static func defaultPort(for scheme: Scheme) -> UInt16 { scheme == .coap ? 5683 : 5684 }

    /// Parses an absolute CoAP URI. Fragments are rejected (§6.4 step 5).
    public init(_ text: String) throws(CoAPURIError) {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else {
            throw .missingScheme
        }
        guard let scheme = Scheme(rawValue: text[..<colon].lowercased()) else {
            throw .unsupportedScheme(String(text[..<colon]))
        }
        guard !text.contains("#") else { throw .fragmentNotAllowed }
        self.scheme = scheme
        var rest = text[text.index(colon, offsetBy: 3)...]

        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]

        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidHost(String(authority)) }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost(String(authority)) }
                portText = after.dropFirst()
            }
        } else if let portColon = authority.lastIndex(of: ":") {
            host = String(authority[..<portColon])
            portText = authority[authority.index(after: portColon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw .invalidHost(String(authority)) }
        if !authority.hasPrefix("[") { host = try Self.percentDecode(host).lowercased() }
        if let portText, !portText.isEmpty {
            // Digits only: UInt16("+5") would accept a sign.
            guard portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let port = UInt16(portText), port != 0 else {
                throw .invalidPort(String(portText))
            }
            self.port = port
        } else {
            port = Self.defaultPort(for: scheme)
        }

        let queryStart = rest.firstIndex(of: "?")
        let path = rest[..<(queryStart ?? rest.endIndex)]
        pathSegments = []
        if path.count > 1 {
            // "/a/b" → ["a", "b"]; a trailing "/" yields a last empty segment, as §6.4 says.
            for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                pathSegments.append(try Self.percentDecode(segment))
            }
        }
        queryItems = []
        if let queryStart {
            for item in rest[rest.index(after: queryStart)...].split(separator: "&") {
                queryItems.append(try Self.percentDecode(item))
            }
        }
    }

    /// Uri-Path and Uri-Query options for a request to this URI.
    public var options: [CoAPOption] {
        pathSegments.map { CoAPOption(.uriPath, string: $0) } + queryItems.map { CoAPOption(.uriQuery, string: $0) }
    }

    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var text = "\(scheme.rawValue)://\(hostPart):\(port)"
        if !pathSegments.isEmpty { text += "/" + pathSegments.joined(separator: "/") }
        if !queryItems.isEmpty { text += "?" + queryItems.joined(separator: "&") }
        return text
    }

    private static func percentDecode<S: StringProtocol>(_ text: S) throws(CoAPURIError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(HexDigit.value), let low = iterator.next().flatMap(HexDigit.value) else {
                throw .invalidPercentEncoding(String(text))
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

}

/// Why a string is not a usable CoAP URI.
public enum CoAPURIError: Error, Hashable, Sendable, CustomStringConvertible {
    case missingScheme
    case unsupportedScheme(String)
    case fragmentNotAllowed
    case invalidHost(String)
    case invalidPort(String)
    case invalidPercentEncoding(String)

    public var description: String {
        switch self {
        case .missingScheme: "not an absolute URI (expected coap://host[:port]/path)"
        case .unsupportedScheme(let s): "unsupported scheme \"\(s)\" (expected coap or coaps)"
        case .fragmentNotAllowed: "CoAP URIs cannot carry a fragment"
        case .invalidHost(let h): "invalid host \"\(h)\""
        case .invalidPort(let p): "invalid port \"\(p)\""
        case .invalidPercentEncoding(let t): "invalid percent-encoding in \"\(t)\""
        }
    }
}
