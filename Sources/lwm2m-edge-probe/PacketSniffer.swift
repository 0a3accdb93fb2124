#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: its name and errno's text.
struct SystemError: Error, CustomStringConvertible {
    var call: String
    var code: Int32
    var description: String { "\(call): \(String(cString: strerror(code)))" }
}

/// One packet the sniffer saw go out.
struct OutgoingPacket {
    /// The IPv4 packet (AF_PACKET SOCK_DGRAM: no link-layer header).
    var bytes: [UInt8]
    /// The kernel's receive timestamp on the packet socket (SO_TIMESTAMPNS: CLOCK_REALTIME, taken
    /// when the device's transmit path hands the packet to the taps), nanoseconds; nil if absent.
    var kernelRealtime: Int64?
    /// CLOCK_MONOTONIC and CLOCK_REALTIME read right after recvmsg returned, nanoseconds.
    var monotonicAfterReceive: Int64
    var realtimeAfterReceive: Int64
}

/// An AF_PACKET SOCK_DGRAM socket bound to one interface that keeps the host's own outgoing IPv4
/// packets (PACKET_OUTGOING, sll_protocol ETH_P_IP) and skips the rest. It must be an ETH_P_ALL
/// socket: the transmit path hands copies only to the "all protocols" taps (net/core/dev.c,
/// dev_queue_xmit_nit walks ptype_all), so an ETH_P_IP socket sees incoming packets only
/// (measured: in the guest it saw none of the agent's datagrams).
final class PacketSniffer {
    private static let ethernetTypeIPv4: UInt16 = 0x0800
    private static let packetOutgoing: UInt8 = 4          // linux/if_packet.h PACKET_OUTGOING
    private static let ethernetTypeAll: UInt16 = 0x0003   // linux/if_ether.h ETH_P_ALL
    private static let solSocket: Int32 = 1
    // SO_TIMESTAMPNS_OLD (asm-generic/socket.h; x86, arm, arm64): a timespec of the native `long`
    // size, 8 bytes on armv7, 16 on 64-bit; the parser takes the field size from the length.
    private static let soTimestampNS: Int32 = 35
    private static let addressSize = 20                   // struct sockaddr_ll

