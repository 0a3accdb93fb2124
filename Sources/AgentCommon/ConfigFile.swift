/// Why a configuration file was refused; always names the line.
public struct ConfigFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// An INI-style file: `[section]` or `[section name]` headers, `key = value` lines, `#` or `;`
/// comments on their own line, blank lines ignored. Keys are unique within a section;
/// sections may not repeat.
public struct ConfigFile: Sendable {
    /// One `[kind name]` section with its settings in file order.
    public struct Section: Sendable {
        public let kind: String
        public let name: String?
        public let line: Int
        public var entries: [(key: String, value: String, line: Int)]

        /// The value of `key`, if set.
        public func value(_ key: String) -> String? { entries.first { $0.key == key }?.value }

        /// The line of `key`, or the section header's.
        public func line(of key: String) -> Int { entries.first { $0.key == key }?.line ?? line }
    }

    public private(set) var sections: [Section] = []

    /// Parses `text`. Lines may end in LF or CR LF (a file edited on Windows), and a UTF-8
    /// byte order mark at the start is ignored.
    public init(parsing text: String) throws(ConfigFileError) {
        var lineNumber = 0
        // Split on the UTF-8 bytes, not Characters: grapheme breaking a multi-megabyte file is
        // slow. A CR before the LF goes with the trimming.
        let body = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : text[...]
        for rawLine in body.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Substring(rawLine).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw ConfigFileError(line: lineNumber, "section header without \"]\"") }
                let header = line.dropFirst().dropLast().trimmingSpaces()
                let parts = header.split(separator: " ", maxSplits: 1).map { $0.trimmingSpaces() }
                guard let kind = parts.first, !kind.isEmpty else {
                    throw ConfigFileError(line: lineNumber, "empty section header")
                }
                let name = parts.count > 1 ? parts[1] : nil
                if sections.contains(where: { $0.kind == kind && $0.name == name }) {
                    throw ConfigFileError(line: lineNumber, "section [\(shortened(header))] appears twice")
                }
                sections.append(Section(kind: kind, name: name, line: lineNumber, entries: []))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigFileError(line: lineNumber, "expected \"key = value\" or a [section]")
            }
            let key = line[..<equals].trimmingSpaces()
            var value = line[line.index(after: equals)...].trimmingSpaces()
            if value.utf8.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            guard !key.isEmpty else { throw ConfigFileError(line: lineNumber, "empty key") }
            guard !sections.isEmpty else { throw ConfigFileError(line: lineNumber, "\(quoted(key)) before any [section]") }
            if sections[sections.count - 1].value(key) != nil {
                throw ConfigFileError(line: lineNumber, "\(quoted(key)) set twice in this section")
            }
            sections[sections.count - 1].entries.append((key, value, lineNumber))
        }
    }

    /// The sections of `kind`, in file order.
    public func sections(_ kind: String) -> [Section] { sections.filter { $0.kind == kind } }
}

/// How many characters of a value an error message shows: a 5 MB value must not be echoed.
public let quotedValueLimit = 64

/// `value` in quotes for an error message, cut to `quotedValueLimit` characters (then followed
/// by its full size in bytes: `"9999…" (5242881 bytes)`).
public func quoted(_ value: some StringProtocol) -> String {
    guard isLong(value) else { return "\"\(value)\"" }
    return "\"\(value.prefix(quotedValueLimit))…\" (\(value.utf8.count) bytes)"
}

/// `value` cut to `quotedValueLimit` characters, with "… (N bytes)" when cut.
public func shortened(_ value: some StringProtocol) -> String {
    guard isLong(value) else { return String(value) }
    return "\(value.prefix(quotedValueLimit))… (\(value.utf8.count) bytes)"
}

/// More than `quotedValueLimit` characters, without counting all of a huge value's characters.
private func isLong(_ value: some StringProtocol) -> Bool {
    value.utf8.count > quotedValueLimit && value.index(value.startIndex, offsetBy: quotedValueLimit,
                                                       limitedBy: value.endIndex).map { $0 < value.endIndex } == true
}

extension Substring {
    /// Without leading and trailing spaces, tabs, CRs and LFs (compared as UTF-8 bytes: all ASCII).
    public func trimmingSpaces() -> String {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = utf8.firstIndex(where: { !blank($0) }),
              let last = utf8.lastIndex(where: { !blank($0) }) else { return "" }
        return String(Substring(utf8[first..<utf8.index(after: last)]))
    }
}

extension String {
    public func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
