import CTransport
import Glibc

/// `struct mmsghdr` (recvmmsg(2)): the message header, then the length the kernel received.
/// Laid out as C lays it out (checked against the C struct in the tests).
public struct MessageHeaderWithLength {
    /// `msg_hdr`.
    public var header = msghdr()
    /// `msg_len`: the bytes received (with MSG_TRUNC, the datagram's real length).
    public var length: UInt32 = 0

    public init() {}

    /// Whether this layout matches the platform's `struct mmsghdr` (size and `msg_len` offset).
    public static var matchesC: Bool {
        MemoryLayout<Self>.stride == lwm2m_mmsghdr_size()
            && MemoryLayout<Self>.offset(of: \.length) == lwm2m_mmsghdr_len_offset()
    }
}

/// Buffers for taking several datagrams from a socket with one `recvmmsg(2)`
/// (``UDPSocket/receive(into:)-(DatagramBatch)``): `capacity` slots of `slotSize` bytes, each with
/// its sender's address. Allocated once and reused (the event loop owns one); a slot's memory is
/// only touched when a datagram lands in it.
///
/// Not `Sendable`: use it from the thread that owns the socket.
public final class DatagramBatch {
    /// Datagrams one receive takes at most.
    public let capacity: Int
    /// The largest datagram a slot holds; a longer one is skipped (counted by the socket).
    public let slotSize: Int
    /// Datagrams the last receive took from the kernel, deliverable or not.
    public internal(set) var count = 0

    private let storage: UnsafeMutableRawBufferPointer
    let headers: UnsafeMutableBufferPointer<MessageHeaderWithLength>
    private let vectors: UnsafeMutableBufferPointer<iovec>
    private let addresses: UnsafeMutableBufferPointer<sockaddr_storage>
    /// Per slot after a receive: the datagram's length, or -1 when it was skipped.
    private let lengths: UnsafeMutableBufferPointer<Int>
    /// Per slot after a receive: the sender (nil when skipped).
    private let senders: UnsafeMutableBufferPointer<SocketAddress?>

    /// `capacity` (at least 1) slots of `slotSize` (at least 1) bytes.
    public init(capacity: Int, slotSize: Int = 65_536) {
        self.capacity = max(1, capacity)
        self.slotSize = max(1, slotSize)
        storage = .allocate(byteCount: self.capacity * self.slotSize, alignment: 16)
        headers = .allocate(capacity: self.capacity)
        vectors = .allocate(capacity: self.capacity)
        addresses = .allocate(capacity: self.capacity)
        lengths = .allocate(capacity: self.capacity)
        senders = .allocate(capacity: self.capacity)
        senders.initialize(repeating: nil)
        headers.initialize(repeating: MessageHeaderWithLength())
        addresses.initialize(repeating: sockaddr_storage())
        lengths.initialize(repeating: -1)
        for slot in 0..<self.capacity {
            vectors[slot] = iovec(iov_base: storage.baseAddress! + slot * self.slotSize, iov_len: self.slotSize)
            headers[slot].header.msg_iov = vectors.baseAddress! + slot
            headers[slot].header.msg_iovlen = 1
            headers[slot].header.msg_name = UnsafeMutableRawPointer(addresses.baseAddress! + slot)
        }
    }

    deinit {
        storage.deallocate()
        headers.deallocate()
        vectors.deallocate()
        addresses.deallocate()
        lengths.deallocate()
        senders.deinitialize().deallocate()
    }

    /// Datagram `index` of the last receive and its sender; nil when it was skipped (longer
    /// than a slot, or from an address that is neither IPv4 nor IPv6). Valid until the next
    /// receive.
    public func datagram(_ index: Int) -> (bytes: UnsafeRawBufferPointer, sender: SocketAddress)? {
        guard index >= 0, index < count, lengths[index] >= 0, let sender = senders[index] else { return nil }
        return (UnsafeRawBufferPointer(start: storage.baseAddress! + index * slotSize, count: lengths[index]), sender)
    }

    /// Readies every slot for a receive (the kernel overwrites the name length and flags).
    func prepare() {
        count = 0
        for slot in 0..<capacity {
            headers[slot].header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            headers[slot].header.msg_flags = 0
            headers[slot].length = 0
            lengths[slot] = -1
            senders[slot] = nil
        }
    }

    /// Records what the kernel put in the first `received` slots; returns how many were skipped.
    func settle(_ received: Int) -> Int {
        count = received
        var skipped = 0
        for slot in 0..<received {
            let length = Int(headers[slot].length)  // with MSG_TRUNC: the datagram's real length
            let truncated = headers[slot].header.msg_flags & Int32(MSG_TRUNC) != 0
            let sender = SocketAddress(addresses.baseAddress! + slot, length: headers[slot].header.msg_namelen)
            if truncated || length > slotSize || sender == nil {
                skipped += 1
            } else {
                lengths[slot] = length
                senders[slot] = sender
            }
        }
        return skipped
    }
}
