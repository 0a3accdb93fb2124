import Testing
@testable import CoAP

/// Tests of the CoAP message codec (RFC 7252 §3). Expected datagrams are written by hand from the
/// RFC's format description — never produced by our own encoder — and checked in both directions.
///
/// Nested suites in other files (`CodecTests.Malformed`, `CodecTests.Property`,
/// `CodecTests.BlockValues`) share the `CodecTests` prefix so `--filter CodecTests` runs them all.
@Suite struct CodecTests {}

// MARK: - Helpers shared by the codec suites

/// Decodes through the `[UInt8]` entry point.
func decodeArray(_ bytes: [UInt8]) -> Result<CoAPMessage, CoAPDecodingError> {
    Result { () throws(CoAPDecodingError) in try CoAPMessage(decoding: bytes) }
}

/// Decodes through the raw-memory entry point, from a slice of a larger buffer whose trailing
/// `padding` bytes must never be read (a decoder reading past the end would see them).
func decodeRaw(_ bytes: [UInt8], padding: [UInt8] = [0x00, 0xFF, 0x11, 0xFF]) -> Result<CoAPMessage, CoAPDecodingError> {
    let buffer = bytes + padding
    return buffer.withUnsafeBytes { raw in
        let slice = UnsafeRawBufferPointer(rebasing: raw[0..<bytes.count])
        return Result { () throws(CoAPDecodingError) in try CoAPMessage(decoding: slice) }
    }
}

/// Hex dump for failure messages.
func hexString(_ bytes: [UInt8]) -> String {
    bytes.prefix(48).map { hex2($0) }.joined(separator: " ") + (bytes.count > 48 ? " … (\(bytes.count) bytes)" : "")
}

/// A deterministic value pattern of `count` bytes (includes 0xFF at some positions).
func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
}

// MARK: - RFC 7252 Appendix A examples

/// One message from RFC 7252 Appendix A, with its datagram hand-encoded from the spec.
struct WireExample: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let type: MessageType
    let code: CoAPCode
    let messageID: UInt16
    let token: [UInt8]
    let options: [CoAPOption]
    let payload: [UInt8]
    var testDescription: String { name }

    var message: CoAPMessage {
        CoAPMessage(type: type, code: code, messageID: messageID, token: Token(token)!, options: options, payload: payload)
    }
}

// "temperature" = 74 65 6d 70 65 72 61 74 75 72 65; "22.3 C" = 32 32 2e 33 20 43; "22.5 C" = 32 32 2e 35 20 43
private let temperature: [UInt8] = [0x74, 0x65, 0x6d, 0x70, 0x65, 0x72, 0x61, 0x74, 0x75, 0x72, 0x65]
private let temperaturePath = [CoAPOption(.uriPath, temperature)]

