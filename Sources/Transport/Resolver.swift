import Glibc

/// Host name resolution for UDP endpoints.
public enum Resolver {
    /// Resolves `host` to UDP socket addresses with `port`.
    ///
    /// Numeric literals (`"192.0.2.1"`, `"2001:db8::1"`, `"[::1]"`, `"fe80::1%eth0"`) are parsed
    /// directly without calling `getaddrinfo`. Names go through `getaddrinfo` (`SOCK_DGRAM`,
    /// `IPPROTO_UDP`), which **blocks** on DNS: call this at start-up or off the packet loop.
    /// The result keeps `getaddrinfo`'s preference order (RFC 6724), has no duplicates, and is
    /// never empty.
    ///
    /// - Parameter family: restrict results to one family (for example, the family of the
    ///   socket that will be used); `nil` returns both IPv4 and IPv6 addresses.
    /// - Throws: `.resolution` when the name does not resolve (or resolves to no address of the
    ///   wanted family), `.invalidAddress` for an empty or malformed bracketed host.
    public static func resolve(
        host: String, port: UInt16, family: SocketAddress.Family? = nil
    ) throws(TransportError) -> [SocketAddress] {
        if let literal = SocketAddress(ipAddress: host, port: port) {
            if let family, literal.family != family {
                throw .resolution(host: host, message: "address is not \(family == .ipv4 ? "IPv4" : "IPv6")")
            }
            return [literal]
        }
        // Brackets only ever surround an IPv6 literal, and an empty name means nothing.
        guard !host.isEmpty, host.first != "[" else { throw .invalidAddress(host) }

        var hints = addrinfo()
        hints.ai_family = family?.rawValue ?? AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_UDP)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, nil, &hints, &list)
        let systemError = errno
        defer { if let list { freeaddrinfo(list) } }
        guard status == 0 else {
            let text = status == EAI_SYSTEM ? TransportError.errorText(systemError) : gaiErrorText(status)
            throw .resolution(host: host, message: text)
        }

        var addresses: [SocketAddress] = []
        var node = list
        while let entry = node?.pointee {
            if let raw = entry.ai_addr, var address = SocketAddress(raw, length: entry.ai_addrlen) {
                address.port = port
                if !addresses.contains(address) { addresses.append(address) }
            }
            node = entry.ai_next
        }
        guard !addresses.isEmpty else {
            throw .resolution(host: host, message: "no IPv4 or IPv6 address for this name")
        }
        return addresses
    }

    private static func gaiErrorText(_ status: Int32) -> String {
        guard let text = gai_strerror(status) else { return "resolver error \(status)" }
        return String(cString: text)
    }
}
