import CoAP  // SplitMix64
import Testing
@testable import LwM2M

// Expected payloads are produced by Python's cbor2 6.2.1 (an independent CBOR encoder) with
// `cbor2.dumps(pack, canonical=True)`: canonical mode writes floats in their shortest exact
// width and sorts map keys bytewise, which for SenML labels is the order our encoder uses
// (n 0, v 2, vs 3, vb 4, t 6, vd 8, bn -2, bt -3, "vlo"). The pack shapes follow LwM2M TS 1.1
// §7.4.5 (a Read of /3/0 answered with bn "/3/0/" and names "0", "6/0"…, the Device object
// example values of the TS) and RFC 8428. Decoder-only inputs that exercise bn/n/bt/t
// combinations are written as CBOR data items in the test.

private func path(_ text: String) -> LwM2MPath { LwM2MPath(text)! }

/// Resource types for the test objects (Device 3 per the OMA definition; the rest made up).
private func testTypes(_ path: LwM2MPath) -> ResourceType? {
    guard let object = path.objectID, let resource = path.resourceID else { return nil }
    switch (object, resource) {
    case (3, 0), (3, 1), (3, 2), (3, 3), (3, 14), (3, 15), (3, 16): return .string
    case (3, 6), (3, 7), (3, 8), (3, 9), (3, 10), (3, 11): return .integer
    case (3, 13): return .time
    case (1, 1): return .integer
    case (1, 6): return .boolean
    case (3303, 5700): return .float
    case (5, 0): return .opaque
    case (2, 0): return .objectLink
    case (10, 1): return .unsignedInteger
    case (10, 2): return .integer
    case (10, 3): return .coreLink
    case (10, 4): return ResourceType.none
    default: return nil
    }
}


// cbor2.dumps([{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "1", 3: "Lightweight M2M Client"},
//   {0: "2", 3: "345000123"}, {0: "3", 3: "1.0"}, {0: "6/0", 2: 1}, {0: "6/1", 2: 5}, {0: "7/0", 2: 3800},
//   {0: "7/1", 2: 5000}, {0: "8/0", 2: 125}, {0: "8/1", 2: 900}, {0: "9", 2: 100}, {0: "10", 2: 15},
//   {0: "11/0", 2: 0}, {0: "13", 2: 1367491215}, {0: "14", 3: "+02:00"}, {0: "16", 3: "U"}], canonical=True)
private let deviceReadPack = """
    90a300613003744f70656e204d6f62696c6520416c6c69616e636521652f332f302fa200613103764c69676874776569676874204d324d
    20436c69656e74a20061320369333435303030313233a20061330363312e30a20063362f300201a20063362f310205a20063372f300219
    0ed8a20063372f3102191388a20063382f3002187da20063382f3102190384a2006139021864a200623130020fa2006431312f300200a2
    00623133021a5182428fa20062313403662b30323a3030a200623136036155
    """

// cbor2.dumps([{-2: "/3/0/0", 3: "Open Mobile Alliance"}], canonical=True)
private let singleResourcePack = "81a203744f70656e204d6f62696c6520416c6c69616e636521662f332f302f30"
// cbor2.dumps([{-2: "/3/0/7/", 0: "0", 2: 3800}, {0: "1", 2: 5000}], canonical=True)
private let multiInstancePack = "82a300613002190ed821672f332f302f372fa200613102191388"
// cbor2.dumps([{-2: "/", 0: "3/0/0", 3: "Open Mobile Alliance"}, {0: "1/0/1", 2: 86400}], canonical=True)
private let rootBasePack = "82a30065332f302f3003744f70656e204d6f62696c6520416c6c69616e636521612fa20065312f302f31021a00015180"