let rfc7252Examples: [WireExample] = [
    // Figure 16: CON GET, MID 0x7d34, no token, Uri-Path "temperature" (delta 11, length 11 → 0xbb).
    WireExample(
        name: "A.1 CON GET /temperature MID 0x7d34",
        bytes: [0x40, 0x01, 0x7d, 0x34, 0xbb,
                0x74, 0x65, 0x6d, 0x70, 0x65, 0x72, 0x61, 0x74, 0x75, 0x72, 0x65],
        type: .confirmable, code: .get, messageID: 0x7d34, token: [], options: temperaturePath, payload: []),
    // Figure 16: piggybacked ACK 2.05 (= 69 = 0x45), MID 0x7d34, payload "22.3 C".
    WireExample(
        name: "A.1 ACK 2.05 \"22.3 C\" MID 0x7d34",
        bytes: [0x60, 0x45, 0x7d, 0x34, 0xff, 0x32, 0x32, 0x2e, 0x33, 0x20, 0x43],
        type: .acknowledgement, code: .content, messageID: 0x7d34, token: [], options: [],
        payload: [0x32, 0x32, 0x2e, 0x33, 0x20, 0x43]),
    // Figure 17: the same exchange with a 1-byte token 0x71, MID 0xbc90.
    WireExample(
        name: "A.1 CON GET /temperature token 0x71 MID 0xbc90",
        bytes: [0x41, 0x01, 0xbc, 0x90, 0x71, 0xbb,
                0x74, 0x65, 0x6d, 0x70, 0x65, 0x72, 0x61, 0x74, 0x75, 0x72, 0x65],
        type: .confirmable, code: .get, messageID: 0xbc90, token: [0x71], options: temperaturePath, payload: []),
    WireExample(
        name: "A.1 ACK 2.05 token 0x71 \"22.5 C\"",
        bytes: [0x61, 0x45, 0xbc, 0x90, 0x71, 0xff, 0x32, 0x32, 0x2e, 0x35, 0x20, 0x43],
        type: .acknowledgement, code: .content, messageID: 0xbc90, token: [0x71], options: [],
        payload: [0x32, 0x32, 0x2e, 0x35, 0x20, 0x43]),
    // Separate response: empty ACK, then CON 2.05 with the request's token, then its empty ACK.
    WireExample(
        name: "A.2 empty ACK MID 0x7a10",
        bytes: [0x60, 0x00, 0x7a, 0x10],
        type: .acknowledgement, code: .empty, messageID: 0x7a10, token: [], options: [], payload: []),
    WireExample(
        name: "A.2 CON 2.05 token 0x73 MID 0x23bb",
        bytes: [0x41, 0x45, 0x23, 0xbb, 0x73, 0xff, 0x32, 0x32, 0x2e, 0x35, 0x20, 0x43],
        type: .confirmable, code: .content, messageID: 0x23bb, token: [0x73], options: [],
        payload: [0x32, 0x32, 0x2e, 0x35, 0x20, 0x43]),
    // Non-confirmable request and response.
    WireExample(
        name: "A.3 NON GET /temperature token 0x74 MID 0x7a11",
        bytes: [0x51, 0x01, 0x7a, 0x11, 0x74, 0xbb,
                0x74, 0x65, 0x6d, 0x70, 0x65, 0x72, 0x61, 0x74, 0x75, 0x72, 0x65],
        type: .nonConfirmable, code: .get, messageID: 0x7a11, token: [0x74], options: temperaturePath, payload: []),
    // CoAP ping (§4.3): CON 0.00, answered by RST 0.00 with the same MID.
    WireExample(
        name: "§4.3 ping CON 0.00", bytes: [0x40, 0x00, 0xbe, 0xef],
        type: .confirmable, code: .empty, messageID: 0xbeef, token: [], options: [], payload: []),
    WireExample(
        name: "§4.3 RST 0.00", bytes: [0x70, 0x00, 0xbe, 0xef],
        type: .reset, code: .empty, messageID: 0xbeef, token: [], options: [], payload: []),
    // §6.4 example URI coap://example.net/.well-known/core, 8-byte token, ACK 4.04:
    // Uri-Host (3) delta 3 len 11 → 0x3b; Uri-Path (11) delta 8 len 11 → 0x8b; Uri-Path delta 0 len 4 → 0x04.
    WireExample(
        name: "GET coap://example.net/.well-known/core, 8-byte token",
        bytes: [0x48, 0x01, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                0x3b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74,
                0x8b, 0x2e, 0x77, 0x65, 0x6c, 0x6c, 0x2d, 0x6b, 0x6e, 0x6f, 0x77, 0x6e,
                0x04, 0x63, 0x6f, 0x72, 0x65],
        type: .confirmable, code: .get, messageID: 0x0001, token: [1, 2, 3, 4, 5, 6, 7, 8],
        options: [CoAPOption(.uriHost, string: "example.net"), CoAPOption(.uriPath, string: ".well-known"),
                  CoAPOption(.uriPath, string: "core")],
        payload: []),
    // ACK 4.04 (= 0x84) with a payload "Not found" and Content-Format 0 (empty uint, delta 12 → 0xc0).
    WireExample(
        name: "ACK 4.04 text/plain \"Not found\"",
        bytes: [0x62, 0x84, 0x12, 0x34, 0xaa, 0xbb, 0xc0,
                0xff, 0x4e, 0x6f, 0x74, 0x20, 0x66, 0x6f, 0x75, 0x6e, 0x64],
        type: .acknowledgement, code: .notFound, messageID: 0x1234, token: [0xaa, 0xbb],
        options: [CoAPOption(.contentFormat, [])],
        payload: [0x4e, 0x6f, 0x74, 0x20, 0x66, 0x6f, 0x75, 0x6e, 0x64]),
]

