/// Recognises a CoAP notification in an IPv4 packet as an AF_PACKET SOCK_DGRAM socket delivers it
/// (the IP header first, no link-layer header). Pure functions on bytes: every length is checked
/// before it is used, so a truncated or malformed packet is "not a notification", never a trap.

/// What the probe needs of a notification: its CoAP Message ID (a CON retransmission repeats it)
/// and the Observe option's value.
struct Notification: Equatable {
    var messageID: UInt16
    var observe: UInt32
}

enum NotificationFilter {
    static let ipProtocolUDP: UInt8 = 17
    static let observeOption = 6

    /// The notification carried by `packet` when it is an unfragmented IPv4 UDP datagram to
    /// `destinationPort` holding a CoAP response (class 2..5) with an Observe option; nil otherwise.
    static func notification(inIPv4 packet: [UInt8], destinationPort: UInt16) -> Notification? {
        guard packet.count >= 20, packet[0] >> 4 == 4 else { return nil }
        let headerLength = Int(packet[0] & 0x0F) * 4
        let totalLength = Int(packet[2]) << 8 | Int(packet[3])
        guard headerLength >= 20, totalLength >= headerLength + 8, totalLength <= packet.count,
              packet[9] == ipProtocolUDP else { return nil }
        // A fragment (More Fragments set, or an offset): the UDP payload is not whole here.
        let fragment = (Int(packet[6]) << 8 | Int(packet[7])) & 0x3FFF
        guard fragment == 0 else { return nil }
        let udp = headerLength
        let port = UInt16(packet[udp + 2]) << 8 | UInt16(packet[udp + 3])
        let udpLength = Int(packet[udp + 4]) << 8 | Int(packet[udp + 5])
        guard port == destinationPort, udpLength >= 8, udp + udpLength <= totalLength else { return nil }
        return notification(inCoAP: packet[(udp + 8)..<(udp + udpLength)])
    }

    /// The notification in a CoAP message (RFC 7252 §3): a response with an Observe option.
    static func notification(inCoAP message: ArraySlice<UInt8>) -> Notification? {
        let base = message.startIndex
        guard message.count >= 4, message[base] >> 6 == 1 else { return nil }
        let tokenLength = Int(message[base] & 0x0F)
        let codeClass = message[base + 1] >> 5
        guard tokenLength <= 8, (2...5).contains(codeClass) else { return nil }
        let messageID = UInt16(message[base + 2]) << 8 | UInt16(message[base + 3])
        var index = base + 4 + tokenLength
        guard index <= message.endIndex else { return nil }
        var number = 0
        while index < message.endIndex, message[index] != 0xFF {
            let first = message[index]
            index += 1
            guard let delta = extended(Int(first >> 4), message, &index),
                  let length = extended(Int(first & 0x0F), message, &index),
                  index + length <= message.endIndex else { return nil }
            number += delta
            if number == observeOption {
                guard length <= 3 else { return nil }  // RFC 7641 §2: 0 to 3 bytes
                var value: UInt32 = 0
                for byte in message[index..<(index + length)] { value = value << 8 | UInt32(byte) }
                return Notification(messageID: messageID, observe: value)
            }
            if number > observeOption { return nil }  // options come in ascending order
            index += length
        }
        return nil
    }

    /// An option delta or length nibble with its extension bytes (13: one byte + 13, 14: two
    /// bytes + 269, 15: reserved → nil).
    private static func extended(_ nibble: Int, _ message: ArraySlice<UInt8>, _ index: inout Int) -> Int? {
        switch nibble {
        case 0...12:
            return nibble
        case 13:
            guard index < message.endIndex else { return nil }
            defer { index += 1 }
            return Int(message[index]) + 13
        case 14:
            guard index + 1 < message.endIndex else { return nil }
            defer { index += 2 }
            return (Int(message[index]) << 8 | Int(message[index + 1])) + 269
        default:
            return nil
        }
    }
}
