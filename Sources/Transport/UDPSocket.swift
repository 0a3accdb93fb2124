import CTransport
import Glibc

/// A non-blocking UDP socket.
///
/// `send` and `receive` allocate nothing: they take caller-owned buffers and build socket
/// addresses on the stack. The socket is closed by ``close()`` or when the object is released.
///
/// The class is not `Sendable`; own it from the thread that runs the event loop.
public final class UDPSocket {
    /// The socket's file descriptor, for registering with a ``Poller``; `-1` once closed.
    public private(set) var fileDescriptor: Int32

    /// The socket's address family. An `.ipv6` socket bound to `::` is dual-stack.
    public let family: SocketAddress.Family

    /// The address the socket is bound to, with the kernel-chosen port when bound to port 0.
    public let localAddress: SocketAddress

    /// Datagrams `send` gave up on because the kernel had no room (`EAGAIN`, `ENOBUFS`) or
    /// reported a stale ICMP error twice in a row (`ECONNREFUSED`).
    public private(set) var droppedSendCount = 0

    /// Datagrams `receive` skipped because they did not fit the caller's buffer, or came from
    /// an address that is neither IPv4 nor IPv6.
    public private(set) var droppedReceiveCount = 0

    /// The peer this socket is connected to (``connect(to:)``), if any.
    public private(set) var connectedPeer: SocketAddress?

    /// ICMP errors (port or host unreachable) reported on a **connected** socket, by `send` or
    /// `receive`: on a connected socket they can only be about its peer, so they tell the
    /// caller the peer is not there (an unconnected socket cannot tell whose they are).
    public private(set) var unreachableReports = 0

    /// How many undeliverable datagrams or stale errors one `receive` call skips before it
    /// returns `nil`, so a flood of oversized datagrams cannot starve the event loop's timers.
    public static let receiveSkipLimit = 64

