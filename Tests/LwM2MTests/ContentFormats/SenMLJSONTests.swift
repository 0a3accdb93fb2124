import CoAP
import Testing
@testable import LwM2M

/// Resource types of the example client's Device object (TS 1.1 Appendix E.4 / the OMA Device
/// object table), as the SenML tests need them.
let senMLTestDeviceTypes: [UInt16: ResourceType] = [
    0: .string, 1: .string, 2: .string, 3: .string, 4: .none, 6: .integer, 7: .integer, 8: .integer, 9: .integer,
    10: .integer, 11: .integer, 13: .time, 14: .string, 15: .string, 16: .string,
]

/// Types for /3 (Device), /1 (Server) and a test object /9999 with one resource of each type.
func senMLTestResolver(_ path: LwM2MPath) -> ResourceType? {
    guard let object = path.objectID, let resource = path.resourceID else { return nil }
    switch object {
    case 3: return senMLTestDeviceTypes[resource]
    case 1:
        let types: [UInt16: ResourceType] = [0: .integer, 1: .integer, 6: .boolean, 7: .string]
        return types[resource]
    case 9999:
        let types: [ResourceType] = [.string, .integer, .unsignedInteger, .float, .boolean, .opaque, .time,
                                     .objectLink, .coreLink, .none]
        return Int(resource) < types.count ? types[Int(resource)] : nil
    default: return nil
    }
}

@Suite struct SenMLJSONTests {
    /// LwM2M TS 1.1 §7.4.4, SenML JSON example: Read on the Device object instance /3/0 of the
    /// example client (the same pack is the SenML CBOR example's diagnostic notation in §7.4.5).
    /// Hand-copied from the TS text, whitespace as printed.
    static let tsDeviceExample = """
        [{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},
        {"n":"1","vs":"Lightweight M2M Client"},
        {"n":"2","vs":"345000123"},
        {"n":"3","vs":"1.0"},
        {"n":"6/0","v":1},
        {"n":"6/1","v":5},
        {"n":"7/0","v":3800},
        {"n":"7/1","v":5000},
        {"n":"8/0","v":125},
        {"n":"8/1","v":900},
        {"n":"9","v":100},
        {"n":"10","v":15},
        {"n":"11/0","v":0},
        {"n":"13","v":1367491215},
        {"n":"14","vs":"+02:00"},
        {"n":"16","vs":"U"}]
        """