    let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    init(interface: String) throws(SystemError) {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw SystemError(call: "if_nametoindex(\(interface))", code: errno) }
        let protocolNumber = Int32(Self.ethernetTypeAll.bigEndian)
        let fd = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), protocolNumber)
        guard fd >= 0 else { throw SystemError(call: "socket(AF_PACKET) (needs CAP_NET_RAW)", code: errno) }
        descriptor = fd
        // struct sockaddr_ll { u16 family; be16 protocol; s32 ifindex; u16 hatype; u8 pkttype, halen; u8 addr[8] }
        var address = [UInt8](repeating: 0, count: Self.addressSize)
        address.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt16(AF_PACKET), toByteOffset: 0, as: UInt16.self)
            raw.storeBytes(of: Self.ethernetTypeAll.bigEndian, toByteOffset: 2, as: UInt16.self)
            raw.storeBytes(of: Int32(bitPattern: index), toByteOffset: 4, as: Int32.self)
        }
        let bound = address.withUnsafeBytes { raw in
            bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(Self.addressSize))
        }
        guard bound == 0 else { let code = errno; close(fd); throw SystemError(call: "bind(\(interface))", code: code) }
        var on: Int32 = 1
        guard setsockopt(fd, Self.solSocket, Self.soTimestampNS, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let code = errno; close(fd); throw SystemError(call: "setsockopt(SO_TIMESTAMPNS)", code: code)
        }
    }

    deinit { close(descriptor) }

    /// Discards every packet already queued (sent before the next edge).
    func drain() {
        while recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT)) >= 0 {}
    }

    /// The next outgoing packet, waiting until `deadline` (CLOCK_MONOTONIC ns); nil on timeout.
    func nextOutgoing(until deadline: Int64) throws(SystemError) -> OutgoingPacket? {
        while true {
            let remaining = deadline - Clock.monotonic()
            guard remaining > 0 else { return nil }
            var pollfd = Glibc.pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollfd, 1, Int32((remaining + 999_999) / 1_000_000))
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "poll", code: errno)
            }
            if ready == 0 { continue }
            if let packet = try receive() { return packet }
        }
    }

    /// One packet if it is outgoing, nil for an incoming one (or nothing queued).
    private func receive() throws(SystemError) -> OutgoingPacket? {
        var address = [UInt8](repeating: 0, count: Self.addressSize)
        var control = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { data in
            address.withUnsafeMutableBytes { name in
                control.withUnsafeMutableBytes { controlBytes in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                        var header = msghdr()
                        header.msg_name = name.baseAddress
                        header.msg_namelen = socklen_t(name.count)
                        header.msg_iov = vectorPointer
                        header.msg_iovlen = 1
                        header.msg_control = controlBytes.baseAddress
                        header.msg_controllen = numericCast(controlBytes.count)
                        let received = recvmsg(descriptor, &header, Int32(MSG_DONTWAIT))
                        let controlLength = Int(header.msg_controllen)
                        return (received, controlLength)
                    }
                }
            }
        }
        let monotonic = Clock.monotonic(), realtime = Clock.realtime()
        if count.0 < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return nil }
            throw SystemError(call: "recvmsg", code: errno)
        }
        let ethernetType = UInt16(address[2]) << 8 | UInt16(address[3])  // sll_protocol, network order
        guard address[10] == Self.packetOutgoing, ethernetType == Self.ethernetTypeIPv4 else { return nil }  // sll_pkttype
        return OutgoingPacket(bytes: Array(buffer[0..<Int(count.0)]),
                              kernelRealtime: Self.timestamp(in: control, length: min(count.1, control.count)),
                              monotonicAfterReceive: monotonic, realtimeAfterReceive: realtime)
    }

    /// The SCM_TIMESTAMPNS control message's time (ns), walking the cmsghdr list by hand
    /// (the CMSG_* macros are not visible to Swift): { size_t len; int level; int type; } then
    /// the data, each aligned to size_t.
    static func timestamp(in control: [UInt8], length: Int) -> Int64? {
        let word = MemoryLayout<Int>.size
        let headerSize = (word + 8 + word - 1) / word * word
        var offset = 0
        while offset + headerSize <= length {
            let (messageLength, level, type): (Int, Int32, Int32) = control.withUnsafeBytes { raw in
                (Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt.self)),
                 raw.loadUnaligned(fromByteOffset: offset + word, as: Int32.self),
                 raw.loadUnaligned(fromByteOffset: offset + word + 4, as: Int32.self))
            }
            guard messageLength >= headerSize, offset + messageLength <= length else { return nil }
            let dataLength = messageLength - headerSize
            if level == solSocket, type == soTimestampNS, dataLength == 8 || dataLength == 16 {
                let data = offset + headerSize
                return control.withUnsafeBytes { raw -> Int64 in
                    if dataLength == 16 {
                        return raw.loadUnaligned(fromByteOffset: data, as: Int64.self) * 1_000_000_000
                            + raw.loadUnaligned(fromByteOffset: data + 8, as: Int64.self)
                    }
                    return Int64(raw.loadUnaligned(fromByteOffset: data, as: Int32.self)) * 1_000_000_000
                        + Int64(raw.loadUnaligned(fromByteOffset: data + 4, as: Int32.self))
                }
            }
            offset += (messageLength + word - 1) / word * word
        }
        return nil
    }
}

/// clock_gettime in nanoseconds (Int64 on every platform: time_t may be 32 bits on armv7).
enum Clock {
    static func monotonic() -> Int64 { read(CLOCK_MONOTONIC) }
    static func realtime() -> Int64 { read(CLOCK_REALTIME) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
