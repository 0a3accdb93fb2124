import Glibc

/// One address assigned to an interface.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public let interface: String
    /// Text form: `192.0.2.2`, `fd00::2`.
    public let address: String
    public let isIPv6: Bool

    public init(interface: String, address: String, isIPv6: Bool) {
        self.interface = interface
        self.address = address
        self.isIPv6 = isIPv6
    }

    /// An IPv6 link-local address (fe80::/10): valid only with a zone, useless to a server.
    public var isLinkLocal: Bool {
        guard isIPv6 else { return false }
        let head = address.lowercased()
        return head.hasPrefix("fe8") || head.hasPrefix("fe9") || head.hasPrefix("fea") || head.hasPrefix("feb")
    }

    public var description: String { "\(address) on \(interface)" }
}

/// The addresses of the machine's interfaces from getifaddrs(3) (rtnetlink underneath): the one
/// kernel source read through a system call rather than a file, so tests inject their own list
/// instead of a fixture tree.
public enum NetworkAddresses {
    /// Every IPv4 and IPv6 address of every interface, in the kernel's order; empty when
    /// getifaddrs fails.
    public static func live() -> [InterfaceAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var addresses: [InterfaceAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let socketAddress = entry.pointee.ifa_addr, let name = entry.pointee.ifa_name else { continue }
            let interface = String(cString: name)
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let bytes = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                }
                addresses.append(InterfaceAddress(interface: interface, address: IPAddressText.ipv4(bytes), isIPv6: false))
            case AF_INET6:
                let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                addresses.append(InterfaceAddress(interface: interface, address: IPAddressText.ipv6(bytes), isIPv6: true))
            default:
                continue
            }
        }
        return addresses
    }
}

/// IP addresses as text, without the C library (so fixture parsing gives the same text on every
/// host): dotted quads and RFC 5952 IPv6 (lower case, no leading zeros, the longest run of two or
/// more zero groups as `::`, the first of equal runs).
public enum IPAddressText {
    /// Four bytes in network order as `a.b.c.d`; "" for another count.
    public static func ipv4(_ bytes: [UInt8]) -> String {
        guard bytes.count == 4 else { return "" }
        return bytes.map { String($0) }.joined(separator: ".")
    }

    /// Sixteen bytes in network order; "" for another count. IPv4-mapped addresses end in a
    /// dotted quad (`::ffff:192.0.2.1`).
    public static func ipv6(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "" }
        if bytes[0 ..< 10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "::ffff:" + ipv4(Array(bytes[12...]))
        }
        let groups = (0 ..< 8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0 ... 8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength { (bestStart, bestLength) = (runStart, index - runStart) }
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