    static var deviceRecords: [LwM2MRecord] {
        [
            LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance")),
            LwM2MRecord(LwM2MPath(3, 0, 1), .string("Lightweight M2M Client")),
            LwM2MRecord(LwM2MPath(3, 0, 2), .string("345000123")),
            LwM2MRecord(LwM2MPath(3, 0, 3), .string("1.0")),
            LwM2MRecord(LwM2MPath(3, 0, 6, 0), .integer(1)),
            LwM2MRecord(LwM2MPath(3, 0, 6, 1), .integer(5)),
            LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(3800)),
            LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000)),
            LwM2MRecord(LwM2MPath(3, 0, 8, 0), .integer(125)),
            LwM2MRecord(LwM2MPath(3, 0, 8, 1), .integer(900)),
            LwM2MRecord(LwM2MPath(3, 0, 9), .integer(100)),
            LwM2MRecord(LwM2MPath(3, 0, 10), .integer(15)),
            LwM2MRecord(LwM2MPath(3, 0, 11, 0), .integer(0)),
            LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_367_491_215)),
            LwM2MRecord(LwM2MPath(3, 0, 14), .string("+02:00")),
            LwM2MRecord(LwM2MPath(3, 0, 16), .string("U")),
        ]
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Golden vectors: LwM2M TS 1.1

    @Test func encodesTheTSDeviceExample() throws {
        let compact = Self.tsDeviceExample.split(separator: "\n").joined()
        #expect(Self.text(try SenMLJSON.encode(Self.deviceRecords, basePath: LwM2MPath(3, 0))) == compact)
    }

    @Test func decodesTheTSDeviceExample() throws {
        let payload = Array(Self.tsDeviceExample.utf8)
        #expect(try SenMLJSON.decode(payload, basePath: LwM2MPath(3, 0), resolver: senMLTestResolver) == Self.deviceRecords)
        // Without type information the Time resource reads as an integer.
        let untyped = try SenMLJSON.decode(payload, basePath: LwM2MPath(3, 0))
        #expect(untyped[13] == LwM2MRecord(LwM2MPath(3, 0, 13), .integer(1_367_491_215)))
        #expect(Array(untyped[..<13]) == Array(Self.deviceRecords[..<13]))
        // The same payload is valid for a Write-Composite (root base) and under /3.
        #expect(try SenMLJSON.decode(payload, resolver: senMLTestResolver) == Self.deviceRecords)
        #expect(try SenMLJSON.decode(payload, basePath: LwM2MPath(3), resolver: senMLTestResolver) == Self.deviceRecords)
        // … but not for a request on another instance or resource.
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in
            try SenMLJSON.decode(payload, basePath: LwM2MPath(3, 1))
        } == .invalidPath)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in
            try SenMLJSON.decode(payload, basePath: LwM2MPath(3, 0, 7))
        } == .invalidPath)
    }

    @Test func singleResourceAndResourceInstances() throws {
        let manufacturer = [LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance"))]
        #expect(Self.text(try SenMLJSON.encode(manufacturer, basePath: LwM2MPath(3, 0, 0)))
            == #"[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"}]"#)
        let voltages = [LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(3800)), LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000))]
        let encoded = try SenMLJSON.encode(voltages, basePath: LwM2MPath(3, 0, 7))
        #expect(Self.text(encoded) == #"[{"bn":"/3/0/7/","n":"0","v":3800},{"n":"1","v":5000}]"#)
        #expect(try SenMLJSON.decode(encoded, basePath: LwM2MPath(3, 0, 7)) == voltages)
        let one = [LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000))]
        #expect(Self.text(try SenMLJSON.encode(one, basePath: LwM2MPath(3, 0, 7, 1))) == #"[{"bn":"/3/0/7/","n":"1","v":5000}]"#)
        // A resource sent with bn only (Leshan's form for a single-resource read).
        #expect(try SenMLJSON.decode(Array(#"[{"bn":"/3/0/0","vs":"x"}]"#.utf8), basePath: LwM2MPath(3, 0, 0))
            == [LwM2MRecord(LwM2MPath(3, 0, 0), .string("x"))])
        #expect(Self.text(try SenMLJSON.encode([], basePath: LwM2MPath(3, 0))) == "[]")
    }

    // MARK: Golden vectors: RFC 8428 §5.1

    @Test func rfc8428SingleDatapoint() throws {
        // §5.1.1
        let records = try SenMLJSON.resolve(Array(#"[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]"#.utf8))
        #expect(records == [SenMLJSON.ResolvedRecord(name: "urn:dev:ow:10e2073a01080063", unit: "Cel",
                                                     value: .number(JSONNumber(literal: "23.1")!))])
    }

    @Test func rfc8428MultipleDatapoints() throws {
        // §5.1.2
        let pack = """
            [
              {"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},
              {"n":"current","u":"A","v":1.2}
            ]
            """
        let records = try SenMLJSON.resolve(Array(pack.utf8))
        #expect(records.map(\.name) == ["urn:dev:ow:10e2073a01080063:voltage", "urn:dev:ow:10e2073a01080063:current"])
        #expect(records.map(\.unit) == ["V", "A"])
        #expect(records.map { $0.time == nil } == [true, true])
    }

    @Test func rfc8428MultipleMeasurementsResolveToTheRFCsResolvedForm() throws {
        // §5.1.3, and its resolved form in §5.1.4 (first two records: times 1.276020076001e+09 and
        // 1.276020071001e+09, unit "A" from bu, bver 5 ≤ 10 accepted).
        let pack = """
            [
              {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
               "bu":"A","bver":5,
               "n":"voltage","u":"V","v":120.1},
              {"n":"current","t":-5,"v":1.2},
              {"n":"current","t":-4,"v":1.3},
              {"n":"current","t":-3,"v":1.4},
              {"n":"current","t":-2,"v":1.5},
              {"n":"current","t":-1,"v":1.6},
              {"n":"current","v":1.7}
            ]
            """
        let records = try SenMLJSON.resolve(Array(pack.utf8))
        #expect(records.count == 7)
        #expect(records[0].name == "urn:dev:ow:10e2073a0108006:voltage")
        #expect(records[0].unit == "V" && records[0].time == 1.276020076001e+09)
        #expect(records[1].name == "urn:dev:ow:10e2073a0108006:current")
        #expect(records[1].unit == "A" && records[1].time == 1.276020071001e+09)
        #expect(records[1].value == .number(JSONNumber(literal: "1.2")!))
        #expect(records[6].time == 1.276020076001e+09)
    }

    @Test func rfc8428MultipleDataTypes() throws {
        // §5.1.6: vd "aGkgCg" is base64url of "hi \n".
        let pack = """
            [
              {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
              {"n":"label","vs":"Machine Room"},
              {"n":"open","vb":false},
              {"n":"nfc-reader","vd":"aGkgCg"}
            ]
            """
        let records = try SenMLJSON.resolve(Array(pack.utf8))
        #expect(records.map(\.value) == [.number(JSONNumber(literal: "23.1")!), .string("Machine Room"), .boolean(false),
                                         .data("aGkgCg")])
        #expect(Base64.decode("aGkgCg", alphabet: .url, padding: .forbidden) == [0x68, 0x69, 0x20, 0x0A])
        // Our encoder produces the RFC's vd text for the same bytes.
        let encoded = try SenMLJSON.encode([LwM2MRecord(LwM2MPath(9999, 0, 5), .opaque([0x68, 0x69, 0x20, 0x0A]))],
                                           basePath: LwM2MPath(9999, 0))
        #expect(Self.text(encoded) == #"[{"bn":"/9999/0/","n":"5","vd":"aGkgCg"}]"#)
    }

    // MARK: Values and types

    @Test func everyValueType() throws {
        let records = [
            LwM2MRecord(LwM2MPath(9999, 0, 0), .string("a\"b")),
            LwM2MRecord(LwM2MPath(9999, 0, 1), .integer(-9_223_372_036_854_775_808)),
            LwM2MRecord(LwM2MPath(9999, 0, 2), .unsignedInteger(18_446_744_073_709_551_615)),
            LwM2MRecord(LwM2MPath(9999, 0, 3), .float(2.0)),
            LwM2MRecord(LwM2MPath(9999, 0, 4), .boolean(true)),
            LwM2MRecord(LwM2MPath(9999, 0, 5), .opaque([0xFB, 0xFF])),
            LwM2MRecord(LwM2MPath(9999, 0, 6), .time(-1)),
            LwM2MRecord(LwM2MPath(9999, 0, 7), .objectLink(ObjectLink(objectID: 3, instanceID: 0))),
            LwM2MRecord(LwM2MPath(9999, 0, 8), .coreLink("</3/0>")),
        ]
        let encoded = try SenMLJSON.encode(records, basePath: LwM2MPath(9999, 0))
        #expect(Self.text(encoded) == """
            [{"bn":"/9999/0/","n":"0","vs":"a\\"b"},{"n":"1","v":-9223372036854775808},\
            {"n":"2","v":18446744073709551615},{"n":"3","v":2.0},{"n":"4","vb":true},{"n":"5","vd":"-_8"},\
            {"n":"6","v":-1},{"n":"7","vlo":"3:0"},{"n":"8","vs":"</3/0>"}]
            """)
        #expect(try SenMLJSON.decode(encoded, basePath: LwM2MPath(9999, 0), resolver: senMLTestResolver) == records)
    }

    @Test func untypedNumbers() throws {
        let payload = #"[{"bn":"/9/0/","n":"0","v":1},{"n":"1","v":-0},{"n":"2","v":18446744073709551615},{"n":"3","v":1.5},"#
            + #"{"n":"4","v":1e2},{"n":"5","v":2.0},{"n":"6","v":9223372036854775807},{"n":"7","v":1000000000000000000000000000000}]"#
        let values = try SenMLJSON.decode(Array(payload.utf8)).map(\.value)
        #expect(values == [.integer(1), .integer(0), .unsignedInteger(.max), .float(1.5), .float(100), .float(2),
                           .integer(.max), .float(1e30)])
    }

    @Test func typedNumbers() throws {
        func value(_ resource: UInt16, _ literal: String) throws(ContentFormatError) -> ResourceValue {
            let payload = "[{\"n\":\"/9999/0/\(resource)\",\"v\":\(literal)}]"
            return try SenMLJSON.decode(Array(payload.utf8), resolver: senMLTestResolver)[0].value
        }
        #expect(try value(1, "1e2") == .integer(100))
        #expect(try value(1, "100.0") == .integer(100))
        #expect(try value(1, "-9223372036854775808") == .integer(.min))
        #expect(try value(2, "18446744073709551615") == .unsignedInteger(.max))
        #expect(try value(3, "1") == .float(1))
        #expect(try value(3, "12345678901234567890123") == .float(Double("12345678901234567890123")!))
        #expect(try value(6, "1367491215") == .time(1_367_491_215))
        for (resource, literal, expected) in [
            (UInt16(1), "1.5", ResourceType.integer), (1, "9223372036854775808", .integer), (2, "-1", .unsignedInteger),
            (2, "18446744073709551616", .unsignedInteger), (6, "1.5", .time), (0, "1", .string), (4, "1", .boolean),
            (5, "1", .opaque), (7, "1", .objectLink), (9, "1", .none),
        ] {
            #expect(throws: ContentFormatError.typeMismatch(LwM2MPath(9999, 0, resource), expected: expected)) {
                try value(resource, literal)
            }
        }
    }

    @Test func valueLabelsMustMatchTheType() {
        func kind(_ record: String) -> JSONTestErrorKind? {
            JSONTestErrorKind.of { () throws(ContentFormatError) in
                try SenMLJSON.decode(Array("[\(record)]".utf8), resolver: senMLTestResolver)
            }
        }
        #expect(kind(#"{"n":"/9999/0/0","vs":"x"}"#) == nil)
        #expect(kind(#"{"n":"/9999/0/8","vs":"</1>"}"#) == nil)
        #expect(kind(#"{"n":"/9999/0/4","vs":"true"}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/0","vb":true}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/0","vd":"AA"}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/0","vlo":"3:0"}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/5","vs":"AA"}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/7","vs":"3:0"}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/9","vb":true}"#) == .typeMismatch)
        #expect(kind(#"{"n":"/9999/0/7","vlo":"3:0:1"}"#) == .malformed)
        #expect(kind(#"{"n":"/9999/0/7","vlo":"+3:0"}"#) == .malformed)
        #expect(kind(#"{"n":"/9999/0/7","vlo":"65536:0"}"#) == .malformed)
        #expect(kind(#"{"n":"/9999/0/7","vlo":"65535:65535"}"#) == nil)
        #expect(kind(#"{"n":"/9999/0/5","vd":"A"}"#) == .malformed)
        #expect(kind(#"{"n":"/9999/0/5","vd":"AB"}"#) == .malformed)  // non-zero trailing bits
    }

    @Test func opaqueAcceptsEitherAlphabet() throws {
        func bytes(_ text: String) throws(ContentFormatError) -> ResourceValue {
            try SenMLJSON.decode(Array("[{\"n\":\"/9999/0/5\",\"vd\":\"\(text)\"}]".utf8), resolver: senMLTestResolver)[0].value
        }
        #expect(try bytes("-_8") == .opaque([0xFB, 0xFF]))  // RFC 8428: base64url, no padding
        #expect(try bytes("+/8=") == .opaque([0xFB, 0xFF]))  // base64 as some LwM2M clients send it
        #expect(try bytes("-_8=") == .opaque([0xFB, 0xFF]))
        #expect(try bytes("") == .opaque([]))
        #expect(throws: ContentFormatError.self) { try bytes("-/8") }  // mixed alphabets
    }

    // MARK: Names and paths

    @Test func baseNameCarriesForward() throws {
        let payload = #"[{"bn":"/3/0/","n":"0","vs":"a"},{"n":"1","vs":"b"},{"bn":"/1/0/","n":"1","v":300},{"n":"7","vs":"U"}]"#
        let paths = try SenMLJSON.decode(Array(payload.utf8)).map(\.path)
        #expect(paths == [LwM2MPath(3, 0, 0), LwM2MPath(3, 0, 1), LwM2MPath(1, 0, 1), LwM2MPath(1, 0, 7)])
    }

    @Test func writeCompositeWithAbsoluteNames() throws {
        let payload = #"[{"n":"/3/0/14","vs":"+02:00"},{"n":"/1/0/1","v":86400},{"n":"3/0/16","vs":"U"}]"#
        #expect(try SenMLJSON.decode(Array(payload.utf8), resolver: senMLTestResolver) == [
            LwM2MRecord(LwM2MPath(3, 0, 14), .string("+02:00")), LwM2MRecord(LwM2MPath(1, 0, 1), .integer(86400)),
            LwM2MRecord(LwM2MPath(3, 0, 16), .string("U")),
        ])
    }

    @Test(arguments: [
        "/3/0", "/3", "/", "", "/3//0/1", "/3/0/1/", "/3/00/1", "/3/0/01", "/65535/0/0", "/3/0/1/2/3", "/3/0/x",
        "/3/0/+1", "/3/0/-1", " /3/0/1", "3/0/1 ", "//3/0/1", "/3/0/100000",
    ])
    func invalidNames(name: String) {
        let payload = "[{\"n\":\"\(name)\",\"v\":1}]"
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try SenMLJSON.decode(Array(payload.utf8)) } == .invalidPath)
    }

    @Test func recordWithoutNameUsesTheBaseName() throws {
        #expect(try SenMLJSON.decode(Array(#"[{"bn":"/3/0/9","v":95}]"#.utf8)) == [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))])
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try SenMLJSON.decode(Array(#"[{"v":95}]"#.utf8)) }
            == .invalidPath)
    }

    // MARK: Composite

    @Test func readCompositePaths() throws {
        let plain = #"[{"n":"/3/0/0"},{"n":"/3/0/9"},{"n":"/1/0/1"}]"#
        #expect(try SenMLJSON.decodePaths(Array(plain.utf8)) == [LwM2MPath(3, 0, 0), LwM2MPath(3, 0, 9), LwM2MPath(1, 0, 1)])
        let based = #"[{"bn":"/3/0/","n":"0"},{"n":"9"},{"bn":"/1/","n":"0/1"},{"bn":"/5/0/"},{"bn":"","n":"/"},{"n":"/6"}]"#
        #expect(try SenMLJSON.decodePaths(Array(based.utf8)) == [
            LwM2MPath(3, 0, 0), LwM2MPath(3, 0, 9), LwM2MPath(1, 0, 1), LwM2MPath(5, 0), .root, LwM2MPath(6),
        ])
        #expect(SenMLJSON.encodePaths([LwM2MPath(3, 0, 0), LwM2MPath(1), .root]) == Array(#"[{"n":"/3/0/0"},{"n":"/1"},{"n":"/"}]"#.utf8))
        #expect(try SenMLJSON.decodePaths(SenMLJSON.encodePaths([LwM2MPath(3, 0, 7, 1), LwM2MPath(4)]))
            == [LwM2MPath(3, 0, 7, 1), LwM2MPath(4)])
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in
            try SenMLJSON.decodePaths(Array(#"[{"n":"/3/0/0","v":1}]"#.utf8))
        } == .malformed)
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in
            try SenMLJSON.decodePaths(Array(#"[{"n":"/3//0"}]"#.utf8))
        } == .invalidPath)
        #expect(try SenMLJSON.decodePaths(Array("[]".utf8)) == [])
    }

    @Test func compositeEncodingStartsANewBaseNamePerInstance() throws {
        let records = [
            LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance")), LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95)),
            LwM2MRecord(LwM2MPath(1, 0, 1), .integer(86400)), LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000)),
        ]
        let encoded = try SenMLJSON.encodeComposite(records)
        #expect(Self.text(encoded) == #"[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"9","v":95},"#
            + #"{"bn":"/1/0/","n":"1","v":86400},{"bn":"/3/0/","n":"7/1","v":5000}]"#)
        #expect(try SenMLJSON.decode(encoded) == records)
    }

    @Test func timesAreParsedAndWritten() throws {
        let payload = #"[{"bn":"/3303/0/5700","bt":25462634,"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50},{"bt":0,"v":1}]"#
        let entries = try SenMLJSON.decodeEntries(Array(payload.utf8))
        #expect(entries.map(\.time) == [25_462_629, 25_462_604, 25_462_584, 0])
        #expect(entries.map(\.record.value) == [.float(22.4), .float(22.9), .float(24.1), .integer(1)])
        // Four values for one path: fine as a time series, refused as a Write.
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try SenMLJSON.decode(Array(payload.utf8)) } == .malformed)

        let timed = [SenMLJSON.Entry(LwM2MRecord(LwM2MPath(3303, 0, 5700), .float(22.4)), time: 1_700_000_000)]
        let encoded = try SenMLJSON.encodeComposite(entries: timed)
        #expect(Self.text(encoded) == #"[{"bn":"/3303/0/","n":"5700","v":22.4,"t":1700000000.0}]"#)
        #expect(try SenMLJSON.decodeEntries(encoded) == timed)
    }

    // MARK: Refusals

    @Test(arguments: [
        (#"{"n":"/3/0/0","vs":"x"}"#, JSONTestErrorKind.malformed),  // not an array
        (#"[1]"#, .malformed), (#"[[]]"#, .malformed), (#"[{"n":"/3/0/0"}]"#, .malformed),  // no value
        (#"[{"n":"/3/0/0","vs":"x","v":1}]"#, .malformed), (#"[{"n":"/3/0/0","n":"/3/0/1","v":1}]"#, .malformed),
        (#"[{"n":"/3/0/0","v":"1"}]"#, .malformed), (#"[{"n":"/3/0/0","vs":1}]"#, .malformed),
        (#"[{"n":"/3/0/0","vb":"true"}]"#, .malformed), (#"[{"n":3,"v":1}]"#, .malformed),
        (#"[{"bn":null,"n":"/3/0/0","v":1}]"#, .malformed), (#"[{"n":"/3/0/0","v":1,"t":"now"}]"#, .malformed),
        (#"[{"n":"/3/0/0","v":1,"bver":11}]"#, .unsupported), (#"[{"n":"/3/0/0","v":1,"bver":0}]"#, .malformed),
        (#"[{"n":"/3/0/0","v":1,"bver":1.5}]"#, .malformed), (#"[{"n":"/3/0/0","v":1,"xyz_":1}]"#, .unsupported),
        (#"[{"n":"/3/0/0","v":1,"bv":2}]"#, .unsupported), (#"[{"n":"/3/0/0","v":1},{"n":"/3/0/0","v":2}]"#, .malformed),
        (#"[{"n":"/3/0/0","v":1,"bt":1e308,"t":1e308}]"#, .malformed), (#"[{"n":"/3/0/0","v":1,"#, .truncated),
        (#"[{"n":"/3/0/0","v":1e400}]"#, .malformed), (#"[{"n":"/3/0/7","v":1},{"n":"/3/0/7/0","v":2}]"#, .malformed),
        (#"[{"n":"/3/0/7/0","v":1},{"n":"/3/0/7","v":2}]"#, .malformed),
    ])
    func refuses(payload: String, kind: JSONTestErrorKind) {
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in try SenMLJSON.decode(Array(payload.utf8)) } == kind)
    }

    @Test func ignoresUnknownAndMetadataLabels() throws {
        let payload = #"[{"bn":"/3/0/","bver":10,"bu":"V","bv":0,"bs":1,"n":"7/0","u":"mV","v":3800,"s":2,"ut":5,"xyz":{"a":[1]}}]"#
        #expect(try SenMLJSON.decode(Array(payload.utf8)) == [LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(3800))])
    }

    @Test func encodingRefusals() {
        #expect(throws: ContentFormatError.self) {
            try SenMLJSON.encode([LwM2MRecord(LwM2MPath(3, 1, 0), .integer(1))], basePath: LwM2MPath(3, 0))
        }
        #expect(throws: ContentFormatError.self) {
            try SenMLJSON.encode([LwM2MRecord(LwM2MPath(3, 0), .integer(1))], basePath: LwM2MPath(3, 0))
        }
        #expect(throws: ContentFormatError.self) {
            try SenMLJSON.encode([LwM2MRecord(LwM2MPath(3, 0, 1), .float(.nan))], basePath: LwM2MPath(3, 0))
        }
        #expect(throws: ContentFormatError.self) {
            try SenMLJSON.encodeComposite([LwM2MRecord(LwM2MPath(3), .float(.infinity))])
        }
        #expect(throws: ContentFormatError.self) {
            try SenMLJSON.encodeComposite(entries: [SenMLJSON.Entry(LwM2MRecord(LwM2MPath(3, 0, 1), .integer(1)), time: .nan)])
        }
    }

    // MARK: Round trips and robustness

    static func randomRecord(using random: inout SplitMix64, object: UInt16? = nil) -> LwM2MRecord {
        let resource = UInt16.random(in: 0...8, using: &random)
        let instance = UInt16.random(in: 0...3, using: &random)
        var path = LwM2MPath(object ?? 9999, instance, resource)
        // Odd instances use resource instances, so no resource gets both forms.
        if instance % 2 == 1 { path = path.appending(UInt16.random(in: 0...65534, using: &random)) }
        let double = Double(bitPattern: random.next())
        let value: ResourceValue = switch resource {
        case 0: .string(JSONTests.randomString(using: &random))
        case 1: .integer(Int64(bitPattern: random.next()))
        case 2: .unsignedInteger(random.next())
        case 3: .float(double.isFinite ? double : 0.5)
        case 4: .boolean(Bool.random(using: &random))
        case 5: .opaque((0..<Int.random(in: 0...9, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        case 6: .time(Int64(bitPattern: random.next()))
        case 7: .objectLink(ObjectLink(objectID: UInt16.random(in: 0...65535, using: &random),
                                       instanceID: UInt16.random(in: 0...65535, using: &random)))
        default: .coreLink(JSONTests.randomString(using: &random))
        }
        return LwM2MRecord(path, value)
    }

    @Test func typedRoundTrips() throws {
        var random = SplitMix64(seed: 110)
        for _ in 0..<2_000 {
            var seen: Set<LwM2MPath> = []
            let records = (0..<Int.random(in: 0...6, using: &random)).map { _ in Self.randomRecord(using: &random) }
                .filter { seen.insert($0.path).inserted }
            let encoded = try SenMLJSON.encode(records, basePath: LwM2MPath(9999))
            jsonTestCheck(try SenMLJSON.decode(encoded, basePath: LwM2MPath(9999), resolver: senMLTestResolver) == records,
                          "\(records)")
            let composite = try SenMLJSON.encodeComposite(records)
            jsonTestCheck(try SenMLJSON.decode(composite, resolver: senMLTestResolver) == records, "\(records)")
        }
    }

    @Test func truncationAtEveryOffset() throws {
        let payloads = [Array(Self.tsDeviceExample.utf8),
                        try SenMLJSON.encode(Self.deviceRecords + [LwM2MRecord(LwM2MPath(3, 0, 17), .opaque([1, 2, 3]))],
                                             basePath: LwM2MPath(3, 0))]
        for payload in payloads {
            for cut in 0..<payload.count {
                let prefix = Array(payload[..<cut])
                let kind = JSONTestErrorKind.of { () throws(ContentFormatError) in
                    try SenMLJSON.decode(prefix, basePath: LwM2MPath(3, 0), resolver: senMLTestResolver)
                }
                jsonTestCheck(kind != nil, "prefix of \(cut) bytes accepted")
            }
        }
    }

    /// Mutated SenML packs never trap; whatever decodes re-encodes (plain and composite) and
    /// decodes to the same records, with and without type information.
    @Test func randomMutationsNeverTrapAndRoundTrip() throws {
        var random = SplitMix64(seed: 8428)
        var seeds = [Array(Self.tsDeviceExample.utf8),
                     Array(#"[{"bn":"/9999/0/","n":"5","vd":"aGkgCg"},{"n":"7","vlo":"3:0"},{"n":"4","vb":true},{"n":"3","v":-1.5e-3}]"#.utf8),
                     Array(#"[{"n":"/3/0/0"},{"bn":"/1/0/","n":"1"},{"n":"/"}]"#.utf8)]
        for _ in 0..<20 {
            let records = (0..<4).map { _ in Self.randomRecord(using: &random) }
            seeds.append(try SenMLJSON.encodeComposite(records))
        }
        var decoded = 0
        for _ in 0..<30_000 {
            let input = JSONTests.mutate(seeds.randomElement(using: &random)!, using: &random)
            for resolver in [senMLTestResolver, { _ in nil }] as [SenMLJSON.TypeResolver] {
                guard let records = try? SenMLJSON.decode(input, resolver: resolver) else { continue }
                decoded += 1
                jsonTestCheck(try SenMLJSON.decode(SenMLJSON.encode(records, basePath: .root), resolver: resolver) == records,
                              "\(records)")
                jsonTestCheck(try SenMLJSON.decode(SenMLJSON.encodeComposite(records), resolver: resolver) == records,
                              "\(records)")
            }
            if let paths = try? SenMLJSON.decodePaths(input) {
                jsonTestCheck(try SenMLJSON.decodePaths(SenMLJSON.encodePaths(paths)) == paths, "\(paths)")
            }
            if let entries = try? SenMLJSON.decodeEntries(input) {
                jsonTestCheck(try SenMLJSON.decodeEntries(SenMLJSON.encodeComposite(entries: entries)) == entries, "\(entries)")
            }
        }
        #expect(decoded > 1_000)
    }
}

@Suite struct Base64Tests {
    /// RFC 4648 §10 test vectors.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        let bytes = Array(plain.utf8)
        #expect(Base64.encode(bytes) == encoded)
        #expect(Base64.decode(encoded) == bytes)
        let unpadded = String(encoded.filter { $0 != "=" })
        #expect(Base64.encode(bytes, alphabet: .url, padded: false) == unpadded)
        #expect(Base64.decode(unpadded, alphabet: .url, padding: .forbidden) == bytes)
        #expect(Base64.decode(unpadded, padding: .optional) == bytes)
        #expect(Base64.decode(encoded, padding: .optional) == bytes)
        if unpadded != encoded {
            #expect(Base64.decode(unpadded, padding: .required) == nil)
            #expect(Base64.decode(encoded, alphabet: .url, padding: .forbidden) == nil)
        }
    }

    @Test func lwm2mAppendixCExample() {
        // TS 1.1 Appendix C (plain text Opaque): {0x01, 0x02, 0x03, 0x04, 0x05} is "AQIDBAU=".
        #expect(Base64.encode([1, 2, 3, 4, 5]) == "AQIDBAU=")
        #expect(Base64.decode("AQIDBAU=") == [1, 2, 3, 4, 5])
    }

    @Test func alphabets() {
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
        #expect(Base64.encode([0xFB, 0xFF], alphabet: .url, padded: false) == "-_8")
        #expect(Base64.decode("+/8=", alphabet: .url, padding: .optional) == nil)
        #expect(Base64.decode("-_8=", alphabet: .standard, padding: .optional) == nil)
        #expect(Base64.decodeEitherAlphabet("-_8") == [0xFB, 0xFF])
        #expect(Base64.decodeEitherAlphabet("+/8") == [0xFB, 0xFF])
        #expect(Base64.decodeEitherAlphabet("+_8") == nil)
    }

    @Test(arguments: ["Zg", "Zg=", "Zg===", "Z===", "====", "Z", "Zh==", "Zm9=", " Zg==", "Zg==\n", "Zm 9v", "Z=g=",
                      "Zm9v=", "Zm9vYg=\u{3D}=", "Zm9vYg", "é"])
    func strictRefusals(text: String) {
        #expect(Base64.decode(text, alphabet: .standard, padding: .required) == nil)
    }

    @Test func everyLengthRoundTrips() {
        var random = SplitMix64(seed: 4648)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            for alphabet in [Base64.Alphabet.standard, .url] {
                #expect(Base64.decode(Base64.encode(bytes, alphabet: alphabet, padded: true), alphabet: alphabet) == bytes)
                #expect(Base64.decode(Base64.encode(bytes, alphabet: alphabet, padded: false), alphabet: alphabet,
                                      padding: .forbidden) == bytes)
            }
        }
    }
}
