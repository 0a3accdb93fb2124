import CoAP
import Testing
@testable import LwM2M

/// The error kinds the JSON test files compare (the shared `ErrorKind`).
typealias JSONTestErrorKind = ErrorKind

extension ErrorKind {
    /// The kind of error `body` throws, nil when it succeeds.
    static func of<T>(_ body: () throws(ContentFormatError) -> T) -> JSONTestErrorKind? {
        do {
            _ = try body()
            return nil
        } catch {
            return JSONTestErrorKind(error)
        }
    }
}

/// A cheap check for hot loops (`#expect` costs too much per call in 100,000 iterations).
func jsonTestCheck(_ condition: Bool, _ message: @autoclosure () -> String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    if !condition { Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation) }
}

@Suite struct JSONTests {
    // MARK: Golden vectors (RFC 8259 §13, §7)

    /// RFC 8259 §13, first example (an object), as printed in the RFC.
    static let rfcImage = """
        {
              "Image": {
                  "Width":  800,
                  "Height": 600,
                  "Title":  "View from 15th Floor",
                  "Thumbnail": {
                      "Url":    "http://www.example.com/image/481989943",
                      "Height": 125,
                      "Width":  100
                  },
                  "Animated" : false,
                  "IDs": [116, 943, 234, 38793]
                }
            }
        """

    /// RFC 8259 §13, second example (an array of two objects).
    static let rfcLocations = """
        [
            {
               "precision": "zip",
               "Latitude":  37.7668,
               "Longitude": -122.3959,
               "Address":   "",
               "City":      "SAN FRANCISCO",
               "State":     "CA",
               "Zip":       "94107",
               "Country":   "US"
            },
            {
               "precision": "zip",
               "Latitude":  37.371991,
               "Longitude": -122.026020,
               "Address":   "",
               "City":      "SUNNYVALE",
               "State":     "CA",
               "Zip":       "94085",
               "Country":   "US"
            }
        ]
        """

    @Test func rfc8259ImageExample() throws {
        let value = try JSONParser.parse(Self.rfcImage)
        // Hand-compacted from the RFC text.
        #expect(JSONWriter.string(value) == #"{"Image":{"Width":800,"Height":600,"Title":"View from 15th Floor","Thumbnail":{"Url":"http://www.example.com/image/481989943","Height":125,"Width":100},"Animated":false,"IDs":[116,943,234,38793]}}"#)
        let image = try #require(value["Image"])
        #expect(image["Width"]?.numberValue?.int64Value == 800)
        #expect(image["Thumbnail"]?["Url"]?.stringValue == "http://www.example.com/image/481989943")
        #expect(image["Animated"]?.boolValue == false)
        #expect(image["IDs"]?.arrayValue?.compactMap { $0.numberValue?.int64Value } == [116, 943, 234, 38793])
    }

    @Test func rfc8259LocationsExample() throws {
        let value = try JSONParser.parse(Self.rfcLocations)
        let places = try #require(value.arrayValue)
        #expect(places.count == 2)
        #expect(places[0]["Latitude"]?.numberValue?.doubleValue == 37.7668)
        #expect(places[1]["Longitude"]?.numberValue?.literal == "-122.026020")  // literal kept as written
        #expect(places[1]["Longitude"]?.numberValue?.doubleValue == -122.02602)
        #expect(places[0]["Address"]?.stringValue == "")
        #expect(places[1]["City"]?.stringValue == "SUNNYVALE")
        #expect(places[1]["Zip"]?.stringValue == "94085")
    }

    @Test func rfc8259ScalarTexts() throws {
        // RFC 8259 §13: "Here are three small JSON texts containing only values".
        #expect(try JSONParser.parse(#""Hello world!""#) == .string("Hello world!"))
        #expect(try JSONParser.parse("42") == .number(JSONNumber(42)))
        #expect(try JSONParser.parse("true") == .bool(true))
    }

    @Test func rfc8259SurrogatePairExample() throws {
        // RFC 8259 §7: the G clef U+1D11E is "\uD834\uDD1E".
        #expect(try JSONParser.parse(#""\uD834\uDD1E""#) == .string("\u{1D11E}"))
        #expect(JSONWriter.bytes(.string("\u{1D11E}")) == [0x22, 0xF0, 0x9D, 0x84, 0x9E, 0x22])
    }