extension CodecTests {
    @Test("RFC example decodes to its fields", arguments: rfc7252Examples)
    func decodesExample(_ example: WireExample) throws {
        let message = try CoAPMessage(decoding: example.bytes)
        #expect(message.type == example.type)
        #expect(message.code == example.code)
        #expect(message.messageID == example.messageID)
        #expect(message.token.bytes == example.token)
        #expect(message.token.count == example.token.count)
        #expect(message.options == example.options)
        #expect(message.payload == example.payload)
        #expect(message == example.message)
        #expect(decodeRaw(example.bytes) == .success(example.message))
    }

    @Test("RFC example fields encode to its bytes", arguments: rfc7252Examples)
    func encodesExample(_ example: WireExample) throws {
        #expect(try example.message.encoded() == example.bytes)
        var buffer: [UInt8] = [0xde, 0xad]
        try example.message.encode(into: &buffer)
        #expect(buffer == [0xde, 0xad] + example.bytes, "encode(into:) appends after existing bytes")
    }

    @Test("Header peeks from the RFC example", arguments: rfc7252Examples)
    func peeksHeader(_ example: WireExample) throws {
        let header = try #require(MessageHeader(peeking: example.bytes))
        #expect(header.version == 1)
        #expect(header.type == example.type)
        #expect(header.code == example.code)
        #expect(header.messageID == example.messageID)
        #expect(Int(header.tokenLength) == example.token.count)
    }

    @Test func temperatureExampleAccessors() throws {
        let request = try CoAPMessage(decoding: rfc7252Examples[0].bytes)
        #expect(request.uriPath == ["temperature"])
        #expect(request.path == "/temperature")
        #expect(request.code.isRequest && !request.code.isResponse)
        #expect(request.code.description == "0.01")
        let response = try CoAPMessage(decoding: rfc7252Examples[1].bytes)
        #expect(response.code.description == "2.05")
        #expect(response.code.isSuccess && response.code.isResponse)
        #expect(String(decoding: response.payload, as: UTF8.self) == "22.3 C")
        #expect(response.uriPath.isEmpty)
        #expect(response.token == .empty)
    }

    @Test func headerPeekNeedsFourBytes() {
        #expect(MessageHeader(peeking: [0x40, 0x01, 0x7d]) == nil)
        #expect(MessageHeader(peeking: []) == nil)
        // The header is readable even when the rest of the datagram is malformed (for RST decisions).
        let header = MessageHeader(peeking: [0x44, 0x01, 0xab, 0xcd, 0xf0])
        #expect(header?.tokenLength == 4)
        #expect(header?.messageID == 0xabcd)
        #expect(header?.type == .confirmable)
    }
}

// MARK: - Option delta / length classes

/// A message carrying one option of `number` with a `length`-byte value; `header` is the
/// option's header bytes (nibble byte, then delta extension, then length extension).
struct OptionClassCase: Sendable, CustomTestStringConvertible {
    let number: UInt16
    let length: Int
    let header: [UInt8]
    var testDescription: String { "option \(number), length \(length)" }
}

