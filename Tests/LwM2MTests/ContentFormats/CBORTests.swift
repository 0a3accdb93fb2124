import CoAP  // SplitMix64
import Testing
@testable import LwM2M

// Golden vectors come from outside this package:
//   * RFC 8949 Appendix A (examples of encoded data items), as published in the machine-readable
//     copy github.com/cbor/test-vectors appendix_a.json;
//   * RFC 8949 Appendix F.1 (examples of CBOR data items that are not well-formed), plus §3.3
//     for two-byte simple values below 32;
//   * Python's cbor2 6.2.1 as an independent encoder, where the producing expression is quoted.
// None of the expected bytes is produced by our encoder.

/// One RFC 8949 Appendix A row: the encoding, the data item, and (for rows the RFC marks as
/// not round-tripping: indefinite lengths, non-preferred float widths) the preferred encoding.
struct CBORVector: Sendable, CustomTestStringConvertible {
    let hex: String
    let value: CBORValue
    let preferred: String?

    init(_ hex: String, _ value: CBORValue, preferred: String? = nil) {
        self.hex = hex
        self.value = value
        self.preferred = preferred
    }

    var testDescription: String { hex }
}

private let appendixA: [CBORVector] = [
    // Integers
    .init("00", 0), .init("01", 1), .init("0a", 10), .init("17", 23), .init("1818", 24), .init("1819", 25),
    .init("1864", 100), .init("1903e8", 1000), .init("1a000f4240", 1_000_000),
    .init("1b000000e8d4a51000", 1_000_000_000_000), .init("1bffffffffffffffff", .unsigned(UInt64.max)),
    .init("c249010000000000000000", .tagged(2, .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0]))),
    .init("3bffffffffffffffff", .negative(UInt64.max)),
    .init("c349010000000000000000", .tagged(3, .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0]))),
    .init("20", -1), .init("29", -10), .init("3863", -100), .init("3903e7", -1000),
    // Floats
    .init("f90000", 0.0), .init("f98000", .float(-0.0)), .init("f93c00", 1.0), .init("fb3ff199999999999a", 1.1),
    .init("f93e00", 1.5), .init("f97bff", 65504.0), .init("fa47c35000", 100000.0),
    .init("fa7f7fffff", 3.4028234663852886e+38), .init("fb7e37e43c8800759c", 1.0e+300),
    .init("f90001", 5.960464477539063e-8), .init("f90400", 6.103515625e-5), .init("f9c400", -4.0),
    .init("fbc010666666666666", -4.1), .init("f97c00", .float(.infinity)), .init("f97e00", .float(.nan)),
    .init("f9fc00", .float(-.infinity)),
    .init("fa7f800000", .float(.infinity), preferred: "f97c00"),
    .init("fa7fc00000", .float(.nan), preferred: "f97e00"),
    .init("faff800000", .float(-.infinity), preferred: "f9fc00"),
    .init("fb7ff0000000000000", .float(.infinity), preferred: "f97c00"),
    .init("fb7ff8000000000000", .float(.nan), preferred: "f97e00"),
    .init("fbfff0000000000000", .float(-.infinity), preferred: "f9fc00"),
    // Simple values (simple(24) = f818 is listed by RFC 7049 but not well-formed under RFC 8949 §3.3)
    .init("f4", false), .init("f5", true), .init("f6", .null), .init("f7", .undefined),
    .init("f0", .simple(16)), .init("f8ff", .simple(255)),
    // Tags
    .init("c074323031332d30332d32315432303a30343a30305a", .tagged(0, "2013-03-21T20:04:00Z")),
    .init("c11a514b67b0", .tagged(1, 1_363_896_240)),
    .init("c1fb41d452d9ec200000", .tagged(1, 1_363_896_240.5)),
    .init("d74401020304", .tagged(23, .bytes([1, 2, 3, 4]))),
    .init("d818456449455446", .tagged(24, .bytes([0x64, 0x49, 0x45, 0x54, 0x46]))),
    .init("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, "http://www.example.com")),
    // Strings
    .init("40", .bytes([])), .init("4401020304", .bytes([1, 2, 3, 4])),
    .init("60", ""), .init("6161", "a"), .init("6449455446", "IETF"), .init("62225c", "\"\\"),
    .init("62c3bc", "\u{00fc}"), .init("63e6b0b4", "\u{6c34}"), .init("64f0908591", "\u{10151}"),
    // Arrays and maps
    .init("80", []), .init("83010203", [1, 2, 3]), .init("8301820203820405", [1, [2, 3], [4, 5]]),
    .init("98190102030405060708090a0b0c0d0e0f101112131415161718181819", .array((1...25).map { .unsigned($0) })),
    .init("a0", [:]), .init("a201020304", [1: 2, 3: 4]), .init("a26161016162820203", ["a": 1, "b": [2, 3]]),
    .init("826161a161626163", ["a", ["b": "c"]]),
    .init("a56161614161626142616361436164614461656145", ["a": "A", "b": "B", "c": "C", "d": "D", "e": "E"]),
    // Indefinite lengths (preferred forms: the definite rows above, or cbor2.dumps(cbor2.loads(x)))
    .init("5f42010243030405ff", .bytes([1, 2, 3, 4, 5]), preferred: "450102030405"),
    .init("7f657374726561646d696e67ff", "streaming", preferred: "6973747265616d696e67"),
    .init("9fff", [], preferred: "80"),
    .init("9f018202039f0405ffff", [1, [2, 3], [4, 5]], preferred: "8301820203820405"),
    .init("9f01820203820405ff", [1, [2, 3], [4, 5]], preferred: "8301820203820405"),
    .init("83018202039f0405ff", [1, [2, 3], [4, 5]], preferred: "8301820203820405"),
    .init("83019f0203ff820405", [1, [2, 3], [4, 5]], preferred: "8301820203820405"),
    .init("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", .array((1...25).map { .unsigned($0) }),
          preferred: "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    .init("bf61610161629f0203ffff", ["a": 1, "b": [2, 3]], preferred: "a26161016162820203"),
    .init("826161bf61626163ff", ["a", ["b": "c"]], preferred: "826161a161626163"),
    .init("bf6346756ef563416d7421ff", ["Fun": true, "Amt": -2], preferred: "a26346756ef563416d7421"),
]

/// RFC 8949 Appendix F.1: not well-formed because the input ends too early.
private let truncatedExamples = """
    18 19 1a 1b 1901 1a0102 1b01020304050607 38 58 78 98 9a01ff00 b8 d8 f8 f900 fa0000 fb000000
    41 61 5affffffff00 5bffffffffffffffff010203 7affffffff00 7b7fffffffffffffff010203
    81 818181818181818181 8200 a1 a20102 a100 a2000000 c0 5f4100 7f6100
    9f 9f0102 bf bf01020102 819f 9f8000 9f9f9f9f9fffffffff 9f819f819f9fffffff
    """.split(whereSeparator: \.isWhitespace).map(String.init)

/// RFC 8949 Appendix F.1: not well-formed for other reasons (reserved additional information,
/// two-byte simple values < 32, bad indefinite-string chunks, misplaced breaks, indefinite
/// length on major types 0/1/6).
private let malformedExamples = """
    1c 1d 1e 3c 3d 3e 5c 5d 5e 7c 7d 7e 9c 9d 9e bc bd be dc dd de fc fd fe
    f800 f818 f81f
    5f00ff 5f21ff 5f6100ff 5f80ff 5fa0ff 5fc000ff 5fe0ff 7f4100ff 5f5f4100ffff 7f7f6100ffff
    ff 81ff 8200ff a1ff a1ff00 a100ff a20000ff 9f81ff 9f829f819f9fffffffff bf00ff bf000000ff
    1f 3f df
    """.split(whereSeparator: \.isWhitespace).map(String.init)

@Suite struct CBORTests {
    // MARK: RFC 8949 Appendix A

    @Test(arguments: appendixA)
    func appendixADecodes(vector: CBORVector) throws {
        let decoded = try CBORValue(decoding: bytes(vector.hex))
        #expect(decoded == vector.value, "\(vector.hex) decoded as \(decoded)")
    }

    @Test(arguments: appendixA)
    func appendixAEncodesPreferred(vector: CBORVector) throws {
        #expect(hex(try vector.value.encoded()) == vector.preferred ?? vector.hex)
        // and what was decoded re-encodes the same way
        #expect(hex(try CBORValue(decoding: bytes(vector.hex)).encoded()) == vector.preferred ?? vector.hex)
    }

    @Test(arguments: appendixA)
    func everyProperPrefixIsTruncated(vector: CBORVector) {
        let full = bytes(vector.hex)
        for length in 0..<full.count {
            let kind = errorKind { _ = try CBORValue(decoding: Array(full.prefix(length))) }
            #expect(kind == "truncated", "\(vector.hex) cut to \(length) bytes: \(kind ?? "decoded")")
        }
    }

    @Test(arguments: truncatedExamples)
    func appendixFTruncated(hexText: String) {
        #expect(errorKind { _ = try CBORValue(decoding: bytes(hexText)) } == "truncated")
    }

    @Test(arguments: malformedExamples)
    func appendixFMalformed(hexText: String) {
        #expect(errorKind { _ = try CBORValue(decoding: bytes(hexText)) } == "malformed")
    }

    // MARK: Floats: shortest exact width (expected bytes from cbor2.dumps(x, canonical=True))

    @Test(arguments: [
        (0x1p-24, "f90001"),  // smallest half subnormal
        (0x1p-25, "fa33000000"),  // below half range: single
        (-0x1p-24, "f98001"),
        (0x1p-14, "f90400"),  // smallest half normal
        (0x1p-149, "fa00000001"),  // smallest single subnormal
        (0x1p-150, "fb3690000000000000"),  // below single range: double
        (65505.0, "fa477fe100"),  // needs 11 significant bits: single
        (65536.0, "fa47800000"),  // above half range
        (16_777_216.0, "fa4b800000"),
        (16_777_217.0, "fb4170000010000000"),  // needs 25 significant bits: double
        (0.1, "fb3fb999999999999a"),
        (1e-7, "fb3e7ad7f29abcaf48"),
        (3.0, "f94200"), (0.5, "f93800"),
    ] as [(Double, String)])
    func floatWidths(value: Double, expected: String) throws {
        #expect(hex(try CBORValue.float(value).encoded()) == expected)
        #expect(try CBORValue(decoding: bytes(expected)) == .float(value))
    }

    @Test func nanPayloadsSurvive() throws {
        // A signalling half NaN and a single NaN with a payload only single precision can hold.
        for text in ["f97c01", "f9fe00", "fa7f800001", "fb7ff0000000000001"] {
            let value = try CBORValue(decoding: bytes(text))
            guard case .float(let d) = value else { Issue.record("\(text) is not a float"); continue }
            #expect(d.isNaN)
            #expect(hex(try value.encoded()) == text)
        }
    }

    @Test func floatWidthConversionsAreExact() {
        // Every finite half value converts to Double and back to the same bits.
        for bits in UInt16.min...UInt16.max where (bits >> 10) & 0x1f != 0x1f {
            let value = CBORFloat.double(fromHalf: bits)
            #expect(CBORFloat.halfBits(exactly: value) == bits)
        }
        var rng = SplitMix64(seed: 0x5eed_f10a7)
        for _ in 0..<20_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            guard (bits >> 23) & 0xff != 0xff else { continue }
            let value = CBORFloat.double(fromSingle: bits)
            #expect(Double(Float(bitPattern: bits)) == value || value.isNaN)
            #expect(CBORFloat.singleBits(exactly: value) == bits)
        }
    }

    // MARK: Integer heads (expected bytes from cbor2.dumps(n))

    @Test(arguments: [
        (Int64(23), "17"), (24, "1818"), (255, "18ff"), (256, "190100"), (65535, "19ffff"),
        (65536, "1a00010000"), (4_294_967_295, "1affffffff"), (4_294_967_296, "1b0000000100000000"),
        (-24, "37"), (-25, "3818"), (-256, "38ff"), (-257, "390100"),
        (Int64.min, "3b7fffffffffffffff"), (Int64.max, "1b7fffffffffffffff"),
    ])
    func integerHeads(value: Int64, expected: String) throws {
        #expect(hex(try CBORValue.integer(value).encoded()) == expected)
        #expect(try CBORValue(decoding: bytes(expected)).int64Value == value)
    }

    // MARK: Strictness

    @Test(arguments: [
        "62c328",  // bad continuation byte
        "61ff",  // 0xff is never UTF-8
        "62c0af",  // overlong encoding of "/"
        "63eda080",  // UTF-16 surrogate U+D800
        "64f4908080",  // above U+10FFFF
        "7f61c361bcff",  // "ü" split across two chunks (RFC 8949 §3.2.3)
        "7f62c3bc61ffff",  // second chunk invalid
    ])
    func invalidUTF8IsMalformed(hexText: String) {
        #expect(errorKind { _ = try CBORValue(decoding: bytes(hexText)) } == "malformed")
    }

    @Test(arguments: [
        "a201000100",  // {1: 0, 1: 0}
        "a2616101616102",  // {"a": 1, "a": 2}
        "bf0100010aff",  // indefinite {1: 0, 1: 10}
        "a2820102008201020a",  // {[1, 2]: 0, [1, 2]: 10}
    ])
    func duplicateMapKeysAreMalformed(hexText: String) {
        #expect(errorKind { _ = try CBORValue(decoding: bytes(hexText)) } == "malformed")
    }

    @Test func distinctKeysThatCompareEqualNumericallyAreFine() throws {
        // {0.0: 1, -0.0: 2, 0: 3}: three different data items
        let value = try CBORValue(decoding: bytes("a3f9000001f980000200 03"))
        #expect(value.mapEntries?.count == 3)
    }

    @Test func trailingBytesAreMalformed() {
        #expect(errorKind { _ = try CBORValue(decoding: bytes("0000")) } == "malformed")
        #expect(errorKind { _ = try CBORValue(decoding: bytes("80ff")) } == "malformed")
    }

    @Test func nonPreferredHeadsDecode() throws {
        // 0 with 1-, 2-, 4- and 8-byte arguments: well-formed and valid, just not preferred.
        for text in ["1800", "190000", "1a00000000", "1b0000000000000000"] {
            #expect(try CBORValue(decoding: bytes(text)) == 0)
        }
        #expect(try CBORValue(decoding: bytes("5800")) == .bytes([]))
    }

    // MARK: Limits

    @Test func nestingLimit() throws {
        let sixteen = [UInt8](repeating: 0x81, count: 16) + [0x00]
        #expect(throws: Never.self) { try CBORValue(decoding: sixteen) }
        let seventeen = [UInt8](repeating: 0x81, count: 17) + [0x00]
        #expect(errorKind { _ = try CBORValue(decoding: seventeen) } == "nestingTooDeep")

        // Far beyond the limit, every container kind: no stack overflow, the right error.
        for opener: [UInt8] in [[0x81], [0x9f], [0xa1, 0x00], [0xbf, 0x00], [0xc0], [0xd8, 0x20]] {
            let deep = Array([[UInt8]](repeating: opener, count: 100_000).joined())
            #expect(errorKind { _ = try CBORValue(decoding: deep) } == "nestingTooDeep", "\(opener)")
        }

        let shallow = CBORDecodingLimits(maxDepth: 2, maxItems: 100)
        #expect(throws: Never.self) { try CBORValue(decoding: bytes("818100"), limits: shallow) }
        #expect(errorKind { _ = try CBORValue(decoding: bytes("81818100"), limits: shallow) } == "nestingTooDeep")
    }

    @Test(arguments: [
        "5b4000000000000000",  // byte string of 2^62 bytes
        "5bffffffffffffffff",
        "7b4000000000000000",  // text string of 2^62 bytes
        "9b4000000000000000",  // array of 2^62 items
        "9bffffffffffffffff",
        "bb4000000000000000",  // map of 2^62 pairs
        "bb7fffffffffffffff",
        "5f5b4000000000000000ff",  // as a chunk
        "825b400000000000000000",
        "9a7fffffff00",
        "ba40000000 0000",
    ])
    func hugeAnnouncedLengthsAreTruncatedWithoutAllocating(hexText: String) {
        #expect(errorKind { _ = try CBORValue(decoding: bytes(hexText)) } == "truncated")
    }

    @Test func itemLimit() throws {
        // An array of 70,000 zeros: 70,001 items, over the default 65,536.
        let array = bytes("9a00011170") + [UInt8](repeating: 0, count: 70_000)
        #expect(errorKind { _ = try CBORValue(decoding: array) } == "tooLarge")
        let roomy = CBORDecodingLimits(maxDepth: 16, maxItems: 70_001)
        #expect(try CBORValue(decoding: array, limits: roomy) == .array(Array(repeating: 0, count: 70_000)))
        // Indefinite-string chunks count as items too.
        let chunks = [0x5f] + [UInt8](repeating: 0x40, count: 70_000) + [0xff]
        #expect(errorKind { _ = try CBORValue(decoding: chunks) } == "tooLarge")
    }

    // MARK: Model

    @Test func structuralEquality() {
        #expect(CBORValue.float(0.0) != .float(-0.0))
        #expect(CBORValue.float(.nan) == .float(.nan))
        #expect(CBORValue.unsigned(1) != .float(1.0))
        #expect(CBORValue.text("\u{e9}") != .text("e\u{301}"))  // no Unicode normalisation
        #expect(Set<CBORValue>([.text("\u{e9}"), .text("e\u{301}")]).count == 2)
        #expect(CBORValue.map([(1, 2), (3, 4)]) != .map([(3, 4), (1, 2)]))
        #expect(CBORValue.integer(-1) == .negative(0))
        #expect(CBORValue.integer(Int64.min) == .negative(UInt64(Int64.max)))
    }

    @Test func simpleValuesWithoutEncodingThrow() throws {
        for v in UInt8(24)...31 {
            #expect(errorKind { _ = try CBORValue.simple(v).encoded() } == "unsupported")
        }
        #expect(try CBORValue.simple(20).encoded() == [0xf4])
        #expect(try CBORValue.simple(32).encoded() == [0xf8, 0x20])
    }

    @Test func diagnosticNotation() throws {
        #expect(try CBORValue(decoding: bytes("a26161016162820203")).description == #"{"a": 1, "b": [2, 3]}"#)
        #expect(try CBORValue(decoding: bytes("3bffffffffffffffff")).description == "-18446744073709551616")
        #expect(try CBORValue(decoding: bytes("c249010000000000000000")).description == "2(h'010000000000000000')")
        #expect(CBORValue.array([.float(1.5), .float(.nan), .simple(16), .null, .undefined]).description
            == "[1.5, NaN, simple(16), null, undefined]")
    }

    @Test func accessors() throws {
        let value = try CBORValue(decoding: bytes("a26161016162820203"))
        #expect(value["a"] == 1)
        #expect(value["b"] == [2, 3])
        #expect(value["c"] == nil)
        #expect(value["a"]?.int64Value == 1)
        #expect(CBORValue.unsigned(UInt64.max).int64Value == nil)
        #expect(CBORValue.text("x").textValue == "x")
    }

    // MARK: RFC 8428 §6: the SenML CBOR example, decoded and re-encoded byte for byte

    @Test func rfc8428ExampleRoundTrips() throws {
        // RFC 8428 §6 (the hex dump of the §5.1.2 pack), from github.com/core-wg/senml-spec
        // ex3.gen.cbor.hex. Its floats are already in their shortest exact width and its maps
        // in a fixed order, so preferred serialization reproduces it exactly.
        let example = bytes("""
            87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
            22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
            66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
            72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
            f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
            74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
            33 33 33
            """)
        #expect(example.count == 0xc3)
        let pack = try CBORValue(decoding: example)
        guard case .array(let records) = pack else { Issue.record("not an array"); return }
        #expect(records.count == 7)
        #expect(records[0][-2] == "urn:dev:ow:10e2073a0108006:")
        #expect(records[0][-3] == .float(1.276020076001e+09))
        #expect(records[0][-1] == 5)
        #expect(records[4][2] == 1.5)
        #expect(records[6][6] == 0)
        #expect(try pack.encoded() == example)
    }

    // MARK: Random input: never trap; anything decoded re-encodes and re-decodes equal

    @Test func randomBytesNeverTrap() throws {
        let interesting: [UInt8] = [
            0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0x38, 0x40, 0x41, 0x58, 0x5f, 0x60, 0x61, 0x62,
            0x7f, 0x80, 0x81, 0x82, 0x98, 0x9f, 0xa0, 0xa1, 0xa2, 0xb8, 0xbf, 0xc0, 0xc1, 0xc4, 0xd8, 0xf4,
            0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xff, 0xc3, 0xbc, 0xe6, 0x7c, 0x1c,
        ]
        let seeds = appendixA.map { bytes($0.hex) }
        var rng = SplitMix64(seed: 0xCB0F_0022_8949)
        var decoded = 0
        for iteration in 0..<100_000 {
            var input: [UInt8]
            if iteration % 2 == 0 {
                let length = Int(rng.next() % 40)
                input = (0..<length).map { _ in
                    let r = rng.next()
                    return r & 1 == 0 ? interesting[Int((r >> 8) % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: r >> 16)
                }
            } else {
                // Mutate a concatenation of valid items wrapped in an array header.
                let count = Int(rng.next() % 4) + 1
                input = [0x80 | UInt8(count)]
                for _ in 0..<count { input += seeds[Int(rng.next() % UInt64(seeds.count))] }
                for _ in 0..<Int(rng.next() % 4) {
                    let position = Int(rng.next() % UInt64(input.count))
                    switch rng.next() % 3 {
                    case 0: input[position] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: input.remove(at: position)
                    default: input.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: position)
                    }
                    if input.isEmpty { break }
                }
            }
            guard let value = try? CBORValue(decoding: input) else { continue }
            decoded += 1
            let encoded = try value.encoded()
            let again = try CBORValue(decoding: encoded)
            guard again == value, try again.encoded() == encoded else {
                Issue.record("round trip changed \(hex(input)): \(value) -> \(again)")
                return
            }
        }
        #expect(decoded > 10_000)
    }
}
