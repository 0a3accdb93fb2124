import CoAP
import Testing
@testable import LwM2M

/// Plain CBOR (application/cbor, content format 60) for one resource value: golden vectors per
/// type (bytes checked by hand against RFC 8949 §3 / Appendix A), the encodings a reader must
/// take, malformed and extreme inputs, and the format as the request handler serves it.
@Suite struct CBORSingleValueTests {
    typealias Kit = CoreFormatsTestKit
    static func hex(_ text: String) -> [UInt8] { Kit.hex(text) }
    static let somewhere = LwM2MPath(1000, 0, 0)

    func value(_ bytes: [UInt8], _ type: ResourceType) throws -> ResourceValue {
        try CBORSingleValueFormat.decodeValue(bytes, type: type, path: Self.somewhere)
    }

    func valueError(_ bytes: [UInt8], _ type: ResourceType) -> Kit.ErrorCase? {
        Kit.errorCase { _ = try CBORSingleValueFormat.decodeValue(bytes, type: type, path: Self.somewhere) }
    }

    /// The value an object holds at a resource or resource-instance path (also write-only ones).
    func stored(_ object: StaticObject, _ path: LwM2MPath) -> ResourceValue? {
        let resource = path.isResourceInstance ? path.parent : path
        guard let records = try? object.read(resource).records(at: resource) else { return nil }
        return records.first { $0.path == path }?.value
    }

    // MARK: - Golden vectors (encode, and decode back)

    @Test(arguments: [
        // Text string, major type 3: 0x60 + length, then UTF-8.
        (ResourceValue.string("Gateway"), "67 47 61 74 65 77 61 79"), (.string(""), "60"),
        (.string("Grüße"), "67 47 72 c3 bc c3 9f 65"),
        (.coreLink("</3/0>"), "66 3c 2f 33 2f 30 3e"),
        (.objectLink(ObjectLink(objectID: 3, instanceID: 0)), "63 33 3a 30"),
        (.objectLink(.null), "6b 36 35 35 33 35 3a 36 35 35 33 35"),
        // Integers: shortest head (0...23 inline, then 1/2/4/8 bytes), major 1 holds -1 - n.
        (.integer(0), "00"), (.integer(23), "17"), (.integer(24), "18 18"), (.integer(1000), "19 03 e8"),
        (.integer(-1), "20"), (.integer(-24), "37"), (.integer(-25), "38 18"),
        (.integer(.max), "1b 7f ff ff ff ff ff ff ff"), (.integer(.min), "3b 7f ff ff ff ff ff ff ff"),
        (.unsignedInteger(0), "00"), (.unsignedInteger(.max), "1b ff ff ff ff ff ff ff ff"),
        (.unsignedInteger(4_294_967_296), "1b 00 00 00 01 00 00 00 00"),
        // Floats in the shortest exact width (RFC 8949 Appendix A).
        (.float(1.5), "f9 3e 00"), (.float(0.0), "f9 00 00"), (.float(-0.0), "f9 80 00"),
        (.float(65504.0), "f9 7b ff"), (.float(5.960464477539063e-8), "f9 00 01"),
        (.float(100000.0), "fa 47 c3 50 00"), (.float(3.4028234663852886e+38), "fa 7f 7f ff ff"),
        (.float(1.1), "fb 3f f1 99 99 99 99 99 9a"), (.float(-4.1), "fb c0 10 66 66 66 66 66 66"),
        (.boolean(true), "f5"), (.boolean(false), "f4"),
        (.opaque([1, 2, 3, 4]), "44 01 02 03 04"), (.opaque([]), "40"),
        // Time: tag 1 (epoch-based date/time) around the integer seconds.
        (.time(1_367_491_215), "c1 1a 51 82 42 8f"), (.time(0), "c1 00"), (.time(-1), "c1 20"),
        (.time(.min), "c1 3b 7f ff ff ff ff ff ff ff"),
    ])
    func goldenVectors(value: ResourceValue, bytes: String) throws {
        let expected = Self.hex(bytes)
        #expect(try CBORSingleValueFormat.encode(value) == expected)
        let decoded = try self.value(expected, value.type)
        #expect(decoded == value)
        if case .float(let number) = value, case .float(let back) = decoded {
            #expect(number.bitPattern == back.bitPattern)
        }
    }