let optionClassCases: [OptionClassCase] = [
    // Delta classes (value empty): nibble 0–12, 13 + 1 byte (delta − 13), 14 + 2 bytes (delta − 269).
    OptionClassCase(number: 0, length: 0, header: [0x00]),
    OptionClassCase(number: 1, length: 0, header: [0x10]),
    OptionClassCase(number: 12, length: 0, header: [0xc0]),
    OptionClassCase(number: 13, length: 0, header: [0xd0, 0x00]),
    OptionClassCase(number: 14, length: 0, header: [0xd0, 0x01]),
    OptionClassCase(number: 258, length: 0, header: [0xd0, 0xf5]),  // No-Response: 258 − 13 = 245
    OptionClassCase(number: 268, length: 0, header: [0xd0, 0xff]),
    OptionClassCase(number: 269, length: 0, header: [0xe0, 0x00, 0x00]),
    OptionClassCase(number: 270, length: 0, header: [0xe0, 0x00, 0x01]),
    OptionClassCase(number: 65535, length: 0, header: [0xe0, 0xfe, 0xf2]),  // 65535 − 269 = 0xfef2
    // Length classes (option 1, delta nibble 1).
    OptionClassCase(number: 1, length: 1, header: [0x11]),
    OptionClassCase(number: 1, length: 12, header: [0x1c]),
    OptionClassCase(number: 1, length: 13, header: [0x1d, 0x00]),
    OptionClassCase(number: 1, length: 14, header: [0x1d, 0x01]),
    OptionClassCase(number: 1, length: 268, header: [0x1d, 0xff]),
    OptionClassCase(number: 1, length: 269, header: [0x1e, 0x00, 0x00]),
    OptionClassCase(number: 1, length: 270, header: [0x1e, 0x00, 0x01]),
    OptionClassCase(number: 1, length: 65535 + 269 - 1, header: [0x1e, 0xff, 0xfe]),
    OptionClassCase(number: 1, length: 65535 + 269, header: [0x1e, 0xff, 0xff]),  // the maximum
    // Both extended: the delta extension precedes the length extension.
    OptionClassCase(number: 20, length: 20, header: [0xdd, 0x07, 0x07]),
    OptionClassCase(number: 13, length: 269, header: [0xde, 0x00, 0x00, 0x00]),
    OptionClassCase(number: 300, length: 13, header: [0xed, 0x00, 0x1f, 0x00]),
    OptionClassCase(number: 300, length: 300, header: [0xee, 0x00, 0x1f, 0x00, 0x1f]),
    OptionClassCase(number: 258, length: 1, header: [0xd1, 0xf5]),
    OptionClassCase(number: 65535, length: 65804, header: [0xee, 0xfe, 0xf2, 0xff, 0xff]),
]

extension CodecTests {
    @Test("Option header class is byte-exact", arguments: optionClassCases)
    func optionClass(_ c: OptionClassCase) throws {
        let value = pattern(c.length)
        let header: [UInt8] = [0x40, 0x01, 0x12, 0x34]
        for payload in [[], [0x61, 0xff]] as [[UInt8]] {
            let message = CoAPMessage(
                type: .confirmable, code: .get, messageID: 0x1234,
                options: [CoAPOption(OptionNumber(c.number), value)], payload: payload)
            let expected = header + c.header + value + (payload.isEmpty ? [] : [0xff] + payload)
            let encoded = try message.encoded()
            #expect(encoded.count == expected.count)
            #expect(encoded == expected, "got \(hexString(encoded))")
            let decoded = try CoAPMessage(decoding: expected)
            #expect(decoded.options.count == 1)
            #expect(decoded.options.first?.number.rawValue == c.number)
            #expect(decoded.options.first?.value.count == c.length)
            #expect(decoded == message)
        }
    }

    @Test func optionLongerThanFormatMaximumIsRejected() throws {
        #expect(CoAPMessage.maximumOptionLength == 65804)
        let tooLong = CoAPMessage(
            type: .confirmable, code: .post, messageID: 1,
            options: [CoAPOption(.uriQuery, pattern(65805))])
        #expect(throws: CoAPEncodingError.optionTooLong(.uriQuery, length: 65805)) { try tooLong.encoded() }
    }

