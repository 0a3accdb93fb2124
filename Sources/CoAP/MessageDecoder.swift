extension CoAPMessage {
    /// Decodes one datagram. Throws a typed error for every malformed input; never traps.
    public init(decoding datagram: [UInt8]) throws(CoAPDecodingError) {
        let result = datagram.withUnsafeBytes { raw in
            Result { () throws(CoAPDecodingError) in try CoAPMessage(decoding: raw) }
        }
        self = try result.get()
    }

    /// Decodes one datagram from raw memory (the bytes are copied into the message).
    public init(decoding bytes: UnsafeRawBufferPointer) throws(CoAPDecodingError) {
        guard let header = MessageHeader(peeking: bytes) else { throw .truncatedHeader(length: bytes.count) }
        guard header.version == 1 else { throw .unsupportedVersion(header.version) }
        guard header.tokenLength <= 8 else { throw .invalidTokenLength(header.tokenLength) }
        let count = bytes.count
        var index = 4
        let tokenEnd = index + Int(header.tokenLength)
        guard tokenEnd <= count else { throw .truncatedToken }
        var tokenValue: UInt64 = 0
        while index < tokenEnd {
            tokenValue = tokenValue << 8 | UInt64(bytes[index])
            index += 1
        }

        if header.code.isEmpty {
            guard header.tokenLength == 0, count == 4 else { throw .nonEmptyEmptyMessage }
        } else if header.code.isReserved {
            throw .reservedCodeClass(header.code.codeClass)
        }

        var options: [CoAPOption] = []
        var payload: [UInt8] = []
        var number = 0
        while index < count {
            let byte = bytes[index]
            index += 1
            if byte == 0xFF {
                guard index < count else { throw .emptyPayloadAfterMarker }
                payload = Array(UnsafeRawBufferPointer(rebasing: bytes[index..<count]))
                break
            }
            let delta = try Self.extendedField(byte >> 4, bytes, &index, reserved: .reservedOptionDelta)
            let length = try Self.extendedField(byte & 0x0F, bytes, &index, reserved: .reservedOptionLength)
            number += delta
            guard number <= 0xFFFF else { throw .optionNumberOverflow }
            guard length <= count - index else { throw .truncatedOption }
            if options.isEmpty { options.reserveCapacity(4) }
            options.append(CoAPOption(
                OptionNumber(UInt16(number)),
                Array(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]))))
            index += length
        }

        self.type = header.type
        self.code = header.code
        self.messageID = header.messageID
        self.token = Token(storage: tokenValue, count: Int(header.tokenLength))
        self.options = options
        self.payload = payload
    }

    /// Reads a 4-bit option delta/length nibble and its 0, 1 or 2 extension bytes.
    @inline(__always)
    private static func extendedField(
        _ nibble: UInt8, _ bytes: UnsafeRawBufferPointer, _ index: inout Int, reserved: CoAPDecodingError
    ) throws(CoAPDecodingError) -> Int {
        switch nibble {
        case 0...12:
            return Int(nibble)
        case 13:
            guard index < bytes.count else { throw .truncatedOption }
            defer { index += 1 }
            return Int(bytes[index]) + 13
        case 14:
            guard index + 1 < bytes.count else { throw .truncatedOption }
            defer { index += 2 }
            return (Int(bytes[index]) << 8 | Int(bytes[index + 1])) + 269
        default:
            throw reserved
        }
    }
}
