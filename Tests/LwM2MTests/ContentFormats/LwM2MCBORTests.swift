import CoAP  // SplitMix64
import Testing
@testable import LwM2M

// Expected payloads are produced by Python's cbor2 6.2.1 (an independent CBOR encoder); Python
// tuples encode as CBOR arrays, so a tuple key is a compressed path. Non-canonical mode keeps the
// dict order and writes integers in their shortest form (but floats always as doubles);
// canonical mode writes shortest floats (and sorts keys). The payload shapes follow LwM2M TS 1.2
// §7.4.6 and the decoder test cases of AVSystem Anjay's LwM2M CBOR input (single key arrays,
// nested single IDs, mixed forms, indefinite lengths, decimal fractions); hand-written
// indefinite-length inputs were checked with `cbor2.loads`.

/// Device object (3) resource types per the OMA definition.
private func deviceTypes(_ path: LwM2MPath) -> ResourceType? {
    guard path.objectID == 3, let resource = path.resourceID else { return nil }
    switch resource {
    case 0, 1, 2, 3, 14, 15, 16: return .string
    case 6, 7, 8, 9, 10, 11: return .integer
    case 13: return .time
    default: return nil
    }
}


// cbor2.dumps({(3, 0): {0: "Open Mobile Alliance", 1: "Lightweight M2M Client", 2: "345000123", 3: "1.0",
//   6: {0: 1, 1: 5}, 7: {0: 3800, 1: 5000}, 8: {0: 125, 1: 900}, 9: 100, 10: 15, 11: {0: 0},
//   13: 1367491215, 14: "+02:00", 16: "U"}})
private let deviceCompressed = """
    a1820300ad00744f70656e204d6f62696c6520416c6c69616e636501764c69676874776569676874204d324d20436c69656e74026933
    34353030303132330363312e3006a20001010507a200190ed80119138808a200187d011903840918640a0f0ba100000d1a5182428f0e
    662b30323a3030106155
    """

// The same with one map per level: cbor2.dumps({3: {0: {…same…}}})
private let deviceNested = """
    a103a100ad00744f70656e204d6f62696c6520416c6c69616e636501764c69676874776569676874204d324d20436c69656e74026933
    34353030303132330363312e3006a20001010507a200190ed80119138808a200187d011903840918640a0f0ba100000d1a5182428f0e
    662b30323a3030106155
    """

private let r13_26_1 = LwM2MPath(13, 26, 1)
private let r13_26_2 = LwM2MPath(13, 26, 2)

/// Payload shapes that all mean /13/26/1 = 42 (and /13/26/2 = 21 where present).
private let equivalentForms: [(String, [LwM2MRecord])] = [
    ("a1830d181a01182a", [.init(r13_26_1, .integer(42))]),  // cbor2.dumps({(13, 26, 1): 42})
    ("a10da1181aa101182a", [.init(r13_26_1, .integer(42))]),  // cbor2.dumps({13: {26: {1: 42}}})
    ("a1810da181181aa18101182a", [.init(r13_26_1, .integer(42))]),  // cbor2.dumps({(13,): {(26,): {(1,): 42}}})
    ("bf9f0d181a01ff182aff", [.init(r13_26_1, .integer(42))]),  // {_ [_ 13, 26, 1]: 42}
    ("bf9f0dffbf9f181affbf9f01ff182affffff", [.init(r13_26_1, .integer(42))]),  // {_ [_ 13]: {_ [_ 26]: {_ [_ 1]: 42}}}
    ("a2830d181a01182a820d181aa1810215", [.init(r13_26_1, .integer(42)), .init(r13_26_2, .integer(21))]),
    // ^ cbor2.dumps({(13, 26, 1): 42, (13, 26): {(2,): 21}})
    ("a1820d181aa201182a0215", [.init(r13_26_1, .integer(42)), .init(r13_26_2, .integer(21))]),
    // ^ cbor2.dumps({(13, 26): {1: 42, 2: 21}})
]

@Suite struct LwM2MCBORTests {
    // MARK: Encoding

