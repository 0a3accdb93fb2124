import Testing
@testable import CoAP

/// A malformed datagram and the error the decoder must throw for it. Each case has exactly one
/// defect, so the expected error does not depend on the order the decoder checks things in.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let error: CoAPDecodingError
    var testDescription: String { name }
}

private let get: [UInt8] = [0x40, 0x01, 0x12, 0x34]  // CON GET MID 0x1234, no token

let malformedCases: [MalformedCase] = [
    // Fewer than 4 bytes.
    MalformedCase(name: "0 bytes", bytes: [], error: .truncatedHeader(length: 0)),
    MalformedCase(name: "1 byte", bytes: [0x40], error: .truncatedHeader(length: 1)),
    MalformedCase(name: "3 bytes", bytes: [0x40, 0x01, 0x12], error: .truncatedHeader(length: 3)),
    // Version 0, 2, 3.
    MalformedCase(name: "version 0", bytes: [0x00, 0x01, 0x12, 0x34], error: .unsupportedVersion(0)),
    MalformedCase(name: "version 2", bytes: [0x80, 0x01, 0x12, 0x34], error: .unsupportedVersion(2)),
    MalformedCase(name: "version 3", bytes: [0xf0, 0x45, 0x12, 0x34, 0xff, 0x01], error: .unsupportedVersion(3)),
    // Token length 9–15 (with enough bytes behind it that it is not a truncation).
] + (9...15).map { tkl in
    MalformedCase(
        name: "token length \(tkl)", bytes: [0x40 | UInt8(tkl), 0x01, 0x12, 0x34] + [UInt8](repeating: 0x01, count: 16),
        error: .invalidTokenLength(UInt8(tkl)))
} + [
    // Datagram ends inside the token.
    MalformedCase(name: "token 1 of 0 bytes", bytes: [0x41, 0x01, 0x12, 0x34], error: .truncatedToken),
    MalformedCase(name: "token 4 of 3 bytes", bytes: [0x44, 0x01, 0x12, 0x34, 0x01, 0x02, 0x03], error: .truncatedToken),
    MalformedCase(name: "token 8 of 7 bytes", bytes: [0x48, 0x45, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7], error: .truncatedToken),
    // Delta nibble 15 that is not the payload marker.
    MalformedCase(name: "delta 15 length 0", bytes: get + [0xf0], error: .reservedOptionDelta),
    MalformedCase(name: "delta 15 length 1", bytes: get + [0xf1, 0x00], error: .reservedOptionDelta),
    MalformedCase(name: "delta 15 length 14", bytes: get + [0xfe, 0x00, 0x00, 0x00], error: .reservedOptionDelta),
    MalformedCase(name: "delta 15 after an option", bytes: get + [0xb1, 0x61, 0xf0, 0x41], error: .reservedOptionDelta),
    // Length nibble 15.
    MalformedCase(name: "length 15", bytes: get + [0x0f], error: .reservedOptionLength),
    MalformedCase(name: "Uri-Path length 15", bytes: get + [0xbf, 0x61, 0x62], error: .reservedOptionLength),
    MalformedCase(name: "delta 13 length 15", bytes: get + [0xdf, 0x00, 0x61], error: .reservedOptionLength),
    MalformedCase(name: "delta 14 length 15", bytes: get + [0xef, 0x00, 0x00, 0x61], error: .reservedOptionLength),
    // Datagram ends inside an extended delta.
    MalformedCase(name: "delta 13, no extension byte", bytes: get + [0xd0], error: .truncatedOption),
    MalformedCase(name: "delta 14, no extension bytes", bytes: get + [0xe0], error: .truncatedOption),
    MalformedCase(name: "delta 14, 1 of 2 extension bytes", bytes: get + [0xe0, 0x00], error: .truncatedOption),
    // Datagram ends inside an extended length.
    MalformedCase(name: "length 13, no extension byte", bytes: get + [0x1d], error: .truncatedOption),
    MalformedCase(name: "length 14, no extension bytes", bytes: get + [0x1e], error: .truncatedOption),
    MalformedCase(name: "length 14, 1 of 2 extension bytes", bytes: get + [0x1e, 0x00], error: .truncatedOption),
    MalformedCase(name: "delta 13 ok, length 13 missing", bytes: get + [0xdd, 0x00], error: .truncatedOption),
    MalformedCase(name: "delta 14 ok, length 14 short", bytes: get + [0xee, 0x00, 0x00, 0x00], error: .truncatedOption),
    // Datagram ends inside the value.
    MalformedCase(name: "value 5 of 2 bytes", bytes: get + [0xb5, 0x74, 0x65], error: .truncatedOption),
    MalformedCase(name: "value 1 of 0 bytes", bytes: get + [0x01], error: .truncatedOption),
    MalformedCase(name: "value 13 of 12 bytes", bytes: get + [0x1d, 0x00] + [UInt8](repeating: 0x61, count: 12),
                  error: .truncatedOption),
    MalformedCase(name: "value 269 of 268 bytes", bytes: get + [0x1e, 0x00, 0x00] + [UInt8](repeating: 0x61, count: 268),
                  error: .truncatedOption),
    MalformedCase(name: "second option truncated", bytes: get + [0xb1, 0x61, 0x02, 0x62], error: .truncatedOption),
    // Option number past 65535.
    MalformedCase(name: "65535 then delta 1", bytes: get + [0xe0, 0xfe, 0xf2, 0x10], error: .optionNumberOverflow),
    MalformedCase(name: "single delta 65536", bytes: get + [0xe0, 0xfe, 0xf3], error: .optionNumberOverflow),
    MalformedCase(name: "single delta 65804", bytes: get + [0xe0, 0xff, 0xff], error: .optionNumberOverflow),
    MalformedCase(name: "60000 then delta 5536", bytes: get + [0xe0, 0xe9, 0x53, 0xe0, 0x14, 0x93], error: .optionNumberOverflow),
    // Payload marker followed by nothing.
    MalformedCase(name: "marker after header", bytes: get + [0xff], error: .emptyPayloadAfterMarker),
    MalformedCase(name: "marker after token", bytes: [0x42, 0x45, 0x12, 0x34, 0xaa, 0xbb, 0xff], error: .emptyPayloadAfterMarker),
    MalformedCase(name: "marker after option", bytes: get + [0xb1, 0x61, 0xff], error: .emptyPayloadAfterMarker),
    // 0.00 carrying anything.
    MalformedCase(name: "0.00 with token", bytes: [0x41, 0x00, 0x12, 0x34, 0x01], error: .nonEmptyEmptyMessage),
    MalformedCase(name: "0.00 with 8-byte token", bytes: [0x68, 0x00, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8],
                  error: .nonEmptyEmptyMessage),
    MalformedCase(name: "0.00 with a byte after the header", bytes: [0x60, 0x00, 0x12, 0x34, 0x00], error: .nonEmptyEmptyMessage),
    MalformedCase(name: "0.00 with an option", bytes: [0x70, 0x00, 0x12, 0x34, 0xb1, 0x61], error: .nonEmptyEmptyMessage),
    MalformedCase(name: "0.00 with a payload", bytes: [0x40, 0x00, 0x12, 0x34, 0xff, 0x61], error: .nonEmptyEmptyMessage),
    // Reserved code classes 1, 6, 7.
    MalformedCase(name: "code 1.00", bytes: [0x40, 0x20, 0x12, 0x34], error: .reservedCodeClass(1)),
    MalformedCase(name: "code 1.31", bytes: [0x40, 0x3f, 0x12, 0x34], error: .reservedCodeClass(1)),
    MalformedCase(name: "code 6.00", bytes: [0x60, 0xc0, 0x12, 0x34], error: .reservedCodeClass(6)),
    MalformedCase(name: "code 6.05 with payload", bytes: [0x50, 0xc5, 0x12, 0x34, 0xff, 0x61], error: .reservedCodeClass(6)),
    MalformedCase(name: "code 7.00", bytes: [0x40, 0xe0, 0x12, 0x34], error: .reservedCodeClass(7)),
    MalformedCase(name: "code 7.31 with token", bytes: [0x41, 0xff, 0x12, 0x34, 0x01], error: .reservedCodeClass(7)),
]

