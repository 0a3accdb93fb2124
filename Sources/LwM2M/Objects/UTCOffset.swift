/// The UTC Offset (/3/0/14) syntax: ISO 8601 `±HH:MM` (also `±HHMM`, `±HH` and `Z`, normalised
/// to `±HH:MM`), hours 0…14, minutes 0…59.
public enum UTCOffset {
    /// `text` normalised to `±HH:MM`, or nil when it is not an ISO 8601 UTC offset.
    public static func normalized(_ text: String) -> String? {
        if text == "Z" { return "+00:00" }
        let bytes = Array(text.utf8)
        guard let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
        var digits = Array(bytes.dropFirst())
        if digits.count == 5, digits[2] == UInt8(ascii: ":") { digits.remove(at: 2) }
        if digits.count == 2 { digits += Array("00".utf8) }
        guard digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let hours = Int(digits[0] - 0x30) * 10 + Int(digits[1] - 0x30)
        let minutes = Int(digits[2] - 0x30) * 10 + Int(digits[3] - 0x30)
        guard hours <= 14, minutes <= 59 else { return nil }
        return format(seconds: (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1))
    }

    /// `seconds` east of UTC (tm_gmtoff) as `±HH:MM`; a zero offset is `+00:00`.
    public static func format(seconds: Int) -> String {
        let magnitude = seconds < 0 ? -seconds : seconds
        let hours = magnitude / 3600, minutes = (magnitude % 3600) / 60
        return (seconds < 0 ? "-" : "+") + (hours < 10 ? "0" : "") + String(hours) + ":"
            + (minutes < 10 ? "0" : "") + String(minutes)
    }
}

/// The Timezone (/3/0/15) syntax: an IANA time-zone database name (`Europe/Berlin`, `UTC`,
/// `America/Argentina/Buenos_Aires`, `Etc/GMT+3`): components of letters, digits, `_`, `-`, `+`,
/// separated by single `/`, no `.`/`..` component, at most 64 bytes. Whether the zone exists is
/// the platform's question.
public enum TimezoneName {
    public static func isWellFormed(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let first = component.first, first != UInt8(ascii: "-"), first != UInt8(ascii: "+") else { return false }
            for byte in component {
                let ok = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                guard ok else { return false }
            }
        }
        return true
    }
}