    @Test func deltaChainAcrossAllClasses() throws {
        let message = CoAPMessage(
            type: .nonConfirmable, code: .put, messageID: 0xfffe, token: Token([0x01])!,
            options: [
                CoAPOption(OptionNumber(1), [0xaa]),
                CoAPOption(OptionNumber(14), []),
                CoAPOption(OptionNumber(283), [0x01, 0x02]),
                CoAPOption(OptionNumber(283), [0x03]),
                CoAPOption(OptionNumber(65535), []),
            ],
            payload: [0xff])
        let expected: [UInt8] = [
            0x51, 0x03, 0xff, 0xfe, 0x01,
            0x11, 0xaa,              // 1: delta 1, len 1
            0xd0, 0x00,              // 14: delta 13
            0xe2, 0x00, 0x00, 0x01, 0x02,  // 283: delta 269, len 2
            0x01, 0x03,              // 283 again: delta 0
            0xe0, 0xfd, 0xd7,        // 65535: delta 65252 = 269 + 0xfdd7
            0xff, 0xff,              // payload marker, payload 0xff
        ]
        #expect(try message.encoded() == expected)
        #expect(try CoAPMessage(decoding: expected) == message)
    }

    @Test func noResponseOption() throws {
        var message = CoAPMessage(type: .nonConfirmable, code: .post, messageID: 7)
        message.setUInt(.noResponse, 26)  // suppress 2.xx and 5.xx
        let expected: [UInt8] = [0x50, 0x02, 0x00, 0x07, 0xd1, 0xf5, 0x1a]
        #expect(try message.encoded() == expected)
        let decoded = try CoAPMessage(decoding: expected)
        #expect(decoded.uintValue(.noResponse) == 26)
        #expect(OptionNumber.noResponse.definition?.name == "No-Response")
    }

    @Test func repeatedOptionsKeepOrder() throws {
        var message = CoAPMessage(type: .confirmable, code: .get, messageID: 0)
        message.uriPath = ["c", "a", "b"]
        let expected: [UInt8] = [0x40, 0x01, 0x00, 0x00, 0xb1, 0x63, 0x01, 0x61, 0x01, 0x62]
        #expect(try message.encoded() == expected)
        #expect(try CoAPMessage(decoding: expected).uriPath == ["c", "a", "b"])
    }

    @Test func unsortedOptionsEncodeSortedAndStable() throws {
        var message = CoAPMessage(type: .confirmable, code: .get, messageID: 0x0102)
        message.options = [
            CoAPOption(.size1, [0x01]),
            CoAPOption(.uriPath, string: "x"),
            CoAPOption(.eTag, [0xaa]),
            CoAPOption(.uriPath, string: "y"),
        ]
        let expected: [UInt8] = [
            0x40, 0x01, 0x01, 0x02,
            0x41, 0xaa,        // ETag (4)
            0x71, 0x78,        // Uri-Path "x" (delta 7)
            0x01, 0x79,        // Uri-Path "y" (delta 0), still after "x"
            0xd1, 0x24, 0x01,  // Size1 (60): delta 49 = 13 + 0x24
        ]
        #expect(try message.encoded() == expected)
        var appended: [UInt8] = [0x99]
        try message.encode(into: &appended)
        #expect(appended == [0x99] + expected)
        #expect(message.options.first?.number == .size1, "encoding does not reorder the value itself")
        let decoded = try CoAPMessage(decoding: expected)
        #expect(decoded.options.map(\.number) == [.eTag, .uriPath, .uriPath, .size1])
        #expect(decoded.uriPath == ["x", "y"])
        // The initializer sorts the same way.
        let initialized = CoAPMessage(type: .confirmable, code: .get, messageID: 0x0102, options: message.options)
        #expect(initialized == decoded)
    }