    // MARK: Conformance table (in the spirit of JSONTestSuite)

    /// Accepted texts and their compact re-serialisation.
    @Test(arguments: [
        ("[]", "[]"), ("[[]   ]", "[[]]"), (" [] ", "[]"), ("\t\r\n[1]\n", "[1]"), ("{}", "{}"),
        (#"[""]"#, #"[""]"#), (#"["a"]"#, #"["a"]"#), ("[false]", "[false]"),
        (#"[null, 1, "1", {}]"#, #"[null,1,"1",{}]"#), ("[1,null,null,null,2]", "[1,null,null,null,2]"),
        ("[-0]", "[-0]"), ("[-1]", "[-1]"), ("[1E22]", "[1E22]"), ("[1e1]", "[1e1]"), ("[1E+2]", "[1E+2]"),
        ("[1E-2]", "[1E-2]"), ("[0e+1]", "[0e+1]"), ("[0e1]", "[0e1]"), ("[-123]", "[-123]"),
        ("[123e65]", "[123e65]"), ("[ 4]", "[4]"), ("[123.456e78]", "[123.456e78]"), ("[-0.0e+00]", "[-0.0e+00]"),
        ("[1e-400]", "[1e-400]"),  // underflow: accepted, reads as 0.0
        ("[18446744073709551616]", "[18446744073709551616]"),  // 2^64: kept exactly as text
        (#"{"a":"b","a":"c"}"#, #"{"a":"b","a":"c"}"#),  // duplicate keys kept
        (#"{"":0}"#, #"{"":0}"#), (#"["\u0000"]"#, #"["\u0000"]"#), (#""\u0000""#, #""\u0000""#),
        (#"["\uD834\uDd1e"]"#, "[\"\u{1D11E}\"]"), (#"["\""]"#, #"["\""]"#), (#"["\/"]"#, #"["/"]"#),
        (#"["\\a"]"#, #"["\\a"]"#), (#"["\u00e9"]"#, "[\"é\"]"), (#"["\u2028"]"#, "[\"\u{2028}\"]"),
        (#"["\b\f\n\r\t"]"#, #"["\u0008\u000c\u000a\u000d\u0009"]"#), ("[\"\u{7F}\"]", "[\"\u{7F}\"]"),
        ("[\"€𝄞\"]", "[\"€𝄞\"]"), (#""asd""#, #""asd""#), ("null", "null"), ("2", "2"), ("false", "false"),
        (#"{"a":[{"b":{}}]}"#, #"{"a":[{"b":{}}]}"#),
    ])
    func accepts(input: String, compact: String) throws {
        let value = try JSONParser.parse(input)
        #expect(JSONWriter.string(value) == compact)
        #expect(try JSONParser.parse(compact) == value)
    }

    /// Refused texts and the kind of error.
    @Test(arguments: [
        // structure
        ("[1,]", JSONTestErrorKind.malformed), ("[,1]", .malformed), ("[1,,2]", .malformed), (#"{"a":1,}"#, .malformed),
        ("[1 true]", .malformed), (#"{"a" 1}"#, .malformed), ("{1:1}", .malformed), ("{'a':0}", .malformed),
        ("[] x", .malformed), ("[]]", .malformed), ("[1]x", .malformed), ("[1]//", .malformed), ("/* */[]", .malformed),
        (#"{"a":true} "x""#, .malformed), (#"{"a":1 "b":2}"#, .malformed), ("[\u{0C}]", .malformed),
        ("[\u{A0}]", .malformed), ("[tru]", .malformed), ("[True]", .malformed), ("[nul]", .malformed),
        ("[undefined]", .malformed), ("'a'", .malformed),
        // numbers
        ("[-]", .malformed), ("[.123]", .malformed), ("[01]", .malformed), ("[-01]", .malformed), ("[-012]", .malformed),
        ("[1.]", .malformed), ("[1.e1]", .malformed), ("[+1]", .malformed), ("[0x1]", .malformed), ("[NaN]", .malformed),
        ("[Infinity]", .malformed), ("[-Infinity]", .malformed), ("[1e]", .malformed), ("[1e+]", .malformed),
        ("[2.e3]", .malformed), ("[1e400]", .malformed), ("[-1e400]", .malformed), ("[1 000]", .malformed),
        ("[- 1]", .malformed), ("[1.0e]", .malformed), ("[0.e1]", .malformed), ("[1e0.2]", .malformed),
        // strings
        (#"["\uD800"]"#, .malformed), (#"["\uDADA"]"#, .malformed), (#"["\uDd1e\uD834"]"#, .malformed),
        (#"["\uD800\u0041"]"#, .malformed), (#"["\uD800abc"]"#, .malformed), (#"["\uD800\n"]"#, .malformed),
        (#"["\a"]"#, .malformed), (#"["\u00A"]"#, .malformed), (#"["\uqqqq"]"#, .malformed), (#"["\x41"]"#, .malformed),
        ("[\"a\tb\"]", .malformed), ("[\"a\u{0}b\"]", .malformed), ("[\"a\nb\"]", .malformed),
        // truncated prefixes
        ("", .truncated), (" ", .truncated), ("[", .truncated), ("[1,", .truncated), ("[1", .truncated),
        (#"["a"#, .truncated), (#"{"a":"#, .truncated), (#"{"a""#, .truncated), (#"{"#, .truncated), ("tr", .truncated),
        ("-", .truncated), ("1.", .truncated), ("1e", .truncated), ("1e+", .truncated), (#"["\u12"#, .truncated),
        (#"["\uD834"#, .truncated), (#"["\uD834\"#, .truncated), (#"["\"#, .truncated),
    ])
    func rejects(input: String, kind: JSONTestErrorKind) {
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(input) } == kind)
    }

    /// Refused byte sequences (not valid UTF-8, or a BOM).
    @Test(arguments: [
        [0xEF, 0xBB, 0xBF, 0x5B, 0x5D],  // BOM + []: refused (RFC 8259 §8.1 allows ignoring; CoAP never sends one)
        [0x5B, 0x22, 0xFF, 0x22, 0x5D],  // ["\xff"]
        [0x5B, 0x22, 0xC0, 0xAF, 0x22, 0x5D],  // overlong '/'
        [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D],  // UTF-8-encoded surrogate D800
        [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D],  // U+110000
        [0x5B, 0x22, 0x80, 0x22, 0x5D],  // lone continuation byte
        [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D],  // cut multi-byte sequence
        [0x5B, 0x22, 0xC3, 0x5C, 0x75, 0x30, 0x30, 0x41, 0x39, 0x22, 0x5D],  // lead byte then \u00A9
        [0x5B, 0xC3, 0xA9, 0x5D],  // non-ASCII outside a string
    ] as [[UInt8]])
    func rejectsBytes(input: [UInt8]) {
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(input) } == .malformed)
    }

    @Test func validUTF8IsKept() throws {
        let bytes: [UInt8] = [0x22, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9D, 0x84, 0x9E, 0x22]  // "é€𝄞"
        #expect(try JSONParser.parse(bytes) == .string("é€𝄞"))
        #expect(JSONWriter.bytes(try JSONParser.parse(bytes)) == bytes)
    }

    // MARK: Limits

    @Test func nestingLimit() {
        let ok = String(repeating: "[", count: 16) + String(repeating: "]", count: 16)
        let deep = String(repeating: "[", count: 17) + String(repeating: "]", count: 17)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(ok) } == nil)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(deep) } == .nestingTooDeep)
        let objects = String(repeating: #"{"a":"#, count: 17) + "1" + String(repeating: "}", count: 17)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(objects) } == .nestingTooDeep)
        // JSONTestSuite n_structure_100000_opening_arrays: stops at the limit, no stack exhaustion.
        let huge = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(huge) } == .nestingTooDeep)
        let custom = JSONParser.Limits(maxDepth: 2)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse("[[1]]", limits: custom) } == nil)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse("[[[1]]]", limits: custom) }
            == .nestingTooDeep)
    }

    @Test func sizeLimits() {
        let small = JSONParser.Limits(maxInputBytes: 4)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse("[1]", limits: small) } == nil)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse("[1,2]", limits: small) }
            == .tooLarge)
        let few = JSONParser.Limits(maxValues: 3)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse("[1,2]", limits: few) } == nil)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse("[1,2,3]", limits: few) }
            == .tooLarge)
        let longNumber = "1" + String(repeating: "0", count: 256)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(longNumber) } == .tooLarge)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(String(longNumber.dropLast())) }
            == nil)
    }

    // MARK: Numbers

    @Test(arguments: [
        ("0", Int64(0), UInt64(0)), ("-0", 0, 0), ("100", 100, 100), ("1e2", 100, 100), ("1E+2", 100, 100),
        ("100.0", 100, 100), ("1.5e1", 15, 15), ("1200e-2", 12, 12), ("0.0e5", 0, 0), ("-5", -5, nil),
        ("9223372036854775807", Int64.max, UInt64(Int64.max)), ("-9223372036854775808", Int64.min, nil),
        ("9223372036854775808", nil, UInt64(Int64.max) + 1), ("18446744073709551615", nil, UInt64.max),
        ("18446744073709551616", nil, nil), ("1e20", nil, nil), ("1.5", nil, nil), ("123e-2", nil, nil),
        ("-9223372036854775809", nil, nil), ("1e19", nil, 10_000_000_000_000_000_000), ("0.1e1", 1, 1),
        ("1e-400", nil, nil), ("0e-400", 0, 0),
    ] as [(String, Int64?, UInt64?)])
    func exactIntegers(literal: String, int64: Int64?, uint64: UInt64?) throws {
        let number = try #require(JSONNumber(literal: literal))
        #expect(number.int64Value == int64)
        #expect(number.uint64Value == uint64)
    }

    @Test func numberLiteralValidation() {
        for bad in ["", "-", "+1", "01", "1.", ".1", "1e", "0x10", "NaN", "inf", "1e400", " 1", "1 "] {
            #expect(JSONNumber(literal: bad) == nil, "\(bad)")
        }
        #expect(JSONNumber(literal: "-0.0e-7")?.doubleValue == 0)
        #expect(JSONNumber(literal: "12")?.isIntegerLiteral == true)
        #expect(JSONNumber(literal: "12.0")?.isIntegerLiteral == false)
        #expect(JSONNumber(literal: "12e0")?.isIntegerLiteral == false)
    }

    @Test func doublesAreShortestAndRoundTrip() throws {
        // Hand-checked shortest forms.
        let expected: [(Double, String)] = [
            (0.1, "0.1"), (2.0, "2.0"), (-0.0, "-0.0"), (1e16, "1e+16"), (1e-5, "1e-05"), (23.1, "23.1"),
            (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (100.0, "100.0"),
            (0.30000000000000004, "0.30000000000000004"), (-122.3959, "-122.3959"),
        ]
        for (value, text) in expected {
            #expect(JSONNumber(value)?.literal == text)
        }
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(-Double.infinity) == nil)

        var random = SplitMix64(seed: 0xD0B1E)
        for _ in 0..<20_000 {
            let value = Double(bitPattern: random.next())
            guard value.isFinite else { continue }
            let number = try #require(JSONNumber(value))
            jsonTestCheck(number.doubleValue.bitPattern == value.bitPattern, "\(value)")
            jsonTestCheck(!number.isIntegerLiteral, "\(value)")
            jsonTestCheck(JSONNumber(literal: number.literal) == number, "\(value)")
        }
        for value in [Int64.min, -1, 0, 1, Int64.max] {
            #expect(JSONNumber(value).int64Value == value)
        }
        #expect(JSONNumber(UInt64.max).literal == "18446744073709551615")
    }

    // MARK: Writer

    @Test func writerEscaping() {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let expected = "\"" + (0..<0x20).map { code -> String in
            let hex = Array("0123456789abcdef")
            return "\\u00" + String(hex[code >> 4]) + String(hex[code & 0xF])
        }.joined() + "\""
        #expect(JSONWriter.string(.string(controls)) == expected)
        #expect(JSONWriter.string(.string("a\"b\\c/d\u{7F}é")) == "\"a\\\"b\\\\c/d\u{7F}é\"")
        #expect(JSONWriter.string(.object([("k\n", .array([.null, .bool(true), .number(JSONNumber(-1))]))]))
            == #"{"k\u000a":[null,true,-1]}"#)
    }

    @Test func everyBMPScalarRoundTrips() throws {
        // All scalars U+0000...U+FFFF except surrogates, in chunks.
        var scalars: [Unicode.Scalar] = []
        for code in UInt32(0)...0xFFFF {
            if let scalar = Unicode.Scalar(code) { scalars.append(scalar) }
        }
        for start in stride(from: 0, to: scalars.count, by: 4096) {
            let text = String(String.UnicodeScalarView(scalars[start..<min(start + 4096, scalars.count)]))
            let bytes = JSONWriter.bytes(.string(text))
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed.stringValue.map { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
        }
    }

    // MARK: Robustness

    static let validCorpus: [String] = [
        rfcImage, rfcLocations,
        #"[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"7/0","v":3800},{"n":"9","v":1.5e2}]"#,
        #"{"bn":"/3/0/","e":[{"n":"0","sv":"x"},{"n":"y","ov":"3:0"},{"n":"z","bv":true}]}"#,
        #"["\uD834\uDD1E\u0000\n\"\\", -0.0e+1, 18446744073709551615, null, [[{}]], {"":{"a":[]}}]"#,
        "\"é€𝄞\"", "123.456e-7", "true",
    ]

    /// Every prefix of a valid text is either valid or `truncated`: never another error, never a
    /// trap.
    @Test func truncationAtEveryOffset() {
        for text in Self.validCorpus {
            let bytes = Array(text.utf8)
            for cut in 0..<bytes.count {
                let kind = JSONTestErrorKind.of { () throws(ContentFormatError) in try JSONParser.parse(Array(bytes[..<cut])) }
                jsonTestCheck(kind == nil || kind == .truncated, "\(text.prefix(40))… cut at \(cut): \(String(describing: kind))")
            }
        }
    }

    /// 100,000 seeded inputs (random bytes, mutated valid texts, generated values): the parser
    /// never traps, and whatever it accepts re-serialises to a text that parses to the same value
    /// and re-serialises identically.
    @Test func randomInputsNeverTrapAndRoundTrip() throws {
        var random = SplitMix64(seed: 8259)
        let alphabet = Array(#"[]{}",:0123456789-+.eE tfnrulsa\/u"#.utf8) + [0x0A, 0x09, 0xC3, 0xA9, 0xFF]
        let corpus = Self.validCorpus.map { Array($0.utf8) }
        var accepted = 0
        for iteration in 0..<100_000 {
            let input: [UInt8]
            switch iteration % 3 {
            case 0:
                let length = Int.random(in: 0...24, using: &random)
                input = (0..<length).map { _ in
                    Bool.random(using: &random) ? alphabet.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
                }
            case 1:
                input = Self.mutate(corpus.randomElement(using: &random)!, using: &random)
            default:
                input = JSONWriter.bytes(Self.randomValue(depth: 0, using: &random))
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(input)
            } catch {
                if iteration % 3 == 2 { Issue.record("generated JSON refused: \(error)") }
                continue
            }
            accepted += 1
            let written = JSONWriter.bytes(value)
            let again = try JSONParser.parse(written)
            jsonTestCheck(again == value, "re-parse differs for \(input)")
            jsonTestCheck(JSONWriter.bytes(again) == written, "re-serialisation differs for \(input)")
        }
        #expect(accepted > 33_000)
    }

    static func mutate(_ seed: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...8, using: &random))
                bytes.insert(contentsOf: Array(bytes[position..<end]), at: position)
            default:
                bytes = Array(bytes[..<position])
            }
        }
        return bytes
    }

    static func randomValue(depth: Int, using random: inout SplitMix64) -> JSONValue {
        let choice = Int.random(in: 0..<(depth >= 4 ? 5 : 7), using: &random)
        switch choice {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2:
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return .number(JSONNumber(Int64(bitPattern: random.next())))
            case 1: return .number(JSONNumber(random.next()))
            default:
                let value = Double(bitPattern: random.next())
                return .number(JSONNumber(value) ?? JSONNumber(0))
            }
        case 3, 4: return .string(randomString(using: &random))
        case 5:
            return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            return .object((0..<Int.random(in: 0...4, using: &random)).map { _ in
                (randomString(using: &random), randomValue(depth: depth + 1, using: &random))
            })
        }
    }

    static func randomString(using random: inout SplitMix64) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &random) {
            let code: UInt32 = switch Int.random(in: 0..<4, using: &random) {
            case 0: UInt32.random(in: 0..<0x20, using: &random)
            case 1: UInt32.random(in: 0x20..<0x80, using: &random)
            case 2: UInt32.random(in: 0x80..<0xD800, using: &random)
            default: UInt32.random(in: 0xE000...0x10FFFF, using: &random)
            }
            if let scalar = Unicode.Scalar(code) { scalars.append(scalar) }
        }
        return String(scalars)
    }
}
