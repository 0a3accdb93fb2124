/// Host-name helpers that need no resolver.
public enum HostName {
    /// Whether `host` is an IPv4 dotted quad or an IPv6 literal (with or without brackets):
    /// such hosts must never appear in SNI (RFC 6066 §3).
    public static func isIPLiteral(_ host: String) -> Bool {
        if host.contains(":") { return true }  // IPv6 (host names cannot contain a colon)
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && Int(part).map { $0 <= 255 } == true
        }
    }
}