    @Test func manyInterleavedRepeatsStaySortedStably() throws {
        var message = CoAPMessage(type: .confirmable, code: .get, messageID: 9)
        message.options = (0..<40).map { i in
            CoAPOption(i % 3 == 0 ? .uriQuery : (i % 3 == 1 ? .uriPath : .locationPath), string: "\(i)")
        }
        let decoded = try CoAPMessage(decoding: message.encoded())
        #expect(decoded.locationPath == stride(from: 2, to: 40, by: 3).map { "\($0)" })
        #expect(decoded.uriPath == stride(from: 1, to: 40, by: 3).map { "\($0)" })
        #expect(decoded.uriQuery == stride(from: 0, to: 40, by: 3).map { "\($0)" })
        #expect(decoded.options.map(\.number.rawValue) == decoded.options.map(\.number.rawValue).sorted())
    }

    @Test func addOptionInsertsAfterEqualNumbers() {
        var message = CoAPMessage(type: .confirmable, code: .get)
        message.addOption(CoAPOption(.uriQuery, string: "a"))
        message.addOption(CoAPOption(.uriPath, string: "p1"))
        message.addOption(CoAPOption(.uriQuery, string: "b"))
        message.addOption(CoAPOption(.uriPath, string: "p2"))
        message.addOption(CoAPOption(.ifMatch, []))
        #expect(message.options.map(\.stringValue) == ["", "p1", "p2", "a", "b"])
        message.setOption(.uriQuery, [0x7a])
        #expect(message.uriQuery == ["z"])
        message.removeOption(.uriPath)
        #expect(!message.contains(.uriPath))
        #expect(message.options.count == 2)
    }
}

// MARK: - Header fields, codes, tokens

extension CodecTests {
    @Test("Type and token length land in the first byte", arguments: MessageType.allCases, 0...8)
    func firstByte(_ type: MessageType, tokenLength: Int) throws {
        let token = Token(value: 0x0102_0304_0506_0708, count: tokenLength)
        let message = CoAPMessage(type: type, code: .changed, messageID: 0xa55a, token: token)
        let encoded = try message.encoded()
        #expect(encoded[0] == 0x40 | type.rawValue << 4 | UInt8(tokenLength))
        #expect(Array(encoded[1...3]) == [0x44, 0xa5, 0x5a])
        #expect(Array(encoded.dropFirst(4)) == Array([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08].suffix(tokenLength)))
        #expect(try CoAPMessage(decoding: encoded) == message)
    }

    @Test("Non-reserved codes decode", arguments: [
        0x01, 0x07, 0x1f,          // 0.01, 0.07, 0.31 (unknown methods are not a format error)
        0x41, 0x45, 0x5f,          // 2.01, 2.05, 2.31
        0x80, 0x84, 0x9f,          // 4.00, 4.04, 4.31
        0xa0, 0xa5, 0xbf,          // 5.00, 5.05, 5.31
        0x60, 0x7f,                // 3.00, 3.31 (unassigned, not reserved)
    ] as [UInt8])
    func nonReservedCodes(_ raw: UInt8) throws {
        let bytes: [UInt8] = [0x42, raw, 0x00, 0x2a, 0xbe, 0xef, 0xff, 0x00]
        let message = try CoAPMessage(decoding: bytes)
        #expect(message.code.rawValue == raw)
        #expect(message.code == CoAPCode(raw >> 5, raw & 0x1f))
        #expect(message.payload == [0x00])
        #expect(try message.encoded() == bytes)
    }

    @Test func codeDescriptions() {
        #expect(CoAPCode.empty.description == "0.00")
        #expect(CoAPCode.notFound.description == "4.04")
        #expect(CoAPCode.requestEntityTooLarge.description == "4.13")
        #expect(CoAPCode.continue.description == "2.31")
        #expect(CoAPCode.proxyingNotSupported.rawValue == 0xa5)
        #expect(CoAPCode(rawValue: 0x20).isReserved)
        #expect(CoAPCode(rawValue: 0xc0).isReserved)
        #expect(!CoAPCode(rawValue: 0x60).isReserved)
    }

