/// A Package URI (/5/0/1) checked for what a download needs (RFC 3986 §3 syntax): a scheme of
/// a protocol this agent knows, `//`, a host (a registered name, IPv4 address or bracketed IP
/// literal), an optional port, then a path and query made of URI characters. Fragments are
/// refused (RFC 7252 §6.4 has no place for one), so are characters outside RFC 3986 and
/// percent signs not followed by two hex digits.
public struct FirmwarePackageURI: Hashable, Sendable, CustomStringConvertible {
    /// Why a Package URI is refused; each maps to an Update Result.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// Not a URI a download can use (the text says why): Update Result 7.
        case invalid(String)
        /// A syntactically valid URI with a scheme this agent cannot download from: 9.
        case unsupportedProtocol(String)

        /// The Update Result the failure sets.
        public var updateResult: FirmwareUpdateResult {
            switch self {
            case .invalid: .invalidURI
            case .unsupportedProtocol: .unsupportedProtocol
            }
        }

        public var description: String {
            switch self {
            case .invalid(let why): "invalid Package URI: \(why)"
            case .unsupportedProtocol(let scheme): "unsupported download protocol \"\(scheme)\""
            }
        }
    }

    /// Longest Package URI in bytes (the resource's range 0..255).
    public static let maximumLength = 255

    /// The URI as written.
    public let text: String
    /// The protocol its scheme selects.
    public let downloadProtocol: FirmwareProtocol
    /// The host: a name, an IPv4 address, or an IP literal without its brackets.
    public let host: String
    /// The port, when the URI gives one.
    public let port: UInt16?

    /// Checks `text`; `supported` are the protocols this build can download with.
    public init(_ text: String, supported: Set<FirmwareProtocol>) throws(Failure) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .invalid("empty") }
        guard bytes.count <= Self.maximumLength else {
            throw .invalid("longer than \(Self.maximumLength) bytes")
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { throw .invalid("no scheme") }
        let scheme = bytes[..<colon]
        guard Self.isAlpha(scheme.first!), scheme.allSatisfy(Self.isSchemeCharacter) else {
            throw .invalid("malformed scheme")
        }
        for byte in bytes where !Self.isURICharacter(byte) {
            throw .invalid(byte == UInt8(ascii: "#") ? "a fragment has no meaning here"
                                                     : "character 0x\(String(byte, radix: 16)) is not allowed")
        }
        try Self.checkPercentEncoding(bytes)
        let rest = bytes[(colon + 1)...]
        guard rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) else { throw .invalid("no //authority") }
        let authorityStart = rest.startIndex + 2
        let authorityEnd = rest[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
            ?? rest.endIndex
        var authority = rest[authorityStart..<authorityEnd]
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        let (host, port) = try Self.hostAndPort(authority)
        let schemeText = String(decoding: scheme, as: UTF8.self)
        guard let known = FirmwareProtocol(scheme: schemeText), supported.contains(known) else {
            throw .unsupportedProtocol(schemeText)
        }
        self.text = text
        downloadProtocol = known
        self.host = host
        self.port = port
    }

    public var description: String { text }

    // MARK: - Private

    private static func hostAndPort(_ authority: ArraySlice<UInt8>) throws(Failure) -> (String, UInt16?) {
        var hostPart = authority
        var portPart: ArraySlice<UInt8>? = nil
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { throw .invalid("unclosed IP literal") }
            hostPart = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            guard hostPart.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }),
                  hostPart.contains(UInt8(ascii: ":")) else { throw .invalid("malformed IP literal") }
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { throw .invalid("junk after the IP literal") }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            hostPart = authority[..<colon]
            portPart = authority[(colon + 1)...]
        }
        guard !hostPart.isEmpty else { throw .invalid("no host") }
        if authority.first != UInt8(ascii: "[") {
            guard hostPart.allSatisfy({ isUnreserved($0) || isSubDelimiter($0) || $0 == UInt8(ascii: "%") }) else {
                throw .invalid("malformed host")
            }
        }
        var port: UInt16? = nil
        if let portPart, !portPart.isEmpty {  // "host:" is allowed by RFC 3986 (default port)
            guard portPart.count <= 5, portPart.allSatisfy(isDigit) else { throw .invalid("malformed port") }
            var value = 0
            for digit in portPart { value = value * 10 + Int(digit - UInt8(ascii: "0")) }
            guard value > 0, value <= 65535 else { throw .invalid("port \(value) out of range") }
            port = UInt16(value)
        }
        return (String(decoding: hostPart, as: UTF8.self), port)
    }

    private static func checkPercentEncoding(_ bytes: [UInt8]) throws(Failure) {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) else {
                    throw .invalid("a % not followed by two hex digits")
                }
                index += 3
            } else {
                index += 1
            }
        }
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".")
    }

    /// RFC 3986 §2.3 unreserved.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
    }

    /// RFC 3986 §2.2 sub-delims.
    private static func isSubDelimiter(_ byte: UInt8) -> Bool {
        Array("!$&'()*+,;=".utf8).contains(byte)
    }

    /// What may appear in a URI without a fragment: unreserved, sub-delims, ":/?@[]" and "%"
    /// (checked separately).
    private static func isURICharacter(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || isSubDelimiter(byte) || Array(":/?@[]%".utf8).contains(byte)
    }
}
