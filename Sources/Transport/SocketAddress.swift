import Glibc

/// A UDP endpoint: an IPv4 or IPv6 address, a port and (IPv6 only) a scope id.
///
/// The value is 24 bytes and trivially copyable, so it is cheap to use as the CoAP engine's
/// `Peer` key: `==` compares its fields directly and `hash(into:)` feeds exactly 24 bytes to the hasher.
///
/// Every address is stored in its IPv6 form, IPv4 as the IPv4-mapped address
/// `::ffff:a.b.c.d`. An IPv4 peer is therefore the same key whether its datagram arrived on an
/// `AF_INET` socket or, mapped, on a dual-stack `AF_INET6` socket; ``family`` reports `.ipv4`
/// for it either way, and ``description`` prints the dotted form.
public struct SocketAddress: Hashable, Sendable {
    /// Address bytes 0...7 as a big-endian integer.
    @usableFromInline var high: UInt64
    /// Address bytes 8...15 as a big-endian integer.
    @usableFromInline var low: UInt64
    /// IPv6 scope id (interface index); always 0 for IPv4.
    @usableFromInline var scope: UInt32
    /// The UDP port, in host byte order.
    public var port: UInt16

    /// `low`'s upper half for an IPv4-mapped address.
    @usableFromInline static let mappedPrefix: UInt64 = 0x0000_FFFF_0000_0000

    /// An IP address family.
    public enum Family: Hashable, Sendable {
        case ipv4
        case ipv6

        /// The `AF_INET` / `AF_INET6` constant.
        @inlinable
        public var rawValue: Int32 { self == .ipv4 ? AF_INET : AF_INET6 }

        /// The family for an `AF_INET` / `AF_INET6` constant; `nil` for any other value.
        @inlinable
        public init?(rawValue: Int32) {
            switch rawValue {
            case AF_INET: self = .ipv4
            case AF_INET6: self = .ipv6
            default: return nil
            }
        }
    }

    /// An IPv4 address, given as a host-order integer (`0x7F00_0001` is 127.0.0.1).
    @inlinable
    public init(ipv4 address: UInt32, port: UInt16) {
        self.high = 0
        self.low = SocketAddress.mappedPrefix | UInt64(address)
        self.scope = 0
        self.port = port
    }

    /// An IPv6 address given as two big-endian 64-bit halves (`high` holds bytes 0...7).
    /// An IPv4-mapped address (`::ffff:a.b.c.d`) becomes the IPv4 address, dropping the scope id.
    @inlinable
    public init(ipv6High high: UInt64, low: UInt64, port: UInt16, scopeID: UInt32 = 0) {
        self.high = high
        self.low = low
        self.port = port
        self.scope = (high == 0 && low >> 32 == 0x0000_FFFF) ? 0 : scopeID
    }

    /// The wildcard address (`0.0.0.0` or `::`) of `family`, for binding.
    @inlinable
    public static func wildcard(_ family: Family, port: UInt16 = 0) -> SocketAddress {
        family == .ipv4 ? SocketAddress(ipv4: 0, port: port) : SocketAddress(ipv6High: 0, low: 0, port: port)
    }

    /// The loopback address (`127.0.0.1` or `::1`) of `family`.
    @inlinable
    public static func loopback(_ family: Family, port: UInt16) -> SocketAddress {
        family == .ipv4
            ? SocketAddress(ipv4: 0x7F00_0001, port: port) : SocketAddress(ipv6High: 0, low: 1, port: port)
    }

    /// `.ipv4` for IPv4 addresses (including ones received IPv4-mapped), otherwise `.ipv6`.
    @inlinable
    public var family: Family { high == 0 && low >> 32 == 0x0000_FFFF ? .ipv4 : .ipv6 }

    /// The IPv4 address as a host-order integer, or `nil` for an IPv6 address.
    @inlinable
    public var ipv4Address: UInt32? { family == .ipv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// The IPv6 scope id (interface index); 0 when unscoped and always 0 for IPv4.
    @inlinable
    public var scopeID: UInt32 { scope }

    /// Whether this is the wildcard (unspecified) address `0.0.0.0` or `::`.
    @inlinable
    public var isWildcard: Bool { high == 0 && (low == 0 || low == SocketAddress.mappedPrefix) }

    /// Whether this is a loopback address (`127.0.0.0/8` or `::1`).
    @inlinable
    public var isLoopback: Bool {
        if let v4 = ipv4Address { return v4 >> 24 == 127 }
        return high == 0 && low == 1
    }

    @inlinable
    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.low == rhs.low && lhs.high == rhs.high && lhs.port == rhs.port && lhs.scope == rhs.scope
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(low)
        hasher.combine(high)
        hasher.combine(UInt64(scope) << 16 | UInt64(port))
    }
}

// MARK: - sockaddr conversion

extension SocketAddress {
    /// Reads an `AF_INET` or `AF_INET6` socket address; `nil` for other families or a length
    /// too short for the family. IPv4-mapped IPv6 addresses normalise to IPv4.
    public init?(_ address: UnsafePointer<sockaddr_storage>, length: socklen_t) {
        self.init(rawSockAddr: UnsafeRawPointer(address), length: Int(length))
    }