extension CodecTests {
    @Suite struct Malformed {
        @Test("Malformed datagram throws the right error", arguments: malformedCases)
        func throwsExpectedError(_ c: MalformedCase) {
            #expect(throws: c.error) { try CoAPMessage(decoding: c.bytes) }
            // The raw-memory entry point agrees, and does not look past the end of its buffer.
            #expect(decodeRaw(c.bytes) == .failure(c.error))
            #expect(decodeRaw(c.bytes, padding: [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68]) == .failure(c.error))
            #expect(!c.error.description.isEmpty)
        }

        @Test("The header of a malformed datagram is still readable", arguments: malformedCases.filter { $0.bytes.count >= 4 })
        func headerStillReadable(_ c: MalformedCase) throws {
            let header = try #require(MessageHeader(peeking: c.bytes))
            #expect(header.messageID == 0x1234)
            #expect(header.version == c.bytes[0] >> 6)
        }

        /// Boundary neighbours of the malformed cases that must decode.
        @Test func validNeighboursDecode() throws {
            // Option number exactly 65535.
            #expect(try CoAPMessage(decoding: get + [0xe0, 0xfe, 0xf2]).options.map(\.number.rawValue) == [65535])
            // 60000 then delta 5535 reaches exactly 65535.
            #expect(try CoAPMessage(decoding: get + [0xe0, 0xe9, 0x53, 0xe0, 0x14, 0x92]).options.map(\.number.rawValue)
                    == [60000, 65535])
            // Token of 8 bytes exactly, nothing after.
            #expect(try CoAPMessage(decoding: [0x48, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8]).token.count == 8)
            // Payload marker followed by one byte.
            #expect(try CoAPMessage(decoding: get + [0xff, 0x00]).payload == [0x00])
            // Value exactly filling the datagram.
            #expect(try CoAPMessage(decoding: get + [0xb2, 0x61, 0x62]).uriPath == ["ab"])
            // 0.00 of exactly 4 bytes, every type.
            for first: UInt8 in [0x40, 0x50, 0x60, 0x70] {
                #expect(try CoAPMessage(decoding: [first, 0x00, 0x12, 0x34]).isEmpty)
            }
        }

