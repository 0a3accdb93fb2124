import Glibc

/// Where `$NOTIFY_SOCKET` points: an AF_UNIX datagram socket, by file-system path (`/run/…`)
/// or in the abstract namespace (`@name`: the `@` becomes a leading NUL byte).
public struct NotifySocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The bytes of `sun_path` (a leading 0 for the abstract namespace), without a trailing NUL.
    public let pathBytes: [UInt8]

    /// sun_path's capacity (108 on Linux).
    static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Nil for what systemd itself would not accept here: empty, relative, other families
    /// (`vsock:` is not supported), or too long for `sun_path`.
    public init?(_ value: String) {
        var bytes = Array(value.utf8)
        guard let first = bytes.first, bytes.count > 1 || first == UInt8(ascii: "/") else { return nil }
        switch first {
        case UInt8(ascii: "/"):
            // A path needs its terminating NUL inside sun_path.
            guard bytes.count < Self.capacity else { return nil }
        case UInt8(ascii: "@"):
            bytes[0] = 0
            guard bytes.count <= Self.capacity else { return nil }
        default:
            return nil
        }
        guard !bytes.dropFirst().contains(0) else { return nil }
        pathBytes = bytes
    }

    /// True for `@name` addresses.
    public var isAbstract: Bool { pathBytes.first == 0 }

    public var description: String {
        isAbstract ? "@" + String(decoding: pathBytes.dropFirst(), as: UTF8.self) : String(decoding: pathBytes, as: UTF8.self)
    }

    /// The address length passed to sendto(2): the family plus the path (with its NUL for a
    /// file-system path; an abstract name is exactly its bytes).
    public var length: socklen_t {
        socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (isAbstract ? 0 : 1))
    }

    /// Calls `body` with the sockaddr_un and its length (sendto, bind).
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