    /// Opens a non-blocking UDP socket with `SO_REUSEADDR` and binds it to `address`.
    ///
    /// Binding to the IPv6 wildcard `::` clears `IPV6_V6ONLY`, so the socket is dual-stack and
    /// also receives IPv4 datagrams (reported as plain IPv4 ``SocketAddress``es).
    public init(bindingTo address: SocketAddress) throws(TransportError) {
        let family = address.family
        let socketType = Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = Glibc.socket(family.rawValue, socketType, Int32(IPPROTO_UDP))
        guard fd >= 0 else { throw TransportError.lastError("socket") }
        do throws(TransportError) {
            try UDPSocket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
            if family == .ipv6 && address.isWildcard {
                try UDPSocket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0, "setsockopt(IPV6_V6ONLY)")
            }
            let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
            guard bound == 0 else { throw TransportError.lastError("bind") }
            self.localAddress = try UDPSocket.boundAddress(fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fileDescriptor = fd
        self.family = family
    }

    /// Opens an ephemeral client socket bound to the wildcard address of `family`, port 0.
    /// An `.ipv6` client socket is dual-stack and can also send to IPv4 servers.
    public convenience init(family: SocketAddress.Family) throws(TransportError) {
        try self.init(bindingTo: .wildcard(family, port: 0))
    }

    deinit {
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
    }

    /// Closes the socket. Later sends and receives throw `.socket(errno: EBADF, …)`.
    public func close() {
        guard fileDescriptor >= 0 else { return }
        Glibc.close(fileDescriptor)
        fileDescriptor = -1
    }

    /// Connects the socket to `peer` (`connect(2)`): the kernel then delivers only `peer`'s
    /// datagrams to it, and reports ICMP errors about `peer` (``unreachableReports``).
    public func connect(to peer: SocketAddress) throws(TransportError) {
        if family == .ipv4 && peer.family == .ipv6 { throw .socket(errno: EAFNOSUPPORT, operation: "connect") }
        let fd = fileDescriptor
        let status =
            family == .ipv6
            ? peer.withIPv6SockAddr { Glibc.connect(fd, $0, $1) }
            : peer.withSockAddr { Glibc.connect(fd, $0, $1) }
        guard status == 0 else { throw TransportError.lastError("connect") }
        connectedPeer = peer
    }

    // MARK: Sending

    /// Sends one datagram to `destination`.
    ///
    /// An IPv4 destination is sent IPv4-mapped from an `.ipv6` socket. UDP may drop, so a full
    /// send queue (`EAGAIN`, `ENOBUFS`) drops the datagram and returns `false` rather than
    /// throwing; a pending `ECONNREFUSED` left by an earlier ICMP message is consumed and the
    /// send retried once.
    ///
    /// - Returns: `true` if the kernel accepted the datagram, `false` if it was dropped.
    /// - Throws: `.socket` for real failures (no route, message too long, closed socket,
    ///   `EAFNOSUPPORT` for an IPv6 destination on an `.ipv4` socket).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) throws(TransportError) -> Bool {
        if family == .ipv4 && destination.family == .ipv6 {
            throw .socket(errno: EAFNOSUPPORT, operation: "sendto")
        }
        let fd = fileDescriptor
        var retriedStaleError = false
        let connected = connectedPeer == destination
        while true {
            let sent =
                connected
                ? Glibc.send(fd, bytes.baseAddress, bytes.count, 0)
                : family == .ipv6
                ? destination.withIPv6SockAddr { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
                : destination.withSockAddr { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
            if sent >= 0 { return true }
            switch errno {
            case EINTR:
                continue
            case ECONNREFUSED where !retriedStaleError:
                // A pending error from an earlier datagram's ICMP message: about the peer when
                // connected, so counted; the send itself is tried again.
                if connected { unreachableReports &+= 1 }
                retriedStaleError = true
                continue
            case EAGAIN, EWOULDBLOCK, ENOBUFS, ECONNREFUSED:
                droppedSendCount &+= 1
                return false
            case let error:
                throw .socket(errno: error, operation: "sendto")
            }
        }
    }

    /// Sends one datagram to `destination`; see the `UnsafeRawBufferPointer` overload.
    @discardableResult
    public func send(_ bytes: [UInt8], to destination: SocketAddress) throws(TransportError) -> Bool {
        // `Array.withUnsafeBytes` is untyped-rethrows; carry the typed error out in a `Result`.
        let outcome = bytes.withUnsafeBytes { buffer in
            Result { () throws(TransportError) -> Bool in try send(buffer, to: destination) }
        }
        return try outcome.get()
    }

    // MARK: Receiving

    /// Reads the next datagram into `buffer`.
    ///
    /// Datagrams larger than `buffer` are **skipped** (detected with `MSG_TRUNC`) rather than
    /// delivered cut short, and counted in ``droppedReceiveCount``; so are stale asynchronous
    /// ICMP errors (`ECONNREFUSED`, `EHOSTUNREACH`, …). Size the buffer for the largest datagram
    /// you accept (for CoAP over UDP, 1152 bytes plus margin; 65535 to never skip).
    ///
    /// - Returns: the datagram's length and sender, or `nil` when nothing deliverable is pending
    ///   (`EAGAIN`, or ``receiveSkipLimit`` datagrams skipped in this call): poll and try again.
    /// - Throws: `.socket` for real failures, such as a closed socket.
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(TransportError) -> (count: Int, from: SocketAddress)? {
        let fd = fileDescriptor
        var skipped = 0
        while skipped < UDPSocket.receiveSkipLimit {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), $0, &length)
                }
            }
            if received < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK:
                    return nil
                case EINTR:
                    continue
                case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN:
                    // An earlier send's ICMP error; says nothing about this read. Connected,
                    // it can only be about the peer: counted for the caller.
                    if connectedPeer != nil { unreachableReports &+= 1 }
                    skipped += 1
                    continue
                case let error:
                    throw .socket(errno: error, operation: "recvfrom")
                }
            }
            guard received <= buffer.count, let sender = SocketAddress(&storage, length: length) else {
                droppedReceiveCount &+= 1
                skipped += 1
                continue
            }
            return (received, sender)
        }
        return nil
    }

    /// Takes up to `batch.capacity` pending datagrams with one `recvmmsg(2)`: one system call
    /// per wake-up however many datagrams it finds, and, when it finds fewer than the batch
    /// holds, the proof that the socket is drained (no second read to meet `EAGAIN`).
    ///
    /// Skips as ``receive(into:)-(UnsafeMutableRawBufferPointer)`` does: a datagram longer than
    /// a slot, or from an address that is neither IPv4 nor IPv6, is taken and counted in
    /// ``droppedReceiveCount`` (its slot gives no datagram); a stale ICMP error is consumed,
    /// counted in ``unreachableReports`` when connected, and the read tried again (at most
    /// ``receiveSkipLimit`` times).
    ///
    /// - Returns: how many datagrams were taken (`batch.count`; 0: nothing pending); the
    ///   deliverable ones are `batch.datagram(i)` for `i < count`.
    /// - Throws: `.socket` for real failures, such as a closed socket.
    public func receive(into batch: DatagramBatch) throws(TransportError) -> Int {
        let fd = fileDescriptor
        var errors = 0
        while errors < UDPSocket.receiveSkipLimit {
            batch.prepare()
            let received = lwm2m_recvmmsg(fd, batch.headers.baseAddress, UInt32(batch.capacity),
                                          Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT))
            if received < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK:
                    return 0
                case EINTR:
                    continue
                case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN:
                    if connectedPeer != nil { unreachableReports &+= 1 }
                    errors += 1
                    continue
                case let error:
                    throw .socket(errno: error, operation: "recvmmsg")
                }
            }
            droppedReceiveCount &+= batch.settle(Int(received))
            return Int(received)
        }
        return 0
    }

    // MARK: Options

    /// Requests a kernel receive buffer of `bytes` (`SO_RCVBUF`). Linux doubles the value for
    /// bookkeeping and caps it at `net.core.rmem_max`.
    public func setReceiveBufferSize(_ bytes: Int) throws(TransportError) {
        let value = Int32(clamping: bytes)
        try UDPSocket.setOption(fileDescriptor, SOL_SOCKET, SO_RCVBUF, value, "setsockopt(SO_RCVBUF)")
    }

    /// The kernel receive buffer size in bytes (`SO_RCVBUF`, as reported by the kernel).
    public func receiveBufferSize() throws(TransportError) -> Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0 else {
            throw TransportError.lastError("getsockopt(SO_RCVBUF)")
        }
        return Int(value)
    }

    private static func setOption(
        _ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ operation: String
    ) throws(TransportError) {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw TransportError.lastError(operation)
        }
    }

    private static func boundAddress(_ fd: Int32) throws(TransportError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard status == 0 else { throw TransportError.lastError("getsockname") }
        guard let address = SocketAddress(&storage, length: length) else {
            throw .socket(errno: EAFNOSUPPORT, operation: "getsockname")
        }
        return address
    }
}