    @Test func tokens() throws {
        let token = try #require(Token([0xde, 0xad, 0xbe, 0xef]))
        #expect(token.count == 4)
        #expect(token.bytes == [0xde, 0xad, 0xbe, 0xef])
        #expect(token.description == "deadbeef")
        #expect(Token([UInt8](repeating: 1, count: 9)) == nil)
        #expect(Token([UInt8]())! == .empty)
        #expect(Token.empty.description == "-")
        #expect(Token(value: 0xabcd, count: 1) == Token([0xcd]), "value is masked to count bytes")
        #expect(Token(value: 0x1122_3344_5566_7788, count: 8).bytes == [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        // Leading zero bytes are significant: 00 01 ≠ 01.
        #expect(Token([0x00, 0x01]) != Token([0x01]))
        let a = try CoAPMessage(decoding: [0x42, 0x01, 0x00, 0x00, 0x00, 0x01])
        let b = try CoAPMessage(decoding: [0x41, 0x01, 0x00, 0x00, 0x01])
        #expect(a.token != b.token)
        #expect(a.token.bytes == [0x00, 0x01])
        #expect(try a.encoded() == [0x42, 0x01, 0x00, 0x00, 0x00, 0x01])
    }

    @Test func emptyMessageFactory() throws {
        let ack = CoAPMessage.empty(.acknowledgement, messageID: 0x1234)
        #expect(ack.isEmpty)
        #expect(try ack.encoded() == [0x60, 0x00, 0x12, 0x34])
        #expect(try CoAPMessage.empty(.reset, messageID: 0xffff).encoded() == [0x70, 0x00, 0xff, 0xff])
    }

    @Test func payloadMayContainMarkerBytes() throws {
        let bytes: [UInt8] = [0x50, 0x45, 0x00, 0x01, 0xff, 0xff, 0xff, 0x00, 0xff]
        let message = try CoAPMessage(decoding: bytes)
        #expect(message.payload == [0xff, 0xff, 0x00, 0xff])
        #expect(message.options.isEmpty)
        #expect(try message.encoded() == bytes)
    }

    @Test func optionValueMayContainMarkerBytes() throws {
        // ETag ff ff, then payload "A".
        let bytes: [UInt8] = [0x40, 0x01, 0x00, 0x01, 0x42, 0xff, 0xff, 0xff, 0x41]
        let message = try CoAPMessage(decoding: bytes)
        #expect(message.eTag == [0xff, 0xff])
        #expect(message.payload == [0x41])
    }
}

// MARK: - uint option values (RFC 7252 §3.2)

struct UIntCase: Sendable, CustomTestStringConvertible {
    let value: UInt32
    let bytes: [UInt8]
    var testDescription: String { "\(value)" }
}

let uintCases: [UIntCase] = [
    UIntCase(value: 0, bytes: []),
    UIntCase(value: 1, bytes: [0x01]),
    UIntCase(value: 255, bytes: [0xff]),
    UIntCase(value: 256, bytes: [0x01, 0x00]),
    UIntCase(value: 0xffff, bytes: [0xff, 0xff]),
    UIntCase(value: 0x1_0000, bytes: [0x01, 0x00, 0x00]),
    UIntCase(value: 0xff_ffff, bytes: [0xff, 0xff, 0xff]),
    UIntCase(value: 1 << 24, bytes: [0x01, 0x00, 0x00, 0x00]),
    UIntCase(value: 0x1234_5678, bytes: [0x12, 0x34, 0x56, 0x78]),
    UIntCase(value: .max, bytes: [0xff, 0xff, 0xff, 0xff]),
]

