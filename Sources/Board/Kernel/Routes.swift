/// A default route of the kernel's main routing table: where traffic to the Internet leaves.
public struct DefaultRoute: Hashable, Sendable, CustomStringConvertible {
    /// The interface it leaves by.
    public let interface: String
    /// The next hop (router), text form: `192.0.2.1`, `fd00::1`, a link-local one with its zone
    /// (`fe80::1%eth0`, RFC 4007 §11).
    public let gateway: String
    /// Lower is preferred.
    public let metric: UInt32
    public let isIPv6: Bool

    public init(interface: String, gateway: String, metric: UInt32, isIPv6: Bool) {
        self.interface = interface
        self.gateway = gateway
        self.metric = metric
        self.isIPv6 = isIPv6
    }

    public var description: String { "default via \(gateway) dev \(interface) metric \(metric)" }
}

/// The default routes from `/proc/net/route` (IPv4, proc(5)) and `/proc/net/ipv6_route` (IPv6,
/// the kernel's net/ipv6/route.c format). Lines that do not parse are skipped, never fatal.
public enum Routes {
    /// RTF_UP, RTF_GATEWAY and RTF_REJECT (include/uapi/linux/route.h).
    static let up: UInt32 = 0x0001
    static let gatewayFlag: UInt32 = 0x0002
    static let reject: UInt32 = 0x0200

    /// The usable default routes with a gateway: IPv4 ones first, each family by ascending metric.
    public static func defaultRoutes(in root: SystemRoot) -> [DefaultRoute] {
        ipv4(root.text("/proc/net/route") ?? "") + ipv6(root.text("/proc/net/ipv6_route") ?? "")
    }

    /// The default routes of a `/proc/net/route` text: a header line, then per route `Iface
    /// Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT`, addresses as the
    /// hexadecimal of the 32-bit value in host byte order (`010200C0` is 192.0.2.1 on a
    /// little-endian board).
    public static func ipv4(_ text: String) -> [DefaultRoute] {
        var routes: [DefaultRoute] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 8, let destination = UInt32(fields[1], radix: 16),
                  let gateway = UInt32(fields[2], radix: 16), let flags = UInt32(fields[3], radix: 16),
                  let metric = UInt32(fields[6]), let mask = UInt32(fields[7], radix: 16),
                  destination == 0, mask == 0, flags & (up | gatewayFlag) == up | gatewayFlag, flags & reject == 0
            else { continue }
            routes.append(DefaultRoute(interface: String(fields[0]), gateway: dottedQuad(hostOrder: gateway),
                                       metric: metric, isIPv6: false))
        }
        return stable(routes)
    }

    /// The default routes of a `/proc/net/ipv6_route` text: per route `destination prefix-length
    /// source prefix-length next-hop metric refcount use flags interface`, addresses as 32 hex
    /// digits in network byte order, numbers in hexadecimal.
    public static func ipv6(_ text: String) -> [DefaultRoute] {
        var routes: [DefaultRoute] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 10, let destination = ipv6Bytes(fields[0]), destination.allSatisfy({ $0 == 0 }),
                  fields[1] == "00", let nextHop = ipv6Bytes(fields[4]), !nextHop.allSatisfy({ $0 == 0 }),
                  let metric = UInt32(fields[5], radix: 16), let flags = UInt32(fields[8], radix: 16),
                  flags & (up | gatewayFlag) == up | gatewayFlag, flags & reject == 0
            else { continue }
            // A router learnt from router advertisements is link-local: only its zone makes it usable.
            let isLinkLocal = nextHop[0] == 0xFE && nextHop[1] & 0xC0 == 0x80
            let gateway = IPAddressText.ipv6(nextHop) + (isLinkLocal ? "%" + fields[9] : "")
            routes.append(DefaultRoute(interface: String(fields[9]), gateway: gateway, metric: metric, isIPv6: true))
        }
        return stable(routes)
    }

    /// `routes` by ascending metric, keeping the file's order among equals.
    private static func stable(_ routes: [DefaultRoute]) -> [DefaultRoute] {
        routes.enumerated().sorted { ($0.element.metric, $0.offset) < ($1.element.metric, $1.offset) }.map(\.element)
    }

    /// The four bytes of `value` as they lie in memory (the kernel prints the in-memory network
    /// order bytes as one host-order integer), dotted.
    static func dottedQuad(hostOrder value: UInt32) -> String {
        let bytes = withUnsafeBytes(of: value) { Array($0) }
        return IPAddressText.ipv4(bytes)
    }

    /// 32 hexadecimal digits as 16 bytes.
    static func ipv6Bytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index ..< index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }
}