    /// Reads an `AF_INET` or `AF_INET6` socket address (as found in `addrinfo.ai_addr`); `nil`
    /// for other families or a length too short for the family.
    public init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        self.init(rawSockAddr: UnsafeRawPointer(address), length: Int(length))
    }

    @usableFromInline
    init?(rawSockAddr raw: UnsafeRawPointer, length: Int) {
        guard length >= MemoryLayout<sockaddr_in>.size else { return nil }
        let family = Int32(raw.loadUnaligned(as: sockaddr.self).sa_family)
        if family == AF_INET {
            let sin = raw.loadUnaligned(as: sockaddr_in.self)
            self.init(ipv4: UInt32(bigEndian: sin.sin_addr.s_addr), port: UInt16(bigEndian: sin.sin_port))
        } else if family == AF_INET6, length >= MemoryLayout<sockaddr_in6>.size {
            var sin6 = raw.loadUnaligned(as: sockaddr_in6.self)
            let (high, low) = withUnsafeBytes(of: &sin6.sin6_addr) { bytes in
                (UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self.init(ipv6High: high, low: low, port: UInt16(bigEndian: sin6.sin6_port), scopeID: sin6.sin6_scope_id)
        } else {
            return nil
        }
    }

    /// Calls `body` with this address as a `sockaddr_in` (IPv4) or `sockaddr_in6` (IPv6) and
    /// its length, for `bind`, `sendto` and friends on a socket of the matching family.
    /// Nothing is allocated: the structure lives on the stack for the duration of `body`.
    @inlinable
    public func withSockAddr<R, E: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R
    ) throws(E) -> R {
        guard let v4 = ipv4Address else { return try withIPv6SockAddr(body) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = v4.bigEndian
        return try withUnsafePointer(to: &sin) { (pointer) throws(E) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(E) -> R in
                try body(address, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Calls `body` with this address as a `sockaddr_in6`, IPv4 addresses in their IPv4-mapped
    /// form `::ffff:a.b.c.d`: the form a dual-stack `AF_INET6` socket needs for `sendto`.
    @inlinable
    public func withIPv6SockAddr<R, E: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R
    ) throws(E) -> R {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        sin6.sin6_scope_id = scope
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return try withUnsafePointer(to: &sin6) { (pointer) throws(E) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(E) -> R in
                try body(address, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }
}

// MARK: - Text

extension SocketAddress: CustomStringConvertible, LosslessStringConvertible {
    /// Parses a numeric IP address literal (no DNS): dotted IPv4 (`"192.0.2.1"`) or IPv6
    /// (`"2001:db8::1"`, optionally in brackets `"[::1]"` and with a zone `"fe80::1%eth0"` /
    /// `"fe80::1%2"`). Returns `nil` for anything else, including host names.
    public init?(ipAddress text: String, port: UInt16) {
        var literal = Substring(text)
        var bracketed = false
        if literal.first == "[" {
            guard literal.last == "]", literal.count > 2 else { return nil }
            literal = literal.dropFirst().dropLast()
            bracketed = true
        }
        if literal.contains(":") {
            var scopeID: UInt32 = 0
            if let percent = literal.firstIndex(of: "%") {
                let zone = literal[literal.index(after: percent)...]
                guard !zone.isEmpty else { return nil }
                if let number = UInt32(zone) {
                    scopeID = number
                } else {
                    scopeID = if_nametoindex(String(zone))
                    guard scopeID != 0 else { return nil }
                }
                literal = literal[..<percent]
            }
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(literal), &address) == 1 else { return nil }
            let (high, low) = withUnsafeBytes(of: &address) { bytes in
                (UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self.init(ipv6High: high, low: low, port: port, scopeID: scopeID)
        } else {
            guard !bracketed else { return nil }
            var address = in_addr()
            guard inet_pton(AF_INET, String(literal), &address) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: address.s_addr), port: port)
        }
    }

    /// Parses the ``description`` form: `"192.0.2.1:5683"` or `"[2001:db8::1]:5683"`
    /// (with an optional `%zone` inside the brackets). The port is required.
    public init?(_ description: String) {
        guard let colon = description.lastIndex(of: ":"),
              let port = UInt16(description[description.index(after: colon)...])
        else { return nil }
        let host = String(description[..<colon])
        if host.first != "[" && host.contains(":") { return nil }  // IPv6 needs brackets here
        self.init(ipAddress: host, port: port)
    }

    /// The address without the port: `"127.0.0.1"`, `"::1"`, `"fe80::1%2"`.
    public var ipAddress: String {
        if let v4 = ipv4Address {
            return "\(v4 >> 24).\(v4 >> 16 & 0xFF).\(v4 >> 8 & 0xFF).\(v4 & 0xFF)"
        }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        let text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN)) { buffer in
            inet_ntop(AF_INET6, &address, buffer.baseAddress, socklen_t(buffer.count)).map { String(cString: $0) }
        }
        let base = text ?? "?"
        return scope == 0 ? base : "\(base)%\(scope)"
    }

    /// `"127.0.0.1:5683"` for IPv4, `"[::1]:5683"` for IPv6 (scope id printed numerically,
    /// `"[fe80::1%2]:5683"`). Parses back with ``init(_:)``.
    public var description: String {
        family == .ipv4 ? "\(ipAddress):\(port)" : "[\(ipAddress)]:\(port)"
    }
}