        @Test func errorsAreDistinct() {
            let all: [CoAPDecodingError] = [
                .truncatedHeader(length: 3), .unsupportedVersion(2), .invalidTokenLength(9), .truncatedToken,
                .reservedOptionDelta, .reservedOptionLength, .truncatedOption, .optionNumberOverflow,
                .emptyPayloadAfterMarker, .nonEmptyEmptyMessage, .reservedCodeClass(7),
            ]
            #expect(Set(all.map(\.description)).count == all.count)
            // Every error case is exercised by the table above.
            #expect(Set(all.map(errorKind)).count == all.count)
            #expect(Set(malformedCases.map { errorKind($0.error) }) == Set(all.map(errorKind)))
        }
    }
}

/// The case of an error without its associated value (exhaustive: a new case must be added here).
func errorKind(_ error: CoAPDecodingError) -> Int {
    switch error {
    case .truncatedHeader: 0
    case .unsupportedVersion: 1
    case .invalidTokenLength: 2
    case .truncatedToken: 3
    case .reservedOptionDelta: 4
    case .reservedOptionLength: 5
    case .truncatedOption: 6
    case .optionNumberOverflow: 7
    case .emptyPayloadAfterMarker: 8
    case .nonEmptyEmptyMessage: 9
    case .reservedCodeClass: 10
    }
}
