/// One target attribute of a link: `name` or `name=value` (RFC 6690 §2 `link-param`).
public struct LinkAttribute: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// nil for a bare attribute (`;obs`); the unquoted, unescaped text otherwise.
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    public var description: String { value.map { "\(name)=\($0)" } ?? name }
}

/// One link of a CoRE Link Format payload: `<target>;attr;attr=value`.
public struct LinkEntry: Hashable, Sendable, CustomStringConvertible {
    /// The URI reference between `<` and `>`, e.g. `/3/0` or `/`.
    public var target: String
    public var attributes: [LinkAttribute]

    public init(target: String, attributes: [LinkAttribute] = []) {
        self.target = target
        self.attributes = attributes
    }

    /// A link to an LwM2M path: `</3/0>`, `</>` for the root.
    public init(path: LwM2MPath, attributes: [LinkAttribute] = []) {
        self.init(target: path.description, attributes: attributes)
    }

    /// The target as an LwM2M path, when it is one (`/3/0`, `/`); nil for other targets.
    public var path: LwM2MPath? { target.hasPrefix("/") ? LwM2MPath(target) : nil }

    /// The value of the first attribute called `name`: nil when absent, `.some(nil)` when bare.
    public func attribute(_ name: String) -> String?? {
        attributes.first { $0.name == name }.map(\.value)
    }

    public var description: String {
        (try? LinkFormat.encode([self])).map { String(decoding: $0, as: UTF8.self) } ?? "<\(target)>"
    }
}

/// CoRE Link Format (RFC 6690, content format 40) as LwM2M uses it: the Register and Update
/// payloads (`</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>`, TS 1.1 Register), Discover and
/// Bootstrap-Discover answers (`</>;lwm2m=1.1,</0/0>;ssid=101;uri="coaps://…"`). Static, sans-IO.
///
/// Writing: links are joined with `,`, attributes with `;`, no whitespace. A value is written
/// bare when it is a decimal number (`ct=11543`, `pmin=10`, `lt=-2.5`, `ver=1.1`) and as a quoted
/// string otherwise (`rt="oma.lwm2m"`, `uri="coap://h"`, `ct="60 110"`), with `"` and `\`
/// escaped — the style of the TS examples.
///
/// Reading (RFC 6690 §2 grammar, tolerant of whitespace): optional spaces, tabs and line breaks
/// around `,`, `;`, `=` and at both ends; quoted values may hold `,`, `;` and `\`-escapes; bare
/// values are `ptoken`s. An empty payload is no links. Anything else — a link without `<…>`, an
/// unterminated quote or target, an empty attribute name or value, a trailing comma, a control
/// character, invalid UTF-8 — is `.malformed`.
public enum LinkFormat {
    public static func encode(_ entries: [LinkEntry]) throws(ContentFormatError) -> [UInt8] {
        var out: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard entry.target.utf8.allSatisfy(isTargetByte) else {
                throw .unsupported("link target \"\(entry.target)\" cannot be written between < and >")
            }
            out.append(UInt8(ascii: "<"))
            out += entry.target.utf8
            out.append(UInt8(ascii: ">"))
            for attribute in entry.attributes {
                guard !attribute.name.isEmpty, attribute.name.utf8.allSatisfy(isNameByte) else {
                    throw .unsupported("link attribute name \"\(attribute.name)\" is not a parmname")
                }
                out.append(UInt8(ascii: ";"))
                out += attribute.name.utf8
                guard let value = attribute.value else { continue }
                out.append(UInt8(ascii: "="))
                if isNumber(value.utf8) {
                    out += value.utf8
                    continue
                }
                out.append(UInt8(ascii: "\""))
                for byte in value.utf8 {
                    guard !isControl(byte) else {
                        throw .unsupported("link attribute \(attribute.name) holds a control character")
                    }
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
                out.append(UInt8(ascii: "\""))
            }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(ContentFormatError) -> [LinkEntry] {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .malformed("link format is not UTF-8") }
        var parser = Parser(bytes: bytes)
        return try parser.links()
    }

    // MARK: - Character classes

    /// Inside `<…>`: printable, no space, `<`, `>` or `"` (URI-reference characters plus any
    /// UTF-8, which IRIs allow).
    static func isTargetByte(_ byte: UInt8) -> Bool {
        !isControl(byte) && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
            && byte != UInt8(ascii: "\"")
    }

    /// RFC 5987 `attr-char` (the RFC 6690 `parmname`).
    static func isNameByte(_ byte: UInt8) -> Bool {
        isAlphaNumeric(byte) || "!#$&+-.^_`|~".utf8.contains(byte)
    }

    /// RFC 6690 `ptokenchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        isAlphaNumeric(byte) || "!#$%&'()*+-./:<=>?@[]^_`{|}~".utf8.contains(byte)
    }

    static func isAlphaNumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || isDigit(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\n")
    }

    /// `-?digits(.digits)?`: written without quotes.
    static func isNumber(_ text: String.UTF8View) -> Bool {
        var rest = Array(text)[...]
        if rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
        let parts = rest.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        return !rest.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(isDigit) }
    }

    // MARK: - Parser

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, isWhitespace(byte) { index += 1 }
        }

        mutating func links() throws(ContentFormatError) -> [LinkEntry] {
            var entries: [LinkEntry] = []
            skipWhitespace()
            guard current != nil else { return [] }
            while true {
                entries.append(try link())
                skipWhitespace()
                guard let byte = current else { return entries }
                guard byte == UInt8(ascii: ",") else { throw .malformed("expected ',' at offset \(index)") }
                index += 1
                skipWhitespace()
            }
        }

        mutating func link() throws(ContentFormatError) -> LinkEntry {
            guard current == UInt8(ascii: "<") else { throw .malformed("expected '<' at offset \(index)") }
            index += 1
            let start = index
            while let byte = current, byte != UInt8(ascii: ">") {
                guard isTargetByte(byte) else {
                    throw .malformed("invalid character in link target at offset \(index)")
                }
                index += 1
            }
            guard current != nil else { throw .malformed("unterminated link target") }
            var entry = LinkEntry(target: String(decoding: bytes[start..<index], as: UTF8.self))
            index += 1
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: ";") else { return entry }
                index += 1
                skipWhitespace()
                entry.attributes.append(try attribute())
            }
        }

        mutating func attribute() throws(ContentFormatError) -> LinkAttribute {
            let start = index
            while let byte = current, isNameByte(byte) { index += 1 }
            guard index > start else { throw .malformed("expected an attribute name at offset \(index)") }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            skipWhitespace()
            guard current == UInt8(ascii: "=") else { return LinkAttribute(name) }
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "\"") {
                return LinkAttribute(name, try quotedString())
            }
            let valueStart = index
            while let byte = current, isTokenByte(byte) { index += 1 }
            guard index > valueStart else { throw .malformed("expected a value for \(name) at offset \(index)") }
            return LinkAttribute(name, String(decoding: bytes[valueStart..<index], as: UTF8.self))
        }

        /// A quoted-string (RFC 7230 §3.2.6 / RFC 2616 §2.2): `"` … `"` with `\`-escapes.
        mutating func quotedString() throws(ContentFormatError) -> String {
            index += 1
            var value: [UInt8] = []
            while true {
                guard var byte = current else { throw .malformed("unterminated quoted string") }
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    guard let escaped = current else { throw .malformed("unterminated quoted string") }
                    index += 1
                    byte = escaped
                }
                guard !isControl(byte) else {
                    throw .malformed("control character in quoted string at offset \(index - 1)")
                }
                value.append(byte)
            }
            return String(decoding: value, as: UTF8.self)
        }
    }
}
