import AgentCommon

/// `/etc/os-release` (os-release(5); `/usr/lib/os-release` when absent): shell-style
/// `KEY=value` lines, values optionally in single or double quotes with `\` escapes.
public struct OSRelease: Hashable, Sendable {
    public var fields: [String: String]

    public init(fields: [String: String]) { self.fields = fields }

    /// The fields of `text`; malformed lines are skipped.
    public static func parse(_ text: String) -> OSRelease {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingSpaces()
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = String(trimmed[..<equals])
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var value = Substring(trimmed[trimmed.index(after: equals)...])
            if let quote = value.first, quote == "\"" || quote == "'" {
                guard value.count >= 2, value.last == quote else { continue }
                value = value.dropFirst().dropLast()
                if quote == "\"" {
                    var unescaped = "", escaping = false
                    for character in value {
                        if escaping || character != "\\" { unescaped.append(character); escaping = false } else { escaping = true }
                    }
                    value = Substring(unescaped)
                }
            }
            fields[key] = String(value)
        }
        return OSRelease(fields: fields)
    }

    /// The file under `root`; nil when neither location is readable.
    public static func read(_ root: SystemRoot) -> OSRelease? {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let bytes = try? root.bytes(path) { return parse(String(decoding: bytes, as: UTF8.self)) }
        }
        return nil
    }

    /// The OS version for /3/0/3: `VERSION`, else `VERSION_ID`, else `BUILD_ID`; nil when none.
    public var version: String? {
        for key in ["VERSION", "VERSION_ID", "BUILD_ID"] {
            if let value = fields[key], !value.isEmpty { return value }
        }
        return nil
    }
}
