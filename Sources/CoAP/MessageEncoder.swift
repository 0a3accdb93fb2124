extension CoAPMessage {
    /// The largest option value length the option format can express (14-nibble + 2 bytes).
    public static let maximumOptionLength = 65535 + 269

    /// Encodes the message into a new datagram.
    public func encoded() throws(CoAPEncodingError) -> [UInt8] {
        var buffer: [UInt8] = []
        try encode(into: &buffer)
        return buffer
    }

    /// Appends the encoded message to `buffer`.
    public func encode(into buffer: inout [UInt8]) throws(CoAPEncodingError) {
        if !options.isSortedByNumber {
            var sorted = self
            sorted.options = options.sortedByNumber()
            try sorted.encode(into: &buffer)
            return
        }
        if code.isEmpty {
            // An empty message is the 4-byte header only (§4.1); anything else would be malformed.
            buffer.append(0x40 | type.rawValue << 4)
            buffer.append(0)
            buffer.append(UInt8(messageID >> 8))
            buffer.append(UInt8(truncatingIfNeeded: messageID))
            return
        }
        let start = buffer.count
        var size = 4 + token.count + (payload.isEmpty ? 0 : payload.count + 1)
        for option in options { size += option.value.count + 5 }
        buffer.reserveCapacity(buffer.count + size)

        buffer.append(0x40 | type.rawValue << 4 | UInt8(token.count))
        buffer.append(code.rawValue)
        buffer.append(UInt8(messageID >> 8))
        buffer.append(UInt8(truncatingIfNeeded: messageID))
        if token.count > 0 { token.appendBytes(to: &buffer) }

        var previous = 0
        for option in options {
            let length = option.value.count
            guard length <= Self.maximumOptionLength else {
                buffer.removeSubrange(start...)  // leave the caller's buffer as it was
                throw .optionTooLong(option.number, length: length)
            }
            let delta = Int(option.number.rawValue) - previous
            previous = Int(option.number.rawValue)
            let headerIndex = buffer.count
            buffer.append(0)
            let deltaNibble = Self.appendExtended(delta, to: &buffer)
            let lengthNibble = Self.appendExtended(length, to: &buffer)
            buffer[headerIndex] = deltaNibble << 4 | lengthNibble
            buffer.append(contentsOf: option.value)
        }
        if !payload.isEmpty {
            buffer.append(0xFF)
            buffer.append(contentsOf: payload)
        }
    }

    /// Appends the extension bytes for an option delta/length and returns its nibble.
    @inline(__always)
    private static func appendExtended(_ value: Int, to buffer: inout [UInt8]) -> UInt8 {
        if value < 13 { return UInt8(value) }
        if value < 269 {
            buffer.append(UInt8(value - 13))
            return 13
        }
        let extended = value - 269
        buffer.append(UInt8(extended >> 8))
        buffer.append(UInt8(truncatingIfNeeded: extended))
        return 14
    }
}