extension CodecTests {
    @Test("uint encodes in shortest form", arguments: uintCases)
    func uintShortest(_ c: UIntCase) {
        #expect(encodeUInt(c.value) == c.bytes)
        #expect(decodeUInt(c.bytes) == c.value)
        #expect(CoAPOption(.maxAge, uint: c.value).value == c.bytes)
        #expect(CoAPOption(.maxAge, c.bytes).uintValue == c.value)
    }

    @Test("uint decodes with leading zeros", arguments: [
        ([0x00], 0), ([0x00, 0x00, 0x00, 0x00], 0), ([0x00, 0xff], 255), ([0x00, 0x00, 0x01, 0x00], 256),
        ([0x00, 0x00, 0x00, 0x01], 1),
    ] as [([UInt8], UInt32)])
    func uintLeadingZeros(_ bytes: [UInt8], _ value: UInt32) {
        #expect(decodeUInt(bytes) == value)
    }

    @Test func uintLongerThanFourBytesIsNil() {
        #expect(decodeUInt([0x00, 0x00, 0x00, 0x00, 0x01]) == nil)
        #expect(decodeUInt([UInt8](repeating: 0xff, count: 8)) == nil)
        #expect(CoAPOption(.size2, [1, 2, 3, 4, 5]).uintValue == nil)
    }

    @Test func uintAccessorsOnTheWire() throws {
        var message = CoAPMessage(type: .acknowledgement, code: .content, messageID: 1)
        message.contentFormat = ContentFormat.lwm2mTLV  // 11542 = 0x2d16
        message.maxAge = 0
        let expected: [UInt8] = [0x60, 0x45, 0x00, 0x01, 0xc2, 0x2d, 0x16, 0x20]  // CF delta 12 len 2; Max-Age delta 2 len 0
        #expect(try message.encoded() == expected)
        let decoded = try CoAPMessage(decoding: expected)
        #expect(decoded.contentFormat == 11542)
        #expect(decoded.maxAge == 0, "an empty uint option is 0, not absent")
        #expect(decoded.observe == nil)

        // Observe with leading zeros (delta 6, length 3: 00 00 05).
        let observe = try CoAPMessage(decoding: [0x50, 0x45, 0x00, 0x02, 0x63, 0x00, 0x00, 0x05])
        #expect(observe.observe == 5)
        // Max-Age (14) with a 5-byte value: not a uint we can read.
        let longMaxAge = try CoAPMessage(decoding: [0x50, 0x45, 0x00, 0x03, 0xd5, 0x01, 0, 0, 0, 0, 1])
        #expect(longMaxAge.contains(.maxAge))
        #expect(longMaxAge.maxAge == nil)
        // Content-Format of 3 bytes does not fit UInt16.
        let wideFormat = try CoAPMessage(decoding: [0x50, 0x45, 0x00, 0x04, 0xc3, 0x01, 0x00, 0x00])
        #expect(wideFormat.uintValue(.contentFormat) == 0x1_0000)
        #expect(wideFormat.contentFormat == nil)
    }

    @Test func accessorsSetAndRemove() throws {
        var message = CoAPMessage(type: .confirmable, code: .post, messageID: 3)
        message.uriPath = ["3", "0", "1"]
        message.uriQuery = ["ep=node", "lt=300"]
        message.accept = ContentFormat.senmlCBOR
        message.size1 = 70_000
        message.eTag = [0x01, 0x02]
        message.observe = 0
        #expect(message.path == "/3/0/1")
        let decoded = try CoAPMessage(decoding: message.encoded())
        #expect(decoded == message)
        #expect(decoded.uriQuery == ["ep=node", "lt=300"])
        #expect(decoded.accept == 112)
        #expect(decoded.size1 == 70_000)
        #expect(decoded.eTag == [0x01, 0x02])
        #expect(decoded.observe == 0)
        message.observe = nil
        message.size1 = nil
        message.uriQuery = []
        #expect(message.observe == nil && message.size1 == nil && message.uriQuery.isEmpty)
        #expect(message.options.map(\.number) == [.eTag, .uriPath, .uriPath, .uriPath, .accept])
    }
}