    @Test func recordAtItsPath() throws {
        let base = LwM2MPath(3, 0, 0)
        let record = LwM2MRecord(base, .string("Gateway"))
        #expect(try CBORSingleValueFormat.encode([record], base: base) == Self.hex("67 47 61 74 65 77 61 79"))
        #expect(try CBORSingleValueFormat.decode(Self.hex("67 47 61 74 65 77 61 79"), base: base,
                                                 type: Kit.type) == [record])
        // A resource instance is typed by its resource: /3/0/7/1 is an Integer.
        let instance = LwM2MPath(3, 0, 7, 1)
        #expect(try CBORSingleValueFormat.decode(Self.hex("19 13 88"), base: instance, type: Kit.type)
                == [LwM2MRecord(instance, .integer(5000))])
        #expect(try CBORSingleValueFormat.encode([LwM2MRecord(instance, .integer(5000))], base: instance)
                == Self.hex("19 13 88"))
    }

    @Test func onlyOneResourceValue() {
        let records = [LwM2MRecord(LwM2MPath(3, 0, 0), .string("a")), LwM2MRecord(LwM2MPath(3, 0, 1), .string("b"))]
        for (list, base) in [(records, LwM2MPath(3, 0)), ([records[0]], LwM2MPath(3, 0)),
                             (records, LwM2MPath(3, 0, 0)), ([records[1]], LwM2MPath(3, 0, 0)),
                             ([], LwM2MPath(3, 0, 0))] {
            #expect(Kit.errorCase { _ = try CBORSingleValueFormat.encode(list, base: base) } == .unsupported)
        }
        for base in [LwM2MPath.root, LwM2MPath(3), LwM2MPath(3, 0)] {
            #expect(Kit.errorCase { _ = try CBORSingleValueFormat.decode([0x00], base: base, type: Kit.type) }
                    == .unsupported)
        }
        #expect(Kit.errorCase {
            _ = try CBORSingleValueFormat.decode([0x00], base: LwM2MPath(3, 0, 99), type: Kit.type)
        }
                == .unknownResource)
    }

    // MARK: - What a reader must take

    @Test func everyFloatWidthAndIntegersForAFloat() throws {
        for bytes in ["f9 3e 00", "fa 3f c0 00 00", "fb 3f f8 00 00 00 00 00 00"] {
            #expect(try value(Self.hex(bytes), .float) == .float(1.5), "\(bytes)")
        }
        #expect(try value(Self.hex("f9 04 00"), .float) == .float(0x1p-14))  // smallest normal half
        #expect(try value(Self.hex("fa 00 00 00 01"), .float) == .float(0x1p-149))  // single subnormal
        #expect(try value(Self.hex("18 19"), .float) == .float(25))
        #expect(try value(Self.hex("38 18"), .float) == .float(-25))
        #expect(try value(Self.hex("1b 00 20 00 00 00 00 00 00"), .float) == .float(0x1p53))
        #expect(try value(Self.hex("1b ff ff ff ff ff ff f8 00"), .float) == .float(18_446_744_073_709_549_568))
        // An integer no double holds exactly: 2^53 + 1, 2^64 - 1, -2^63 - 1 (beyond Int64).
        for bytes in ["1b 00 20 00 00 00 00 00 01", "1b ff ff ff ff ff ff ff ff", "3b 80 00 00 00 00 00 00 00",
                      "3b ff ff ff ff ff ff ff ff"] {
            #expect(valueError(Self.hex(bytes), .float) == .typeMismatch, "\(bytes)")
        }
        // NaN and ±∞ in every width (as text/plain, not a value a Float resource takes).
        for bytes in ["f9 7e 00", "f9 7c 00", "f9 fc 00", "fa 7f c0 00 00", "fa 7f 80 00 00",
                      "fb 7f f8 00 00 00 00 00 00", "fb ff f0 00 00 00 00 00 00"] {
            #expect(valueError(Self.hex(bytes), .float) == .typeMismatch, "\(bytes)")
        }
    }

    @Test func integerHeadsOfEveryWidth() throws {
        for bytes in ["05", "18 05", "19 00 05", "1a 00 00 00 05", "1b 00 00 00 00 00 00 00 05"] {
            #expect(try value(Self.hex(bytes), .integer) == .integer(5), "\(bytes)")
            #expect(try value(Self.hex(bytes), .unsignedInteger) == .unsignedInteger(5), "\(bytes)")
            #expect(try value(Self.hex(bytes), .time) == .time(5), "\(bytes)")
        }
        #expect(try value(Self.hex("3a 7f ff ff ff"), .integer) == .integer(-2_147_483_648))
        #expect(try value(Self.hex("1a 80 00 00 00"), .integer) == .integer(2_147_483_648))  // beyond a 32-bit Int
        #expect(try value(Self.hex("1b 80 00 00 00 00 00 00 00"), .unsignedInteger) == .unsignedInteger(1 << 63))
    }

    @Test func integersOutOfRange() {
        // 2^63 and 2^64 - 1 for a signed Integer or Time; -2^63 - 1 and -2^64 for anything.
        for type in [ResourceType.integer, .time] {
            for bytes in ["1b 80 00 00 00 00 00 00 00", "1b ff ff ff ff ff ff ff ff",
                          "3b 80 00 00 00 00 00 00 00", "3b ff ff ff ff ff ff ff ff",
                          "c1 1b 80 00 00 00 00 00 00 00", "c1 3b ff ff ff ff ff ff ff ff"] {
                #expect(valueError(Self.hex(bytes), type) == .typeMismatch, "\(type) \(bytes)")
            }
        }
        // No negative number is an Unsigned Integer.
        for bytes in ["20", "38 ff", "3b 7f ff ff ff ff ff ff ff", "3b ff ff ff ff ff ff ff ff"] {
            #expect(valueError(Self.hex(bytes), .unsignedInteger) == .typeMismatch, "\(bytes)")
        }
        // A float is not an integer, even a whole one.
        for type in [ResourceType.integer, .unsignedInteger] {
            for bytes in ["f9 3c 00", "fa 3f 80 00 00", "fb 3f f0 00 00 00 00 00 00"] {
                #expect(valueError(Self.hex(bytes), type) == .typeMismatch, "\(type) \(bytes)")
            }
        }
    }

    @Test func timeTaggedOrNot() throws {
        #expect(try value(Self.hex("1a 51 4b 67 b0"), .time) == .time(1_363_896_240))  // RFC 8949 A
        #expect(try value(Self.hex("c1 1a 51 4b 67 b0"), .time) == .time(1_363_896_240))
        #expect(try value(Self.hex("c1 fb 41 d4 52 d9 ec 00 00 00"), .time) == .time(1_363_896_240))
        #expect(try value(Self.hex("c1 3b 7f ff ff ff ff ff ff ff"), .time) == .time(.min))
        // A fraction of a second, NaN, a float beyond Int64, a date string (tag 0), a nested or
        // other tag, tag 1 on an Integer resource.
        for bytes in ["c1 fb 41 d4 52 d9 ec 20 00 00", "c1 f9 7e 00", "c1 f9 7c 00", "c1 fa 5f 00 00 00",
                      "c0 74 32 30 31 33 2d 30 33 2d 32 31 54 32 30 3a 30 34 3a 30 30 5a", "c1 c1 01",
                      "c6 01", "c1 61 31", "c1 f5", "fb 41 d4 52 d9 ec 00 00 00"] {
            #expect(valueError(Self.hex(bytes), .time) == .typeMismatch, "\(bytes)")
        }
        #expect(valueError(Self.hex("c1 01"), .integer) == .typeMismatch)
        #expect(valueError(Self.hex("c1 01"), .unsignedInteger) == .typeMismatch)
    }

    @Test func indefiniteStrings() throws {
        #expect(try value(Self.hex("7f 62 47 61 65 74 65 77 61 79 ff"), .string) == .string("Gateway"))
        #expect(try value(Self.hex("7f ff"), .string) == .string(""))
        #expect(try value(Self.hex("5f 42 01 02 41 03 ff"), .opaque) == .opaque([1, 2, 3]))
        #expect(try value(Self.hex("7f 61 33 62 3a 30 ff"), .objectLink)
                == .objectLink(ObjectLink(objectID: 3, instanceID: 0)))
    }

    @Test func objectLinksStrictly() throws {
        #expect(try value(Array("\u{6b}65535:65535".utf8), .objectLink) == .objectLink(.null))
        for text in ["3", "3:", ":0", "3:0:0", "-1:0", "3:65536", "65536:0", "+3:0", " 3:0", "3:0 ", "a:b", ""] {
            var bytes: [UInt8] = [0x60 | UInt8(text.utf8.count)]
            bytes += Array(text.utf8)
            #expect(valueError(bytes, .objectLink) == .typeMismatch, "\(text)")
        }
    }

    @Test func wrongMajorTypes() {
        let items: [String: String] = [
            "unsigned": "01", "negative": "20", "bytes": "41 00", "text": "61 31", "array": "81 01", "map": "a1 01 02",
            "true": "f5", "false": "f4", "null": "f6", "undefined": "f7", "simple 0": "e0", "simple 255": "f8 ff",
            "half": "f9 3c 00", "tag 1": "c1 01", "tag 55799": "d9 d9 f7 01",
        ]
        let accepted: [ResourceType: Set<String>] = [
            .string: ["text"], .coreLink: ["text"], .objectLink: [], .opaque: ["bytes"],
            .boolean: ["true", "false"], .integer: ["unsigned", "negative"], .unsignedInteger: ["unsigned"],
            .float: ["unsigned", "negative", "half"], .time: ["unsigned", "negative", "tag 1"],
        ]
        for (type, allowed) in accepted {
            for (name, bytes) in items where !allowed.contains(name) {
                #expect(valueError(Self.hex(bytes), type) == .typeMismatch, "\(type) \(name)")
            }
        }
        // No value at all: an Executable resource (type none).
        #expect(valueError(Self.hex("01"), .none) == .typeMismatch)
    }

    /// Tags the single-value table does not list: bignums (2, 3), decimal fractions and
    /// bigfloats (4, 5) — including issue 10's exponent -2^63, which trapped the SenML decoder.
    @Test func decimalFractionsBignumsAndIssue10ExponentAreRefused() {
        let vectors = [
            "c4 82 21 19 6a b3",  // 273.15 (RFC 8949 A)
            "c4 82 3b 7f ff ff ff ff ff ff ff 01",  // 1 × 10^(-2^63)
            "c4 82 1b 7f ff ff ff ff ff ff ff 01",  // 1 × 10^(2^63 - 1)
            "c4 82 3b ff ff ff ff ff ff ff ff 3b ff ff ff ff ff ff ff ff",
            "c5 82 20 03",  // bigfloat 1.5
            "c2 49 01 00 00 00 00 00 00 00 00",  // 2^64
            "c3 49 01 00 00 00 00 00 00 00 00",  // -2^64 - 1
            "c2 41 05",
        ]
        for bytes in vectors {
            for type in [ResourceType.integer, .unsignedInteger, .float, .time] {
                #expect(valueError(Self.hex(bytes), type) == .typeMismatch, "\(type) \(bytes)")
            }
        }
    }

    // MARK: - Malformed input

    @Test func malformedItems() {
        let cases: [(String, Kit.ErrorCase)] = [
            ("", .truncated), ("19 03", .truncated), ("1b 00 00", .truncated), ("67 47 61", .truncated),
            ("7b ff ff ff ff ff ff ff ff 41", .truncated),  // a text of 2^64 - 1 bytes
            ("5b 7f ff ff ff ff ff ff ff", .truncated), ("7f 61 41", .truncated), ("c1", .truncated),
            ("00 00", .malformed), ("f5 00", .malformed), ("67 47 61 74 65 77 61 79 ff", .malformed),  // trailing
            ("1c", .malformed), ("1d", .malformed), ("1e", .malformed), ("ff", .malformed), ("1f", .malformed),
            ("3f", .malformed), ("df 01", .malformed), ("f8 10", .malformed),  // two-byte simple < 32
            ("7f 41 00 ff", .malformed),  // a byte chunk in a text string
            ("7f 7f ff ff", .malformed),  // a nested indefinite chunk
            ("62 c3 28", .malformed), ("62 ed a0", .malformed),  // invalid UTF-8
            ("7f 61 c3 61 bc ff", .malformed),  // a character split over chunks
            ("a2 01 02 01 03", .malformed),  // duplicate map key (valid CBOR only without)
        ]
        for (bytes, expected) in cases {
            for type in [ResourceType.string, .integer, .float, .opaque, .time] {
                #expect(valueError(Self.hex(bytes), type) == expected, "\(type) \(bytes)")
            }
        }
        // Deep nesting is refused before it costs anything.
        let deep = [UInt8](repeating: 0x81, count: 10_000) + [0x00]
        #expect(valueError(deep, .integer) == .nestingTooDeep)
        let tags = [UInt8](repeating: 0xc1, count: 10_000) + [0x00]
        #expect(valueError(tags, .time) == .nestingTooDeep)
        // Two levels are already more than a value has.
        #expect(valueError(Self.hex("c1 c1 00"), .time) == .typeMismatch)
    }

    /// Random and mutated inputs: a typed error or a value, never a trap.
    @Test func mutatedInputsNeverTrap() {
        var rng = SplitMix64(seed: 60)
        let seeds = ["c1 1a 51 82 42 8f", "fb 3f f1 99 99 99 99 99 9a", "67 47 61 74 65 77 61 79",
                     "1b ff ff ff ff ff ff ff ff", "7f 62 47 61 65 74 65 77 61 79 ff",
                     "c4 82 3b 7f ff ff ff ff ff ff ff 01", "63 33 3a 30", "44 01 02 03 04"]
        for round in 0..<20_000 {
            var input = Self.hex(seeds[round % seeds.count])
            mutate(&input, using: &rng)
            let type = Kit.allTypes[Int(rng.next() % UInt64(Kit.allTypes.count))]
            do {
                let decoded = try CBORSingleValueFormat.decodeValue(input, type: type, path: Self.somewhere)
                #expect(decoded.type == type)
                // What decodes encodes again, and that decodes to the same value.
                let again = try CBORSingleValueFormat.decodeValue(try CBORSingleValueFormat.encode(decoded), type: type,
                                                                  path: Self.somewhere)
                #expect(again == decoded)
            } catch {
                // A typed error is the right outcome.
            }
        }
    }

    // MARK: - Negotiation (PayloadCodec)

    @Test func payloadCodecOffersCBORForOneValueOnly() throws {
        let schema = ResourceSchema.oma
        let cbor = ContentFormat.cbor
        #expect(PayloadCodec.responseFormat(accept: cbor, base: LwM2MPath(3, 0, 17), schema: schema, singleValue: true)
                == cbor)
        #expect(PayloadCodec.responseFormat(accept: cbor, base: LwM2MPath(5, 0, 0), schema: schema, singleValue: true)
                == cbor)  // Opaque too
        #expect(PayloadCodec.responseFormat(accept: cbor, base: LwM2MPath(3, 0), schema: schema, singleValue: false)
                == nil)
        #expect(PayloadCodec.responseFormat(accept: cbor, base: LwM2MPath(3), schema: schema, singleValue: false)
                == nil)
        // Never chosen without being asked for, never a hierarchical default.
        #expect(!PayloadCodec.hierarchicalFormats.contains(cbor))
        #expect(PayloadCodec.responseFormat(accept: nil, base: LwM2MPath(3, 0, 17), schema: schema, singleValue: true)
                == ContentFormat.textPlain)
        #expect(RequestHandler.writableFormats.contains(cbor))
        #expect(!RequestHandler.compositeFormats.contains(cbor))
        let time = try PayloadCodec.decode(Self.hex("c1 1a 51 82 42 8f"), base: LwM2MPath(3, 0, 13), format: cbor,
                                           schema: schema)
        #expect(time == [LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_367_491_215))])
        #expect(try PayloadCodec.encode(time, base: LwM2MPath(3, 0, 13), format: cbor) == Self.hex("c1 1a 51 82 42 8f"))
    }

    // MARK: - Served by the request handler

    @Test func readSingleValuesInCBOR() throws {
        let responder = try Responder()
        let cases: [(String, String)] = [
            ("/32769/0/0", "64 7a 65 72 6f"),  // "zero"
            ("/32769/0/1/1", "14"),  // 20
            ("/32769/0/4", "f9 3e 00"),  // 1.5
            ("/3/0/13", "c1 1a 65 53 f1 00"),  // 1700000000, tag 1
        ]
        for (path, bytes) in cases {
            let response = responder.handle(request(.get, path, accept: ContentFormat.cbor))
            #expect(response.code == .content, "\(path)")
            #expect(response.contentFormat == ContentFormat.cbor, "\(path)")
            #expect(response.payload == Self.hex(bytes), "\(path)")
        }
        // An instance, an object and a multi-instance resource: 4.06, as for text/plain.
        for path in ["/32769/0", "/32769", "/32769/0/1", "/3/0/7"] {
            #expect(responder.handle(request(.get, path, accept: ContentFormat.cbor)).code == .notAcceptable, "\(path)")
        }
    }

    @Test func writeSingleValuesInCBOR() throws {
        let responder = try Responder()
        let put = { (path: String, bytes: String) in
            responder.handle(request(.put, path, format: ContentFormat.cbor, payload: Self.hex(bytes)))
        }
        #expect(put("/32769/0/0", "64 66 6f 75 72").code == .changed)  // "four"
        #expect(stored(responder.test, LwM2MPath(32769, 0, 0)) == .string("four"))
        #expect(put("/32769/0/1/0", "38 63").code == .changed)  // -100 into a resource instance
        #expect(stored(responder.test, LwM2MPath(32769, 0, 1, 0)) == .integer(-100))
        #expect(put("/32769/0/2", "5f 41 09 41 08 ff").code == .changed)
        #expect(stored(responder.test, LwM2MPath(32769, 0, 2)) == .opaque([9, 8]))
        #expect(put("/3/0/13", "c1 1a 51 82 42 8f").code == .changed)
        #expect(stored(responder.device, LwM2MPath(3, 0, 13)) == .time(1_367_491_215))
        #expect(put("/3/0/13", "1a 51 82 42 90").code == .changed)  // untagged
        #expect(stored(responder.device, LwM2MPath(3, 0, 13)) == .time(1_367_491_216))

        // Bad CBOR, the wrong type, trailing bytes, out of range, issue 10's exponent: 4.00, and
        // nothing written.
        let rejected = ["", "64 66 6f", "01", "64 66 6f 75 72 00", "f6", "c4 82 3b 7f ff ff ff ff ff ff ff 01",
                        "9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f 9f ff"]
        for bytes in rejected {
            #expect(put("/32769/0/0", bytes).code == .badRequest, "\(bytes)")
        }
        for bytes in ["1b 80 00 00 00 00 00 00 00", "c4 82 3b 7f ff ff ff ff ff ff ff 01", "fb 3f f8 00 00 00 00 00 00",
                      "c1 3b ff ff ff ff ff ff ff ff"] {
            #expect(put("/3/0/13", bytes).code == .badRequest, "\(bytes)")
            #expect(put("/32769/0/1/0", bytes).code == .badRequest, "\(bytes)")
        }
        #expect(stored(responder.test, LwM2MPath(32769, 0, 0)) == .string("four"))
        #expect(stored(responder.device, LwM2MPath(3, 0, 13)) == .time(1_367_491_216))
        #expect(stored(responder.test, LwM2MPath(32769, 0, 1, 0)) == .integer(-100))
        // One value only: not an instance (Write) or an object (Create).
        #expect(put("/32769/0", "64 66 6f 75 72").code == .badRequest)
        #expect(responder.handle(request(.post, "/32769", format: ContentFormat.cbor, payload: [0x00])).code
                == .badRequest)
    }

    @Test func compositeOperationsRefuseCBOR() throws {
        let responder = try Responder()
        // Read-Composite asking for an answer in CBOR: 4.06; a CBOR body: 4.15.
        let paths = try SenMLCBOR.encodePaths([LwM2MPath(3, 0, 0)])
        #expect(responder.handle(request(.fetch, "/", accept: ContentFormat.cbor, format: ContentFormat.senmlCBOR,
                                         payload: paths)).code == .notAcceptable)
        #expect(responder.handle(request(.fetch, "/", format: ContentFormat.cbor, payload: [0x00])).code
                == .unsupportedContentFormat)
        #expect(responder.handle(request(.iPatch, "/", format: ContentFormat.cbor, payload: Self.hex("64 66 6f 75 72")))
                .code == .unsupportedContentFormat)
    }

    @Test func notificationsOfAnObservationReadInCBOR() throws {
        var rig = try ReportingRig()
        _ = rig.observe(LwM2MPath(3, 0, 9), format: ContentFormat.cbor)
        try rig.setBattery(42)
        let sent = rig.update(at: 1)
        #expect(sent.count == 1)
        #expect(sent.first?.response.contentFormat == ContentFormat.cbor)
        #expect(sent.first?.response.payload == Self.hex("18 2a"))
    }
}