    @Test func readOfDeviceInstance() throws {
        #expect(hex(try LwM2MCBOR.encode(deviceRecords, basePath: LwM2MPath(3, 0))) == hex(bytes(deviceCompressed)))
        #expect(hex(try LwM2MCBOR.encode(deviceRecords, basePath: LwM2MPath(3, 0), compression: .none))
            == hex(bytes(deviceNested)))
        // cbor2.dumps({(3, 0): {…, 6: {0: 1, 1: 5}, 7: {0: 3800, 1: 5000}, 8: {0: 125, 1: 900}, 9: 100, 10: 15,
        //   (11, 0): 0, …}}): every single-child chain joined
        let full = """
            a1820300ad00744f70656e204d6f62696c6520416c6c69616e636501764c69676874776569676874204d324d20436c69656e74
            02693334353030303132330363312e3006a20001010507a200190ed80119138808a200187d011903840918640a0f820b00000d1a
            5182428f0e662b30323a3030106155
            """
        #expect(hex(try LwM2MCBOR.encode(deviceRecords, compression: .full)) == hex(bytes(full)))
    }

    @Test func readOfSingleResourceAndResourceInstance() throws {
        // cbor2.dumps({(13, 26, 1): 42}), cbor2.dumps({(13, 26, 3, 21): 69.68}),
        // cbor2.dumps({(3303, 0, 5700): 24.5}, canonical=True)
        #expect(hex(try LwM2MCBOR.encode([.init(r13_26_1, .integer(42))], basePath: r13_26_1)) == "a1830d181a01182a")
        #expect(hex(try LwM2MCBOR.encode([.init(LwM2MPath(13, 26, 3, 21), .float(69.68))]))
            == "a1840d181a0315fb40516b851eb851ec")
        #expect(hex(try LwM2MCBOR.encode([.init(LwM2MPath(3303, 0, 5700), .float(24.5))])) == "a183190ce700191644f94e20")
    }

    @Test func compositeFromSeveralObjects() throws {
        let records = [LwM2MRecord(r13_26_1, .integer(1)), LwM2MRecord(LwM2MPath(14, 27, 2), .integer(2))]
        // cbor2.dumps({13: {26: {1: 1}}, 14: {27: {2: 2}}}) and cbor2.dumps({(13, 26, 1): 1, (14, 27, 2): 2})
        #expect(hex(try LwM2MCBOR.encode(records)) == "a20da1181aa101010ea1181ba10202")
        #expect(hex(try LwM2MCBOR.encode(records, compression: .none)) == "a20da1181aa101010ea1181ba10202")
        #expect(hex(try LwM2MCBOR.encode(records, compression: .full)) == "a2830d181a0101830e181b0202")
        #expect(try LwM2MCBOR.decode(bytes("a20da1181aa101010ea1181ba10202")) == records)
        #expect(try LwM2MCBOR.decode(bytes("a2830d181a0101830e181b0202")) == records)
    }

    @Test func everyValueType() throws {
        let records: [LwM2MRecord] = [
            .init(LwM2MPath(1, 0, 0), .string("h\u{e9}")),
            .init(LwM2MPath(1, 0, 1), .integer(-1)),
            .init(LwM2MPath(1, 0, 2), .unsignedInteger(UInt64.max)),
            .init(LwM2MPath(1, 0, 3), .float(2.5)),
            .init(LwM2MPath(1, 0, 4), .boolean(true)),
            .init(LwM2MPath(1, 0, 5), .opaque([0x11, 0x22])),
            .init(LwM2MPath(1, 0, 6), .time(1_367_491_215)),
            .init(LwM2MPath(1, 0, 7), .objectLink(ObjectLink(objectID: 12, instanceID: 34))),
            .init(LwM2MPath(1, 0, 8), .coreLink("</3/0>")),
        ]
        // cbor2.dumps({(1, 0): {0: "hé", 1: -1, 2: 18446744073709551615, 3: 2.5, 4: True, 5: b"\x11\x22",
        //   6: 1367491215, 7: "12:34", 8: "</3/0>"}}, canonical=True)
        let expected = """
            a1820100a9006368c3a90120021bffffffffffffffff03f9410004f505421122061a5182428f076531323a333408663c2f332f303e
            """
        #expect(hex(try LwM2MCBOR.encode(records)) == hex(bytes(expected)))
        let types: [LwM2MPath: ResourceType] = Dictionary(uniqueKeysWithValues: records.map { ($0.path, $0.value.type) })
        #expect(try LwM2MCBOR.decode(bytes(expected), types: { types[$0] }) == records)
    }

    @Test func encodingErrors() throws {
        #expect(errorKind { _ = try LwM2MCBOR.encode([.init(r13_26_1, .integer(1))], basePath: LwM2MPath(13, 27)) }
            == "invalidPath")
        #expect(errorKind { _ = try LwM2MCBOR.encode([.init(LwM2MPath(13, 26), .integer(1))]) } == "invalidPath")
        #expect(errorKind { _ = try LwM2MCBOR.encode([.init(r13_26_1, .integer(1)), .init(r13_26_1, .integer(2))]) }
            == "invalidPath")
        #expect(errorKind {
            _ = try LwM2MCBOR.encode([.init(r13_26_1, .integer(1)), .init(LwM2MPath(13, 26, 1, 0), .integer(2))])
        } == "invalidPath")
        #expect(errorKind {
            _ = try LwM2MCBOR.encode([.init(LwM2MPath(13, 26, 1, 0), .integer(2)), .init(r13_26_1, .integer(1))])
        } == "invalidPath")
        #expect(try LwM2MCBOR.encode([]) == [0xa0])
    }

    // MARK: Decoding

    @Test func deviceDecodes() throws {
        for payload in [deviceCompressed, deviceNested] {
            #expect(try LwM2MCBOR.decode(bytes(payload), under: LwM2MPath(3, 0), types: deviceTypes) == deviceRecords)
            #expect(try LwM2MCBOR.decode(bytes(payload), types: deviceTypes) == deviceRecords)
        }
        // Without types: natural types (the Time resource is a plain integer).
        let untyped = try LwM2MCBOR.decode(bytes(deviceCompressed))
        #expect(untyped.first { $0.path == LwM2MPath(3, 0, 13) }?.value == .integer(1_367_491_215))
    }

    @Test(arguments: equivalentForms.map { $0.0 })
    func equivalentPathForms(payload: String) throws {
        let expected = equivalentForms.first { $0.0 == payload }!.1
        #expect(try LwM2MCBOR.decode(bytes(payload), under: LwM2MPath(13, 26)) == expected)
    }

    @Test func decodesNumbersAndTags() throws {
        // cbor2.dumps({(13, 26, 1, 2): cbor2.CBORTag(4, [-1, 45])}): decimal fraction 4.5
        #expect(try LwM2MCBOR.decode(bytes("a1840d181a0102c48220182d")) == [.init(LwM2MPath(13, 26, 1, 2), .float(4.5))])
        // cbor2.dumps({(3, 0, 13): cbor2.CBORTag(1, 1367491215)}): epoch time
        #expect(try LwM2MCBOR.decode(bytes("a18303000dc11a5182428f")) == [.init(LwM2MPath(3, 0, 13), .time(1_367_491_215))])
        #expect(try LwM2MCBOR.decode(bytes("a18303000dc11a5182428f"), types: deviceTypes)
            == [.init(LwM2MPath(3, 0, 13), .time(1_367_491_215))])
        // cbor2.dumps({(13, 26): {1: 1, 2: -1, 3: 2.5, 4: "test", 5: b"\x11\x22\x33\x44", 6: "12:34", 7: True,
        //   8: 69.68, 9: 18446744073709551615}})  — doubles, non-preferred for 2.5: decoding accepts any width
        let allTypes = """
            a1820d181aa90101022003fb4004000000000000046474657374054411223344066531323a333407f508fb40516b851eb851ec
            091bffffffffffffffff
            """
        let types: [UInt16: ResourceType] = [1: .unsignedInteger, 2: .integer, 3: .float, 4: .string, 5: .opaque,
                                              6: .objectLink, 7: .boolean, 8: .float, 9: .unsignedInteger]
        #expect(try LwM2MCBOR.decode(bytes(allTypes), types: { types[$0.resourceID!] }).map(\.value) == [
            .unsignedInteger(1), .integer(-1), .float(2.5), .string("test"), .opaque([0x11, 0x22, 0x33, 0x44]),
            .objectLink(ObjectLink(objectID: 12, instanceID: 34)), .boolean(true), .float(69.68),
            .unsignedInteger(UInt64.max),
        ])
        #expect(try LwM2MCBOR.decode(bytes(allTypes)).map(\.value) == [
            .integer(1), .integer(-1), .float(2.5), .string("test"), .opaque([0x11, 0x22, 0x33, 0x44]),
            .string("12:34"), .boolean(true), .float(69.68), .unsignedInteger(UInt64.max),
        ])
        // Indefinite-length byte string value: {[13, 26, 1]: (_ h'0011', h'2233')}
        #expect(try LwM2MCBOR.decode(bytes("a1830d181a015f420011422233ff")) == [.init(r13_26_1, .opaque([0, 0x11, 0x22, 0x33]))])
    }

    @Test(arguments: [
        ("a1820d181aa11a0001000005", "invalidPath"),  // {[13, 26]: {65536: 5}}
        ("a1830d181a19ffff05", "invalidPath"),  // {[13, 26, 65535]: 5}: 65535 is reserved
        ("a1850d181a03040505", "invalidPath"),  // {[13, 26, 3, 4, 5]: 5}
        ("a1830d181a01a202058203040 5", "invalidPath"),  // {[13, 26, 1]: {2: 5, [3, 4]: 5}}
        ("a10da1181aa101a102a10304", "invalidPath"),  // {13: {26: {1: {2: {3: 4}}}}}
        ("a20da180181aa1800118 2a", "invalidPath"),  // {13: {[]: 26}, {[]: 1}: 42} (empty key first)
        ("a1830dfb3fd0a3d70a3d70a401182a", "invalidPath"),  // {[13, 0.26, 1]: 42}
        ("a1fb3fc0a3d70a3d70a4a182181a01182a", "invalidPath"),  // {0.13: {[26, 1]: 42}}
        ("a10da1623236a101182a", "invalidPath"),  // {13: {"26": {1: 42}}}
        ("a1830d20 01182a", "invalidPath"),  // {[13, -1, 1]: 42}
        ("a1820d181a05", "invalidPath"),  // {[13, 26]: 5}: a value at an instance
        ("00", "malformed"),  // not a map
        ("8401020304", "malformed"),
        ("a10da1181a81a101182a", "invalidPath"),  // {13: {26: [{1: 42}]}}: an array value at an instance
        ("a1830d181a01a202f60305", "unsupported"),  // {[13, 26, 1]: {2: null, 3: 5}}
        ("a2830d181a01182a0da1181aa1010 1", "malformed"),  // /13/26/1 twice, in two spellings
        ("a1820d181aa1", "truncated"),  // cut inside the inner map
        ("a2830d181a0101840d181a010002", "malformed"),  // {[13, 26, 1]: 1, [13, 26, 1, 0]: 2}
    ])
    func decodingErrors(payload: String, expected: String) {
        #expect(errorKind { _ = try LwM2MCBOR.decode(bytes(payload)) } == expected)
    }

    @Test(arguments: [LwM2MPath(14), LwM2MPath(13, 27), LwM2MPath(13, 26, 2), LwM2MPath(13, 26, 1, 69)])
    func pathsOutsideTheRequestPath(base: LwM2MPath) {
        // {[13, 26, 1]: 42}
        #expect(errorKind { _ = try LwM2MCBOR.decode(bytes("a1830d181a01182a"), under: base) } == "invalidPath")
    }

    @Test func typeMismatches() {
        func kind(_ payload: String, _ type: ResourceType) -> String? {
            errorKind { _ = try LwM2MCBOR.decode(bytes(payload), types: { _ in type }) }
        }
        // {[13, 26, 1]: 42}, {[13, 26, 1]: "x"}, {[13, 26, 1]: 2.5 (half)}, {[13, 26, 1]: -1}
        #expect(kind("a1830d181a01182a", .string) == "typeMismatch")
        #expect(kind("a1830d181a01182a", .boolean) == "typeMismatch")
        #expect(kind("a1830d181a01182a", .opaque) == "typeMismatch")
        #expect(kind("a1830d181a01182a", ResourceType.none) == "typeMismatch")
        #expect(kind("a1830d181a016178", .integer) == "typeMismatch")
        #expect(kind("a1830d181a016178", .objectLink) == "typeMismatch")
        #expect(kind("a1830d181a01f94100", .integer) == "typeMismatch")
        #expect(kind("a1830d181a0120", .unsignedInteger) == "typeMismatch")
        #expect(kind("a1830d181a01f5", .float) == "typeMismatch")
        #expect(kind("a1830d181a0180", .float) == "typeMismatch")
        #expect(kind("a1830d181a0180", .integer) == "typeMismatch")
        #expect(errorKind { _ = try LwM2MCBOR.decode(bytes("a1830d181a0180")) } == "malformed")  // array, no type
    }

    // MARK: Properties

    @Test func randomRecordsRoundTrip() throws {
        var rng = SplitMix64(seed: 0x1154_4CB0)
        for iteration in 0..<2_000 {
            var records: [LwM2MRecord] = []
            var types: [LwM2MPath: ResourceType] = [:]
            for _ in 0..<Int(rng.next() % 10 + 1) {
                var p = LwM2MPath(UInt16(rng.next() % 3), UInt16(rng.next() % 3), UInt16(rng.next() % 4))
                if rng.next() % 2 == 0 { p = p.appending(UInt16(rng.next() % 65535)) }
                guard !records.contains(where: { p.contains($0.path) || $0.path.contains(p) }) else { continue }
                let value = randomValue(&rng)
                records.append(LwM2MRecord(p, value))
                types[p] = value.type
            }
            for compression in [LwM2MCBOR.PathCompression.none, .commonPrefix, .full] {
                let encoded = try LwM2MCBOR.encode(records, compression: compression)
                let decoded = try LwM2MCBOR.decode(encoded, types: { types[$0] })
                // The tree groups records by path prefix: compare as sets of records.
                guard Set(decoded) == Set(records), decoded.count == records.count else {
                    Issue.record("iteration \(iteration): \(records) -> \(decoded)")
                    return
                }
            }
        }
    }

    @Test(arguments: [deviceCompressed, deviceNested, "a2830d181a01182a820d181aa1810215",
                      "bf9f0dffbf9f181affbf9f01ff182affffff", "a1840d181a0102c48220182d"])
    func everyProperPrefixIsTruncated(payload: String) {
        let full = bytes(payload)
        for length in 0..<full.count {
            #expect(errorKind { _ = try LwM2MCBOR.decode(Array(full.prefix(length))) } == "truncated")
        }
    }

    @Test func mutatedPayloadsNeverTrap() {
        var rng = SplitMix64(seed: 0xF022_1154)
        let seeds = [deviceCompressed, deviceNested].map(bytes) + equivalentForms.map { bytes($0.0) }
        var decoded = 0
        for _ in 0..<30_000 {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            mutate(&input, using: &rng)
            guard let records = try? LwM2MCBOR.decode(input, types: deviceTypes) else { continue }
            decoded += 1
            guard let encoded = try? LwM2MCBOR.encode(records),
                  let again = try? LwM2MCBOR.decode(encoded, types: deviceTypes),
                  (try? LwM2MCBOR.encode(again)) == encoded
            else {
                Issue.record("round trip failed for \(hex(input))")
                return
            }
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
        .float([0.0, -0.0, 1.5, 0.1, -4.1, 1e300, 65504, -.infinity, Double(bitPattern: rng.next())]
            .map { $0.isNaN ? 0.25 : $0 }[Int(rng.next() % 9)])
    case 4: .boolean(rng.next() % 2 == 0)
    case 5: .opaque((0..<Int(rng.next() % 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    case 6: .time(Int64(bitPattern: rng.next()) >> 20)
    case 7: .objectLink(ObjectLink(objectID: UInt16(truncatingIfNeeded: rng.next()), instanceID: UInt16(truncatingIfNeeded: rng.next())))
    default: .coreLink("</3/0>;ver=1.1")
    }
}