/// Write-Composite / Send shape: absolute names, no base name, every value kind.
private let compositeRecords: [LwM2MRecord] = [
    .init(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance")),
    .init(LwM2MPath(1, 0, 1), .integer(86400)),
    .init(LwM2MPath(3303, 0, 5700), .float(24.5)),
    .init(LwM2MPath(1, 0, 6), .boolean(false)),
    .init(LwM2MPath(5, 0, 0), .opaque([1, 2, 3])),
    .init(LwM2MPath(2, 0, 0), .objectLink(ObjectLink(objectID: 3, instanceID: 0))),
    .init(LwM2MPath(3, 0, 13), .time(1_367_491_215)),
    .init(LwM2MPath(10, 0, 1), .unsignedInteger(UInt64.max)),
    .init(LwM2MPath(10, 0, 2), .integer(Int64.min)),
]

// cbor2.dumps([{0: "/3/0/0", 3: "Open Mobile Alliance"}, {0: "/1/0/1", 2: 86400}, {0: "/3303/0/5700", 2: 24.5},
//   {0: "/1/0/6", 4: False}, {0: "/5/0/0", 8: b"\x01\x02\x03"}, {0: "/2/0/0", "vlo": "3:0"},
//   {0: "/3/0/13", 2: 1367491215}, {0: "/10/0/1", 2: 18446744073709551615},
//   {0: "/10/0/2", 2: -9223372036854775808}], canonical=True)
private let compositePack = """
    89a200662f332f302f3003744f70656e204d6f62696c6520416c6c69616e6365a200662f312f302f31021a00015180a2006c2f333330
    332f302f3537303002f94e20a200662f312f302f3604f4a200662f352f302f300843010203a200662f322f302f3063766c6f63333a30
    a200672f332f302f3133021a5182428fa200672f31302f302f31021bffffffffffffffffa200672f31302f302f32023b7fffffffffffffff
    """

// cbor2.dumps([{0: "/3303/0/5700", 2: 24.5, -3: 1700000000}, {0: "/3303/0/5700", 2: 25.0, -3: 1700000060},
//   {0: "/3303/0/5700", 2: 25.5, 6: 30}], canonical=True)  — the third record's time is bt + t
private let sendWithRelativeTimePack = """
    83a3006c2f333330332f302f3537303002f94e20221a6553f100a3006c2f333330332f302f3537303002f94e40221a6553f13c
    a3006c2f333330332f302f3537303002f94e6006181e
    """

// cbor2.dumps([{0: "/3303/0/5700", 2: 24.5, -3: 1700000000}, {0: "/3303/0/5700", 2: 25.0, -3: 1700000060},
//   {0: "/3303/0/5700", 2: 25.5, -3: 1700000090}, {0: "/3/0/9", 2: 100, -3: 0}], canonical=True)
private let sendEncodedPack = """
    84a3006c2f333330332f302f3537303002f94e20221a6553f100a3006c2f333330332f302f3537303002f94e40221a6553f13c
    a3006c2f333330332f302f3537303002f94e60221a6553f15aa300662f332f302f390218642200
    """

// cbor2.dumps([{0: "/3/0/1"}, {0: "/1"}, {0: "/3303/0/5700/2"}, {0: "/"}], canonical=True)
private let pathsPack = "84a100662f332f302f31a100622f31a1006e2f333330332f302f353730302f32a100612f"

/// All golden packs, for the robustness tests.
private let goldenPacks = [deviceReadPack, singleResourcePack, multiInstancePack, rootBasePack, compositePack,
                           sendWithRelativeTimePack, sendEncodedPack, pathsPack]

/// A SenML pack built from records written as CBOR items (decoder inputs).
private func pack(_ records: [CBORValue]) -> [UInt8] { try! CBORValue.array(records).encoded() }

@Suite struct SenMLCBORTests {
    // MARK: Golden encodings

    @Test func readOfObjectInstanceUsesRequestPathAsBaseName() throws {
        #expect(hex(try SenMLCBOR.encode(deviceRecords, base: .path(LwM2MPath(3, 0)))) == hex(bytes(deviceReadPack)))
        #expect(hex(try SenMLCBOR.encode(deviceRecords)) == hex(bytes(deviceReadPack)))  // common prefix /3/0
    }

    @Test func readOfSingleResourceHasBaseNameAndNoName() throws {
        let records = [LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance"))]
        #expect(hex(try SenMLCBOR.encode(records, base: .path(LwM2MPath(3, 0, 0)))) == singleResourcePack)
        #expect(hex(try SenMLCBOR.encode(records)) == singleResourcePack)
        #expect(try SenMLCBOR.decode(bytes(singleResourcePack), under: LwM2MPath(3, 0, 0), types: testTypes) == records)
    }

    @Test func readOfMultipleInstanceResource() throws {
        let records = [LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(3800)),
                       LwM2MRecord(LwM2MPath(3, 0, 7, 1), .integer(5000))]
        #expect(hex(try SenMLCBOR.encode(records, base: .path(LwM2MPath(3, 0, 7)))) == multiInstancePack)
        #expect(try SenMLCBOR.decode(bytes(multiInstancePack), under: LwM2MPath(3, 0, 7), types: testTypes) == records)
    }

    @Test func rootBaseName() throws {
        let records = [LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance")),
                       LwM2MRecord(LwM2MPath(1, 0, 1), .integer(86400))]
        #expect(hex(try SenMLCBOR.encode(records, base: .path(.root))) == rootBasePack)
        #expect(try SenMLCBOR.decode(bytes(rootBasePack), types: testTypes) == records)
    }

    @Test func compositeWithAbsoluteNames() throws {
        #expect(hex(try SenMLCBOR.encode(compositeRecords, base: .none)) == hex(bytes(compositePack)))
        #expect(hex(try SenMLCBOR.encode(compositeRecords, base: .commonPrefix)) == hex(bytes(compositePack)))
        #expect(try SenMLCBOR.decode(bytes(compositePack), types: testTypes) == compositeRecords)
    }

    @Test func sendWithTimestamps() throws {
        let expected: [SenMLCBOR.TimestampedRecord] = [
            .init(LwM2MRecord(LwM2MPath(3303, 0, 5700), .float(24.5)), time: 1_700_000_000),
            .init(LwM2MRecord(LwM2MPath(3303, 0, 5700), .float(25.0)), time: 1_700_000_060),
            .init(LwM2MRecord(LwM2MPath(3303, 0, 5700), .float(25.5)), time: 1_700_000_090),
        ]
        #expect(try SenMLCBOR.decodeTimestamped(bytes(sendWithRelativeTimePack), types: testTypes) == expected)
        // A time change is written as bt; a record without time after timed ones gets bt 0.
        let withUntimed = expected + [.init(LwM2MRecord(LwM2MPath(3, 0, 9), .integer(100)))]
        #expect(hex(try SenMLCBOR.encodeTimestamped(withUntimed, base: .none)) == hex(bytes(sendEncodedPack)))
        #expect(try SenMLCBOR.decodeTimestamped(bytes(sendEncodedPack), types: testTypes) == withUntimed)
        // Plain decoding drops the times, and the history repeats a path: not a Write payload.
        #expect(errorKind { _ = try SenMLCBOR.decode(bytes(sendEncodedPack)) } == "malformed")
    }

    @Test func pathLists() throws {
        let paths = [path("/3/0/1"), path("/1"), path("/3303/0/5700/2"), LwM2MPath.root]
        #expect(hex(try SenMLCBOR.encodePaths(paths)) == pathsPack)
        #expect(try SenMLCBOR.decodePaths(bytes(pathsPack)) == paths)
        // With a base name.
        let based = pack([[-2: "/3/0/", 0: "1"], [0: "2"], [-2: "/1", 0: ""]])
        #expect(try SenMLCBOR.decodePaths(based) == [path("/3/0/1"), path("/3/0/2"), path("/1")])
        // A value in a path list is an error.
        #expect(errorKind { _ = try SenMLCBOR.decodePaths(pack([[0: "/3/0/1", 2: 1]])) } == "malformed")
        #expect(errorKind { _ = try SenMLCBOR.decodePaths(pack([[0: "/3/0/"]])) } == "invalidPath")
    }

    // MARK: Decoding: base names, names, types

    @Test func deviceReadDecodesWithTypes() throws {
        #expect(try SenMLCBOR.decode(bytes(deviceReadPack), under: LwM2MPath(3, 0), types: testTypes) == deviceRecords)
        #expect(try SenMLCBOR.decode(bytes(deviceReadPack), under: LwM2MPath(3), types: testTypes) == deviceRecords)
        #expect(try SenMLCBOR.decode(bytes(deviceReadPack), types: testTypes) == deviceRecords)
    }

    @Test func decodesWithoutTypesToNaturalTypes() throws {
        let records = try SenMLCBOR.decode(bytes(deviceReadPack), under: LwM2MPath(3, 0))
        // Time resource 13 has no type information: a CBOR integer is an Integer.
        #expect(records.first { $0.path == LwM2MPath(3, 0, 13) }?.value == .integer(1_367_491_215))
        let composite = try SenMLCBOR.decode(bytes(compositePack))
        #expect(composite.map(\.value) == [
            .string("Open Mobile Alliance"), .integer(86400), .float(24.5), .boolean(false), .opaque([1, 2, 3]),
            .objectLink(ObjectLink(objectID: 3, instanceID: 0)), .integer(1_367_491_215),
            .unsignedInteger(UInt64.max), .integer(Int64.min),
        ])
    }

    @Test(arguments: [
        // base name forms, all meaning /3/0/0 = "x" and /3/0/9 = 100
        [[-2: "/3/0/", 0: "0", 3: "x"], [0: "9", 2: 100]],
        [[0: "/3/0/0", 3: "x"], [0: "/3/0/9", 2: 100]],
        [[-2: "/3/0", 0: "/0", 3: "x"], [0: "/9", 2: 100]],
        [[-2: "/3/0/0", 3: "x"], [-2: "/3/0/9", 2: 100]],
        [[-2: "/", 0: "3/0/0", 3: "x"], [0: "3/0/9", 2: 100]],
        [[-2: "/3/", 0: "0/0", 3: "x"], [-2: "/3/0/", 0: "9", 2: 100]],
        [[3: "x", 0: "0", -2: "/3/0/"], [2: 100, 0: "9"]],  // label order does not matter
        [[-2: "", 0: "/3/0/0", 3: "x"], [0: "/3/0/9", 2: 100]],
        [[-2: "/3/0/", 0: "0", 3: "x", "u": "ignored", 1: "unit", -1: 10], [0: "9", 2: 100, 7: 60]],  // ignored labels
    ] as [[CBORValue]])
    func baseNameCombinations(records: [CBORValue]) throws {
        let expected = [LwM2MRecord(LwM2MPath(3, 0, 0), .string("x")), LwM2MRecord(LwM2MPath(3, 0, 9), .integer(100))]
        #expect(try SenMLCBOR.decode(pack(records), under: LwM2MPath(3, 0), types: testTypes) == expected)
    }

    @Test func baseValueAndTimes() throws {
        let input = pack([
            [-2: "/3303/0/", -3: 1_700_000_000, -5: 20, 0: "5700", 2: 4.5],
            [0: "5701", 6: -10, 2: 1],
            [0: "5702", 2: 2, 6: 5],
        ])
        let decoded = try SenMLCBOR.decodeTimestamped(input)
        #expect(decoded.map(\.record.value) == [.float(24.5), .integer(21), .integer(22)])
        #expect(decoded.map(\.time) == [1_700_000_000, 1_699_999_990, 1_700_000_005])
        // Relative times without a base time are kept as they are (RFC 8428 §4.5.3); 0 is "now".
        let relative = try SenMLCBOR.decodeTimestamped(pack([[0: "/3/0/9", 2: 1, 6: -60], [0: "/3/0/10", 2: 1, 6: 0]]))
        #expect(relative.map(\.time) == [-60, nil])
    }

    @Test func numbersInEveryCBORForm() throws {
        func value(_ item: CBORValue, _ type: ResourceType?) throws -> ResourceValue {
            try SenMLCBOR.decode(pack([[0: "/3303/0/5700", 2: item]]), types: { _ in type })[0].value
        }
        #expect(try value(.float(2.5), nil) == .float(2.5))
        #expect(try value(.tagged(4, [-1, 45]), nil) == .float(4.5))  // decimal fraction 45e-1
        #expect(try value(.tagged(4, [1, 3]), nil) == .integer(30))
        #expect(try value(.tagged(4, [-1, 45]), .float) == .float(4.5))
        #expect(try value(.tagged(4, [2, 7]), .unsignedInteger) == .unsignedInteger(700))
        #expect(try value(3, .float) == .float(3))
        #expect(try value(.float(3.0), .integer) == .integer(3))
        #expect(try value(.float(1_367_491_215), .time) == .time(1_367_491_215))
        #expect(try value(.unsigned(UInt64.max), nil) == .unsignedInteger(UInt64.max))
        #expect(try value(.unsigned(UInt64.max), .unsignedInteger) == .unsignedInteger(UInt64.max))
        #expect(try value(.unsigned(UInt64(Int64.max)), .integer) == .integer(Int64.max))
        #expect(errorKind { _ = try value(.float(1.5), .integer) } == "typeMismatch")
        #expect(errorKind { _ = try value(.unsigned(UInt64.max), .integer) } == "typeMismatch")
        #expect(errorKind { _ = try value(-1, .unsignedInteger) } == "typeMismatch")
        #expect(errorKind { _ = try value(.negative(UInt64.max), .integer) } == "typeMismatch")
        #expect(errorKind { _ = try value(1, .string) } == "typeMismatch")
        #expect(errorKind { _ = try value(1, .boolean) } == "typeMismatch")
        #expect(errorKind { _ = try value(1, ResourceType.none) } == "typeMismatch")
        #expect(errorKind { _ = try value("1", nil) } == "malformed")  // v must be a number
        #expect(errorKind { _ = try value(.tagged(4, [1]), nil) } == "malformed")
        #expect(errorKind { _ = try value(.tagged(2, .bytes([1])), nil) } == "malformed")  // no bignums
    }

    @Test func otherValueFields() throws {
        func value(_ label: CBORValue, _ item: CBORValue, _ type: ResourceType?) throws -> ResourceValue {
            try SenMLCBOR.decode(pack([[0: "/10/0/3", label: item]]), types: { _ in type })[0].value
        }
        #expect(try value(3, "</1/0>", .coreLink) == .coreLink("</1/0>"))
        #expect(try value(3, "x", nil) == .string("x"))
        #expect(try value(3, "3:0", .objectLink) == .objectLink(ObjectLink(objectID: 3, instanceID: 0)))  // old Leshan: vs
        #expect(try value("vlo", "65535:65535", nil) == .objectLink(.null))
        #expect(try value(4, true, .boolean) == .boolean(true))
        #expect(try value(8, .bytes([]), .opaque) == .opaque([]))
        for bad in ["3", "3:", ":0", "3:0:1", "+3:0", "3:70000", "a:b", "3:0 "] {
            #expect(errorKind { _ = try value("vlo", .text(bad), nil) } == "typeMismatch", "\(bad)")
        }
        #expect(errorKind { _ = try value(3, "x", .integer) } == "typeMismatch")
        #expect(errorKind { _ = try value(4, true, .string) } == "typeMismatch")
        #expect(errorKind { _ = try value(8, .bytes([1]), .string) } == "typeMismatch")
        #expect(errorKind { _ = try value("vlo", "3:0", .string) } == "typeMismatch")
        #expect(errorKind { _ = try value(4, 1, nil) } == "malformed")  // vb must be a boolean
        #expect(errorKind { _ = try value(8, "AQID", nil) } == "malformed")  // vd is a byte string in CBOR
        #expect(errorKind { _ = try value(3, .bytes([1]), nil) } == "malformed")
    }

    // MARK: Decoding errors

    @Test(arguments: [
        ([[0: "/3/0/0", 3: "x"]] as [CBORValue], "/3/1", "invalidPath"),  // outside the request path
        ([[0: "/4/0/0", 3: "x"]], "/3", "invalidPath"),
        ([[0: "/3/0", 3: "x"]], "/", "invalidPath"),  // a value needs a resource path
        ([[0: "3/0/0", 3: "x"]], "/", "invalidPath"),  // no leading slash
        ([[0: "/3/0/0/", 3: "x"]], "/", "invalidPath"),
        ([[0: "/3//0/0", 3: "x"]], "/", "invalidPath"),
        ([[0: "/3/0/00", 3: "x"]], "/", "invalidPath"),  // leading zero
        ([[0: "/3/0/65535", 3: "x"]], "/", "invalidPath"),
        ([[0: "/3/0/1/2/3", 3: "x"]], "/", "invalidPath"),
        ([[0: "/3/0/x", 3: "x"]], "/", "invalidPath"),
        ([[-2: "urn:dev:ow:10e2073a01080063", 0: "voltage", 2: 120.1]], "/", "invalidPath"),
        ([[3: "x"]], "/", "invalidPath"),  // no name at all
        ([[-2: "/3/0/", 0: "0"]], "/", "malformed"),  // no value
        ([[0: "/3/0/0", 3: "x", 2: 1]], "/", "malformed"),  // two values
        ([[0: "/3/0/0", 3: "x"], [0: "/3/0/0", 3: "y"]], "/", "malformed"),  // same path twice
        ([[0: 1, 3: "x"]], "/", "malformed"),  // name is not text
        ([[-2: 1, 0: "/3/0/0", 3: "x"]], "/", "malformed"),
        ([[0: "/3/0/0", 3: "x", 6: "now"]], "/", "malformed"),
        ([[0: "/3/0/0", 3: "x", -3: .float(.infinity)]], "/", "malformed"),
        ([[0: "/3/0/0", 3: "x", .bytes([1]): 1]], "/", "malformed"),  // label neither int nor text
        ([[0: "/3/0/0", 3: "x", "foo_": 1]], "/", "unsupported"),  // must-understand label
        ([[0: "/3/0/0", 3: "x", "foo": 1, 99: 1, -99: 1]], "/", nil),  // other unknown labels: ignored
        ([1], "/", "malformed"),  // record is not a map
    ] as [([CBORValue], String, String?)])
    func decodingErrors(records: [CBORValue], base: String, expected: String?) {
        #expect(errorKind { _ = try SenMLCBOR.decode(pack(records), under: path(base)) } == expected)
    }

    @Test func packMustBeAnArray() throws {
        #expect(errorKind { _ = try SenMLCBOR.decode(bytes("a0")) } == "malformed")
        #expect(errorKind { _ = try SenMLCBOR.decode([]) } == "truncated")
        #expect(try SenMLCBOR.decode(bytes("80")) == [])
        // Duplicate labels are caught by the CBOR layer.
        #expect(errorKind { _ = try SenMLCBOR.decode(bytes("81a300662f332f302f39021864021865")) } == "malformed")
    }

    // MARK: Encoding errors and options

    @Test func encodingErrors() throws {
        let record = LwM2MRecord(LwM2MPath(3, 0, 0), .string("x"))
        #expect(errorKind { _ = try SenMLCBOR.encode([record], base: .path(LwM2MPath(3, 1))) } == "invalidPath")
        #expect(errorKind { _ = try SenMLCBOR.encode([LwM2MRecord(LwM2MPath(3, 0), .string("x"))]) } == "invalidPath")
        #expect(try SenMLCBOR.encode([]) == [0x80])
    }

    @Test func historyOfOneResource() throws {
        // Observe of /3/0/9 with stored values: every record is the base path, no names.
        let history = [SenMLCBOR.TimestampedRecord(LwM2MRecord(LwM2MPath(3, 0, 9), .integer(1)), time: 1_700_000_000),
                       SenMLCBOR.TimestampedRecord(LwM2MRecord(LwM2MPath(3, 0, 9), .integer(2)), time: 1_700_000_010)]
        let encoded = try SenMLCBOR.encodeTimestamped(history, base: .path(LwM2MPath(3, 0, 9)))
        #expect(try CBORValue(decoding: encoded) == [[2: 1, -2: "/3/0/9", -3: 1_700_000_000], [2: 2, -3: 1_700_000_010]])
        #expect(try SenMLCBOR.decodeTimestamped(encoded, under: LwM2MPath(3, 0, 9)) == history)
    }

    @Test func resourceWithValueAndInstancesIsRejected() {
        let records = [LwM2MRecord(LwM2MPath(3, 0, 7), .integer(1)), LwM2MRecord(LwM2MPath(3, 0, 7, 0), .integer(2))]
        #expect(errorKind { _ = try SenMLCBOR.encode(records) } == "invalidPath")
        #expect(errorKind { _ = try SenMLCBOR.encode(Array(records.reversed())) } == "invalidPath")
        #expect(errorKind { _ = try SenMLCBOR.encode([records[0], records[0]]) } == "invalidPath")
        #expect(errorKind { _ = try SenMLCBOR.decode(pack([[0: "/3/0/7", 2: 1], [0: "/3/0/7/0", 2: 2]])) } == "malformed")
        #expect(errorKind { _ = try SenMLCBOR.decodeTimestamped(pack([[0: "/3/0/7/0", 2: 1], [0: "/3/0/7", 2: 2]])) }
            == "malformed")
    }

    // MARK: Properties

    @Test func randomRecordsRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5E41_CB0B)
        for iteration in 0..<2_000 {
            var records: [LwM2MRecord] = []
            var types: [LwM2MPath: ResourceType] = [:]
            let object = UInt16(rng.next() % 3)
            for _ in 0..<Int(rng.next() % 8 + 1) {
                var p = LwM2MPath(object == 0 ? UInt16(rng.next() % 4) : object * 1000, UInt16(rng.next() % 3),
                                  UInt16(rng.next() % 65535))
                if rng.next() % 3 == 0 { p = p.appending(UInt16(rng.next() % 65535)) }
                guard !records.contains(where: { p.contains($0.path) || $0.path.contains(p) }) else { continue }
                let value = randomValue(&rng)
                records.append(LwM2MRecord(p, value))
                types[p] = value.type
            }
            let resolve: (LwM2MPath) -> ResourceType? = { types[$0] }
            for base in [SenMLCBOR.BaseName.none, .commonPrefix, .path(.root),
                         .path(SenMLCBOR.commonPrefix(of: records.map(\.path)))] {
                let encoded = try SenMLCBOR.encode(records, base: base)
                let decoded = try SenMLCBOR.decode(encoded, types: resolve)
                guard decoded == records else {
                    Issue.record("iteration \(iteration), base \(base): \(records) -> \(decoded)")
                    return
                }
            }
            // With times
            let timed = records.map {
                SenMLCBOR.TimestampedRecord($0, time: rng.next() % 2 == 0 ? nil : Double(rng.next() % 4) * 0.25 + 1.7e9)
            }
            let decodedTimed = try SenMLCBOR.decodeTimestamped(try SenMLCBOR.encodeTimestamped(timed, base: .commonPrefix), types: resolve)
            #expect(decodedTimed == timed)
        }
    }

    @Test(arguments: goldenPacks)
    func everyProperPrefixIsTruncated(packHex: String) {
        let full = bytes(packHex)
        for length in 0..<full.count {
            let prefix = Array(full.prefix(length))
            #expect(errorKind { _ = try SenMLCBOR.decodeTimestamped(prefix) } == "truncated")
            #expect(errorKind { _ = try SenMLCBOR.decodePaths(prefix) } == "truncated")
        }
    }

    @Test func mutatedPacksNeverTrap() {
        var rng = SplitMix64(seed: 0xF022_5E41)
        let seeds = goldenPacks.map(bytes)
        var decoded = 0
        for _ in 0..<30_000 {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            mutate(&input, using: &rng)
            if let records = try? SenMLCBOR.decodeTimestamped(input, types: testTypes) {
                decoded += 1
                // Whatever decodes re-encodes and decodes to the same records (compared through
                // their encoding: a NaN value is not == itself).
                guard let encoded = try? SenMLCBOR.encodeTimestamped(records),
                      let again = try? SenMLCBOR.decodeTimestamped(encoded, types: testTypes),
                      again.count == records.count, (try? SenMLCBOR.encodeTimestamped(again)) == encoded
                else {
                    Issue.record("round trip failed for \(hex(input))")
                    return
                }
            }
            _ = try? SenMLCBOR.decodePaths(input)
        }
        #expect(decoded > 100)
    }
}

private func randomValue(_ rng: inout SplitMix64) -> ResourceValue {
    switch rng.next() % 9 {
    case 0: .string(["", "x", "Open Mobile Alliance", "h\u{e9}\u{6c34}\u{10151}"][Int(rng.next() % 4)])
    case 1: .integer(Int64(bitPattern: rng.next()) >> (rng.next() % 64))
    case 2: .unsignedInteger(rng.next() >> (rng.next() % 64))
    case 3:
        // any bit pattern but NaN (ResourceValue compares floats with ==)
        .float([0.0, -0.0, 1.5, 0.1, -4.1, 1e300, 65504, .infinity, Double(bitPattern: rng.next())]
            .map { $0.isNaN ? 0.5 : $0 }[Int(rng.next() % 9)])
    case 4: .boolean(rng.next() % 2 == 0)
    case 5: .opaque((0..<Int(rng.next() % 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    case 6: .time(Int64(bitPattern: rng.next()) >> 20)
    case 7: .objectLink(ObjectLink(objectID: UInt16(truncatingIfNeeded: rng.next()), instanceID: UInt16(truncatingIfNeeded: rng.next())))
    default: .coreLink("</3/0>;ver=1.1")
    }
}
