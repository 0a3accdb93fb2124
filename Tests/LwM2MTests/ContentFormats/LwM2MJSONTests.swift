import CoAP
import Testing
@testable import LwM2M

@Suite struct LwM2MJSONTests {
    /// TS 1.0 §6.4.4: the example client's Device object read as JSON, hand-compacted, with the
    /// `bn` of the request path. (The TS 1.0 text lists resource 15 "U" and, in its first edition,
    /// quoted the numbers — `"v":"1"` — which its own table contradicts: `v` is a JSON number.)
    static let tsDevice = #"{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"1","sv":"Lightweight M2M Client"},"#
        + #"{"n":"2","sv":"345000123"},{"n":"3","sv":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},"#
        + #"{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},"#
        + #"{"n":"11/0","v":0},{"n":"13","v":1367491215},{"n":"14","sv":"+02:00"},{"n":"15","sv":"U"}]}"#

    /// The same records as the TS example.
    static var deviceRecords: [LwM2MRecord] {
        SenMLJSONTests.deviceRecords.map { record in
            record.path == LwM2MPath(3, 0, 16) ? LwM2MRecord(LwM2MPath(3, 0, 15), record.value) : record
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func encodesTheTSDeviceExample() throws {
        #expect(Self.text(try LwM2MJSON.encode(Self.deviceRecords, basePath: LwM2MPath(3, 0))) == Self.tsDevice)
    }

    @Test func decodesTheTSDeviceExample() throws {
        #expect(try LwM2MJSON.decode(Array(Self.tsDevice.utf8), basePath: LwM2MPath(3, 0), resolver: senMLTestResolver)
            == Self.deviceRecords)
        // The TS 1.0 text has no bn: names are relative to the request path (Read /3/0).
        let noBaseName = """
            {"e":[
            {"n":"0","sv":"Open Mobile Alliance"},
            {"n":"6/1","v":5},
            {"n":"13","v":1367491215}]
            }
            """
        #expect(try LwM2MJSON.decode(Array(noBaseName.utf8), basePath: LwM2MPath(3, 0), resolver: senMLTestResolver) == [
            LwM2MRecord(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance")), LwM2MRecord(LwM2MPath(3, 0, 6, 1), .integer(5)),
            LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_367_491_215)),
        ])
    }

    @Test func keyNamesForEveryType() throws {
        // sv (string, core link, opaque as padded base64), v (numbers, time), bv (boolean), ov (object link).
        let records = [
            LwM2MRecord(LwM2MPath(9999, 0, 0), .string("x")),
            LwM2MRecord(LwM2MPath(9999, 0, 1), .integer(-3)),
            LwM2MRecord(LwM2MPath(9999, 0, 2), .unsignedInteger(18_446_744_073_709_551_615)),
            LwM2MRecord(LwM2MPath(9999, 0, 3), .float(-0.5)),
            LwM2MRecord(LwM2MPath(9999, 0, 4), .boolean(true)),
            LwM2MRecord(LwM2MPath(9999, 0, 5), .opaque([1, 2, 3, 4, 5])),
            LwM2MRecord(LwM2MPath(9999, 0, 6), .time(1_367_491_215)),
            LwM2MRecord(LwM2MPath(9999, 0, 7, 0), .objectLink(ObjectLink(objectID: 3, instanceID: 0))),
            LwM2MRecord(LwM2MPath(9999, 0, 8), .coreLink("</3/0>")),
        ]
        let encoded = try LwM2MJSON.encode(records, basePath: LwM2MPath(9999, 0))
        #expect(Self.text(encoded) == #"{"bn":"/9999/0/","e":[{"n":"0","sv":"x"},{"n":"1","v":-3},"#
            + #"{"n":"2","v":18446744073709551615},{"n":"3","v":-0.5},{"n":"4","bv":true},{"n":"5","sv":"AQIDBAU="},"#
            + #"{"n":"6","v":1367491215},{"n":"7/0","ov":"3:0"},{"n":"8","sv":"</3/0>"}]}"#)
        #expect(try LwM2MJSON.decode(encoded, basePath: LwM2MPath(9999, 0), resolver: senMLTestResolver) == records)
        // Without types, sv is a string and v an integer.
        let untyped = try LwM2MJSON.decode(encoded, basePath: LwM2MPath(9999, 0))
        #expect(untyped[5].value == .string("AQIDBAU="))
        #expect(untyped[6].value == .integer(1_367_491_215))
    }

    @Test func singleResource() throws {
        let encoded = try LwM2MJSON.encode([LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))], basePath: LwM2MPath(3, 0, 9))
        #expect(Self.text(encoded) == #"{"bn":"/3/0/","e":[{"n":"9","v":95}]}"#)
        #expect(try LwM2MJSON.decode(encoded, basePath: LwM2MPath(3, 0, 9)) == [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))])
        // bn naming the resource itself, entry without n.
        #expect(try LwM2MJSON.decode(Array(#"{"bn":"/3/0/9","e":[{"v":95}]}"#.utf8), basePath: LwM2MPath(3, 0, 9))
            == [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))])
        #expect(try LwM2MJSON.decode(Array(#"{"e":[{"v":95}]}"#.utf8), basePath: LwM2MPath(3, 0, 9))
            == [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))])
    }

    @Test(arguments: [
        (#"[]"#, JSONTestErrorKind.malformed), (#"{"bn":"/3/0/"}"#, .malformed), (#"{"e":{}}"#, .malformed),
        (#"{"e":[1]}"#, .malformed), (#"{"bn":"/3/0/","e":[{"n":"0"}]}"#, .malformed),
        (#"{"bn":"/3/0/","e":[{"n":"0","sv":"a","v":1}]}"#, .malformed), (#"{"bn":"/3/0/","e":[{"n":"0","sv":1}]}"#, .malformed),
        (#"{"bn":"/3/0/","e":[{"n":"0","v":"1"}]}"#, .malformed), (#"{"bn":"/3/0/","e":[{"n":"0","bv":1}]}"#, .malformed),
        (#"{"bn":"/3/0/","e":[{"n":"99","ov":"3"}]}"#, .malformed), (#"{"bn":"/3/0/","e":[{"n":"99","v":1},{"n":"99","v":2}]}"#, .malformed),
        (#"{"bn":"/3/0/","bn":"/3/0/","e":[]}"#, .malformed), (#"{"bn":"/3/0/","e":[{"n":"0","n":"1","v":1}]}"#, .malformed),
        (#"{"bn":3,"e":[]}"#, .malformed), (#"{"bn":"/3/0/","bt":"x","e":[]}"#, .malformed),
        (#"{"bn":"/3/1/","e":[{"n":"0","v":1}]}"#, .invalidPath), (#"{"bn":"/3/0/","e":[{"n":"x","v":1}]}"#, .invalidPath),
        (#"{"bn":"/3/","e":[{"n":"0","v":1}]}"#, .invalidPath), (#"{"bn":"/3/0/","e":[{"n":"0","v":1}"#, .truncated),
        (#"{"bn":"/3/0/","e":[{"n":"9","sv":"full"}]}"#, .typeMismatch), (#"{"bn":"/3/0/","e":[{"n":"0","bv":true}]}"#, .typeMismatch),
        (#"{"bn":"/3/0/","e":[{"n":"9","v":1.5}]}"#, .typeMismatch),
        (#"{"bn":"/3/0/","e":[{"n":"7/0","v":1},{"n":"7","v":2}]}"#, .malformed),
    ])
    func refuses(payload: String, kind: JSONTestErrorKind) {
        #expect(JSONTestErrorKind.of { () throws(ContentFormatError) in
            try LwM2MJSON.decode(Array(payload.utf8), basePath: LwM2MPath(3, 0), resolver: senMLTestResolver)
        } == kind)
    }

    @Test func acceptsTimesAndUnknownKeys() throws {
        let payload = #"{"bn":"/3/0/","bt":25462634,"x":1,"e":[{"n":"9","v":95,"t":-5,"y":[]}]}"#
        #expect(try LwM2MJSON.decode(Array(payload.utf8), basePath: LwM2MPath(3, 0)) == [LwM2MRecord(LwM2MPath(3, 0, 9), .integer(95))])
    }

    @Test func encodingRefusals() {
        #expect(throws: ContentFormatError.self) {
            try LwM2MJSON.encode([LwM2MRecord(LwM2MPath(3, 0, 1), .float(.nan))], basePath: LwM2MPath(3, 0))
        }
        #expect(throws: ContentFormatError.self) {
            try LwM2MJSON.encode([LwM2MRecord(LwM2MPath(4, 0, 1), .integer(1))], basePath: LwM2MPath(3))
        }
    }

    @Test func typedRoundTrips() throws {
        var random = SplitMix64(seed: 11543)
        for _ in 0..<2_000 {
            var seen: Set<LwM2MPath> = []
            let records = (0..<Int.random(in: 0...6, using: &random)).map { _ in SenMLJSONTests.randomRecord(using: &random) }
                .filter { seen.insert($0.path).inserted }
            let encoded = try LwM2MJSON.encode(records, basePath: LwM2MPath(9999))
            jsonTestCheck(try LwM2MJSON.decode(encoded, basePath: LwM2MPath(9999), resolver: senMLTestResolver) == records,
                          "\(records)")
        }
    }

    @Test func truncationAndMutationsNeverTrap() throws {
        let payload = Array(Self.tsDevice.utf8)
        for cut in 0..<payload.count {
            let prefix = Array(payload[..<cut])
            jsonTestCheck((try? LwM2MJSON.decode(prefix, basePath: LwM2MPath(3, 0))) == nil, "prefix of \(cut) bytes accepted")
        }
        var random = SplitMix64(seed: 10)
        var decoded = 0
        for _ in 0..<20_000 {
            let input = JSONTests.mutate(payload, using: &random)
            for resolver in [senMLTestResolver, { _ in nil }] as [SenMLJSON.TypeResolver] {
                guard let records = try? LwM2MJSON.decode(input, resolver: resolver) else { continue }
                decoded += 1
                jsonTestCheck(try LwM2MJSON.decode(LwM2MJSON.encode(records, basePath: .root), resolver: resolver) == records,
                              "\(records)")
            }
        }
        #expect(decoded > 500)
    }
}
