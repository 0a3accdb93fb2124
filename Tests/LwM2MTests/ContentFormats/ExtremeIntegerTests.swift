import CoAP
import Testing
@testable import LwM2M

// Extreme numbers in every decoder a peer reaches (issue 10, defect 1: a decimal fraction with
// exponent -2^63 made `abs(exponent)` trap and the daemon died). Each decoder gets Int64.min,
// Int64.max, UInt64.max, 2^64, 2^32, 2^31, -2^31-1, NaN, ±inf, -0 and huge exponents; the
// expectations are the value when it is representable in the resource's type, a clear
// ContentFormatError / LwM2MError otherwise — never a trap. CBOR items are hand-written hex
// (RFC 8949): 1b = uint64 head, 3b = negative uint64 head (3b 7fff…ff is -2^63), c4 82 = tag 4
// [exponent, mantissa].

private let int64MinHead = "3b7fffffffffffffff"  // -2^63
private let int64MaxHead = "1b7fffffffffffffff"  // 2^63 - 1
private let uint64MaxHead = "1bffffffffffffffff"  // 2^64 - 1
private let minus2p64Head = "3bffffffffffffffff"  // -2^64

/// A SenML CBOR pack of one record {n: name, v: <value hex>} (plus extra label/value hex).
private func senml(_ name: String, _ value: String, extra: String = "") -> [UInt8] {
    let nameHex = hex(Array(name.utf8))
    let header = extra.isEmpty ? "81a2" : "81a3"
    return bytes(header + "00" + hex([0x60 | UInt8(name.utf8.count)]) + nameHex + "02" + value + extra)
}

/// An LwM2M CBOR payload {[3303, 0, 5700]: <value hex>}.
private func lwm2mCBOR(_ value: String) -> [UInt8] { bytes("a183190ce7001916 44" + value) }

private func kind(_ body: () throws -> Void) -> String? { errorKind(body) }

@Suite struct ExtremeIntegerTests {
    // MARK: - SenML CBOR / LwM2M CBOR decimal fractions (the crash)

    @Test func decimalFractionWithExponentInt64MinDoesNotTrap() throws {
        // The payload of the issue, byte for byte: /3/0/14 (a string resource) = 4([-2^63, 1]).
        let issue = bytes("81a200672f332f302f313402c4823b7fffffffffffffff01")
        #expect(kind { _ = try SenMLCBOR.decode(issue, types: { _ in .string }) } == "typeMismatch")
        // Untyped and as a float: 1 × 10^(-2^63) is 0 (the nearest double), with the mantissa's sign.
        let untyped = try SenMLCBOR.decode(issue)
        #expect(untyped.count == 1 && untyped[0].value == .float(0))
        let negative = try SenMLCBOR.decode(senml("/3303/0/5700", "c482" + int64MinHead + "20"), types: { _ in .float })
        #expect(negative[0].value == .float(-0.0) && negative[0].value.numericValue?.sign == .minus)
        // Both parts -2^63.
        let both = try SenMLCBOR.decode(senml("/3303/0/5700", "c482" + int64MinHead + int64MinHead), types: { _ in .float })
        #expect(both[0].value == .float(-0.0))
        // As an integer or time it is 0 only inexactly: 0.0 is exact, so it converts.
        #expect(try SenMLCBOR.decode(senml("/3/0/13", "c482" + int64MinHead + "01"), types: { _ in .time })[0].value == .time(0))
        // The same in LwM2M CBOR (11544), and through the responder's entry point.
        #expect(try LwM2MCBOR.decode(lwm2mCBOR("c482" + int64MinHead + "01"))[0].value == .float(0))
        #expect(kind { _ = try LwM2MCBOR.decode(bytes("a18303000ec4823b7fffffffffffffff01"), types: { _ in .string }) }
            == "typeMismatch")
        #expect(kind {
            _ = try PayloadCodec.decode(issue, base: LwM2MPath(3, 0, 14), format: ContentFormat.senmlCBOR, schema: .oma)
        } == "typeMismatch")
    }

    @Test func decimalFractionInBaseValueAndTimesDoesNotTrap() throws {
        // bv (label -5 = 0x24) = 4([-2^63, 1]) = 0, v = 7 → 7.
        let base = try SenMLCBOR.decode(senml("/3/0/9", "07", extra: "24c482" + int64MinHead + "01"))
        #expect(base[0].value == .float(7))
        // t (label 6) and bt (label -3 = 0x22) = 0 → no time.
        let timed = try SenMLCBOR.decodeTimestamped(senml("/3/0/9", "07", extra: "06c482" + int64MinHead + "01"))
        #expect(timed[0].time == nil)
        let baseTime = try SenMLCBOR.decodeTimestamped(senml("/3/0/9", "07", extra: "22c482" + int64MinHead + "01"))
        #expect(baseTime[0].time == nil)
        // Epoch time (tag 1) -2^63 is a time; tag 1 around a decimal fraction (a tag in a tag) is refused.
        #expect(try LwM2MCBOR.decode(lwm2mCBOR("c1" + int64MinHead))[0].value == .time(.min))
        #expect(kind { _ = try LwM2MCBOR.decode(lwm2mCBOR("c1c482" + int64MinHead + "01")) } == "malformed")
    }

    @Test func decimalFractionBeyondDoubleRangeIsRefused() {
        // 1 × 10^(2^63-1) and 1 × 10^400 are infinite as doubles: refused, not turned into inf.
        for value in ["c482" + int64MaxHead + "01", "c48219019001", "c482" + int64MaxHead + int64MinHead] {
            #expect(kind { _ = try SenMLCBOR.decode(senml("/3303/0/5700", value)) } == "malformed", "\(value)")
            #expect(kind { _ = try SenMLCBOR.decode(senml("/3303/0/5700", value), types: { _ in .float }) }
                == "malformed", "\(value)")
            #expect(kind { _ = try SenMLCBOR.decode(senml("/3/0/9", "01", extra: "24" + value)) } == "malformed")
            #expect(kind { _ = try SenMLCBOR.decodeTimestamped(senml("/3/0/9", "01", extra: "06" + value)) } == "malformed")
            #expect(kind { _ = try LwM2MCBOR.decode(lwm2mCBOR(value)) } == "malformed", "\(value)")
        }
        // 0 × 10^(2^63-1) is 0.
        #expect((try? SenMLCBOR.decode(senml("/3303/0/5700", "c482" + int64MaxHead + "00")))?.first?.value == .float(0))
    }

    @Test func decimalFractionArithmetic() {
        typealias Coding = CBORResourceCoding
        #expect(Coding.decimalFraction(mantissa: 1, exponent: .min) == .double(0))
        #expect(Coding.decimalFraction(mantissa: .min, exponent: .min) == .double(-0.0))
        #expect(Coding.decimalFraction(mantissa: 1, exponent: .max) == nil)
        #expect(Coding.decimalFraction(mantissa: -1, exponent: .max) == nil)
        #expect(Coding.decimalFraction(mantissa: 0, exponent: .max) == .double(0))
        #expect(Coding.decimalFraction(mantissa: .max, exponent: 0) == .int(.max))
        #expect(Coding.decimalFraction(mantissa: .min, exponent: 0) == .int(.min))
        #expect(Coding.decimalFraction(mantissa: 9, exponent: 18) == .int(9_000_000_000_000_000_000))
        #expect(Coding.decimalFraction(mantissa: 10, exponent: 18) == .double(1e19))  // overflows Int64
        #expect(Coding.decimalFraction(mantissa: .min, exponent: 18) == .double(-9.223372036854775808e36))
        if case .double(let near)? = Coding.decimalFraction(mantissa: 1, exponent: 308) {
            #expect(near.isFinite && abs(near - 1e308) < 1e294)
        } else {
            Issue.record("1e308 as a decimal fraction is not a double")
        }
        #expect(Coding.decimalFraction(mantissa: 2, exponent: 308) == nil)
        #expect(Coding.decimalFraction(mantissa: -2, exponent: 308) == nil)
        #expect(Coding.decimalFraction(mantissa: 45, exponent: -1) == .double(4.5))
        #expect(Coding.decimalFraction(mantissa: 5, exponent: -324) == .double(5e-324))
        #expect(Coding.decimalFraction(mantissa: 1, exponent: -400) == .double(0))
    }

    @Test func cborIntegersAndFloatsAtTheEdges() throws {
        func senmlValue(_ value: String, _ type: ResourceType?) throws -> ResourceValue {
            try SenMLCBOR.decode(senml("/3303/0/5700", value), types: { _ in type })[0].value
        }
        func lwm2mValue(_ value: String, _ type: ResourceType?) throws -> ResourceValue {
            try LwM2MCBOR.decode(lwm2mCBOR(value), types: { _ in type })[0].value
        }
        for decode in [senmlValue, lwm2mValue] {
            #expect(try decode(int64MinHead, nil) == .integer(.min))
            #expect(try decode(int64MinHead, .integer) == .integer(.min))
            #expect(try decode(int64MinHead, .time) == .time(.min))
            #expect(try decode(int64MinHead, .float) == .float(-9.223372036854775808e18))
            #expect(kind { _ = try decode(int64MinHead, .unsignedInteger) } == "typeMismatch")
            #expect(try decode(int64MaxHead, .integer) == .integer(.max))
            #expect(try decode(uint64MaxHead, nil) == .unsignedInteger(.max))
            #expect(kind { _ = try decode(uint64MaxHead, .integer) } == "typeMismatch")
            #expect(kind { _ = try decode(uint64MaxHead, .time) } == "typeMismatch")
            #expect(kind { _ = try decode(minus2p64Head, .integer) } == "typeMismatch")
            #expect(try decode(minus2p64Head, .float) == .float(-18446744073709551616.0))
            #expect(try decode("1b0000000100000000", .integer) == .integer(1 << 32))
            #expect(try decode("1a80000000", .integer) == .integer(1 << 31))
            #expect(try decode("3a80000000", .integer) == .integer(-(1 << 31) - 1))
            // Floats: 2^63 is not an Int64, NaN / inf are not integers; -0 is the integer 0.
            #expect(kind { _ = try decode("fb43e0000000000000", .integer) } == "typeMismatch")
            #expect(try decode("fb43e0000000000000", .unsignedInteger) == .unsignedInteger(1 << 63))
            #expect(try decode("fbc3e0000000000000", .integer) == .integer(.min))
            for special in ["fb7ff8000000000000", "fb7ff0000000000000", "f9fc00", "fa7f800000"] {
                #expect(kind { _ = try decode(special, .integer) } == "typeMismatch", "\(special)")
                #expect(kind { _ = try decode(special, .time) } == "typeMismatch", "\(special)")
                #expect(kind { _ = try decode(special, .unsignedInteger) } == "typeMismatch", "\(special)")
            }
            #expect(try decode("fb8000000000000000", .integer) == .integer(0))
            // Bignums (tags 2, 3) and bigfloats (tag 5) are not numbers here; a bignum mantissa
            // in a decimal fraction neither.
            #expect(kind { _ = try decode("c249010000000000000000", nil) } == "malformed")
            // (SenML: "v is not a number" → malformed; LwM2M CBOR, typed: typeMismatch.)
            #expect(["malformed", "typeMismatch"].contains(kind { _ = try decode("c349010000000000000000", .float) }))
            #expect(kind { _ = try decode("c582" + int64MinHead + "01", nil) } == "malformed")
            #expect(kind { _ = try decode("c48201c24101", nil) } == "malformed")
            #expect(kind { _ = try decode("c48201" + uint64MaxHead, nil) } == "malformed")
        }
    }

    @Test func cborHeadsWithExtremeLengths() {
        // Lengths and counts of 2^64-1, 2^63 and 2^32 items/bytes: truncated, never allocated.
        for head in ["5b", "7b", "9b", "bb"] {
            for argument in ["ffffffffffffffff", "8000000000000000", "0000000100000000"] {
                #expect(kind { _ = try CBORValue(decoding: bytes(head + argument + "00")) } == "truncated")
            }
        }
        #expect((try? CBORValue(decoding: bytes("db" + "ffffffffffffffff" + "00"))) == .tagged(.max, 0))
    }

    // MARK: - JSON, SenML JSON, LwM2M JSON

    @Test func jsonNumbersAtTheEdges() throws {
        func number(_ text: String) -> JSONNumber? {
            guard case .array(let items)? = try? JSONParser.parse(Array("[\(text)]".utf8)),
                  case .number(let n) = items.first else { return nil }
            return n
        }
        #expect(number("-9223372036854775808")?.int64Value == .min)
        #expect(number("-9223372036854775809")?.int64Value == nil)
        #expect(number("9223372036854775807")?.int64Value == .max)
        #expect(number("9223372036854775808")?.int64Value == nil)
        #expect(number("18446744073709551615")?.uint64Value == .max)
        #expect(number("18446744073709551616")?.uint64Value == nil)
        #expect(number("-0")?.int64Value == 0 && number("-0")?.uint64Value == 0)
        #expect(number("92233720368547758.08e2")?.int64Value == nil)  // 9223372036854775808
        #expect(number("9223372036854775.807e3")?.int64Value == .max)
        #expect(number("1e19")?.uint64Value == 10_000_000_000_000_000_000 && number("1e20")?.uint64Value == nil)
        // Exponents far beyond any range, either way, and digits that saturate the exponent.
        #expect(number("1E+2147483648") == nil && number("1e999999999999999999999") == nil)  // infinite: refused
        #expect(number("1e308")?.doubleValue == 1e308 && number("1.8e308") == nil)
        #expect(number("1e-400")?.doubleValue == 0 && number("1e-400")?.int64Value == nil)
        #expect(number("0e999999999999999999999")?.int64Value == 0)
        #expect(number("1e-2147483649")?.int64Value == nil)
        #expect(number("5e-324")?.doubleValue == 5e-324)
    }

    @Test func senmlAndLwM2MJSONValuesAtTheEdges() throws {
        func senmlValue(_ number: String, _ type: ResourceType?) throws -> ResourceValue {
            try SenMLJSON.decode(Array("[{\"n\":\"/3303/0/5700\",\"v\":\(number)}]".utf8), resolver: { _ in type })[0].value
        }
        func lwm2mValue(_ number: String, _ type: ResourceType?) throws -> ResourceValue {
            try LwM2MJSON.decode(Array("{\"bn\":\"/3303/0/\",\"e\":[{\"n\":\"5700\",\"v\":\(number)}]}".utf8),
                                 resolver: { _ in type })[0].value
        }
        for decode in [senmlValue, lwm2mValue] {
            #expect(try decode("-9223372036854775808", .integer) == .integer(.min))
            #expect(try decode("-9223372036854775808", .time) == .time(.min))
            #expect(kind { _ = try decode("-9223372036854775809", .integer) } == "typeMismatch")
            #expect(try decode("18446744073709551615", .unsignedInteger) == .unsignedInteger(.max))
            #expect(kind { _ = try decode("18446744073709551616", .unsignedInteger) } == "typeMismatch")
            #expect(kind { _ = try decode("-1", .unsignedInteger) } == "typeMismatch")
            #expect(kind { _ = try decode("1e308", .integer) } == "typeMismatch")
            #expect(try decode("1e308", .float) == .float(1e308))
            #expect(kind { _ = try decode("1.8e308", .float) } != nil)
            #expect(try decode("1e-400", .float) == .float(0))
            #expect(try decode("4294967296", .integer) == .integer(1 << 32))
            #expect(try decode("-2147483649", .integer) == .integer(-(1 << 31) - 1))
        }
        // bt + t beyond the double range.
        #expect(kind { _ = try SenMLJSON.decodeEntries(Array(#"[{"bt":1e308,"t":1e308,"n":"/3/0/9","v":1}]"#.utf8)) }
            == "malformed")
        #expect(kind { _ = try SenMLJSON.decode(Array(#"[{"bver":9223372036854775807,"n":"/3/0/9","v":1}]"#.utf8)) }
            == "unsupported")
        #expect(kind { _ = try SenMLJSON.decode(Array(#"[{"bver":-9223372036854775808,"n":"/3/0/9","v":1}]"#.utf8)) }
            == "malformed")
    }

    // MARK: - TLV

    @Test func tlvIntegersAtTheEdges() throws {
        func value(_ hexValue: String, _ type: ResourceType) throws -> ResourceValue {
            let payload = bytes(hexValue)
            let header: [UInt8] = [0xC0 | 0x08, 1, UInt8(payload.count)]
            return try TLV.decode(header + payload, base: LwM2MPath(3303, 0), type: { _ in type },
                                  isMultiple: { _ in false })[0].value
        }
        #expect(try value("8000000000000000", .integer) == .integer(.min))
        #expect(try value("7fffffffffffffff", .integer) == .integer(.max))
        #expect(try value("ffffffffffffffff", .integer) == .integer(-1))
        #expect(try value("80000000", .integer) == .integer(-(1 << 31)))
        #expect(try value("8000000000000000", .time) == .time(.min))
        #expect(try value("7fffffffffffffff", .unsignedInteger) == .unsignedInteger(UInt64(Int64.max)))
        #expect(kind { _ = try value("8000000000000000", .unsignedInteger) } == "typeMismatch")
        #expect(try value("ffffffff", .unsignedInteger) == .unsignedInteger(UInt64(UInt32.max)))
        #expect(try value("7ff8000000000000", .float).numericValue?.isNaN == true)
        #expect(try value("fff0000000000000", .float) == .float(-.infinity))
        #expect(try value("ffffffff", .objectLink) == .objectLink(ObjectLink(objectID: 65535, instanceID: 65535)))
        #expect(kind { _ = try value("000000000000000000", .integer) } == "typeMismatch")  // 9 bytes
        // A 24-bit length announcing 16 MiB with 1 byte left.
        #expect(kind { _ = try TLV.decode(bytes("f801ffffff00"), base: LwM2MPath(3303, 0), type: { _ in .opaque },
                                          isMultiple: { _ in false }) } == "truncated")
    }

    // MARK: - text/plain

    @Test func plainTextNumbersAtTheEdges() throws {
        func value(_ text: String, _ type: ResourceType) throws -> ResourceValue {
            try PlainTextFormat.decodeValue(Array(text.utf8), type: type, path: LwM2MPath(3303, 0, 5700))
        }
        #expect(try value("-9223372036854775808", .integer) == .integer(.min))
        #expect(try value("9223372036854775807", .time) == .time(.max))
        #expect(try value("18446744073709551615", .unsignedInteger) == .unsignedInteger(.max))
        #expect(try value("-0", .integer) == .integer(0))
        #expect(try value("1e308", .float) == .float(1e308))
        #expect(try value("1e-400", .float) == .float(0))
        for (text, type) in [("-9223372036854775809", ResourceType.integer), ("9223372036854775808", .time),
                             ("18446744073709551616", .unsignedInteger), ("-1", .unsignedInteger),
                             ("1.8e308", .float), ("-1.8e308", .float), ("nan", .float), ("inf", .float),
                             ("+5", .integer), ("0x10", .integer), ("65536:0", .objectLink), ("-1:0", .objectLink),
                             ("2", .boolean)] {
            #expect(kind { _ = try value(text, type) } == "typeMismatch", "\(text) as \(type)")
        }
    }

    // MARK: - Query values, Execute arguments, paths, links

    @Test func attributeQueryValuesAtTheEdges() throws {
        func parse(_ query: [String]) -> AttributeChanges? { try? AttributeChanges(query: query) }
        #expect(parse(["pmin=\(NotificationAttributes.maximumPeriod)"])?.set.pmin == NotificationAttributes.maximumPeriod)
        #expect(NotificationAttributes.maximumPeriod <= Int(UInt32.max) && NotificationAttributes.maximumPeriod > 0)
        for item in ["pmin=4294967296", "pmax=9999999999", "epmin=99999999999", "pmin=-1", "pmax=+1",
                     "epmax=9223372036854775808", "gt=1.8e308", "lt=-1e999", "st=nan", "gt=inf", "st=1e", "gt="] {
            #expect(parse([item]) == nil, "\(item)")
        }
        #expect(parse(["st=1e-400"])?.set.st == 0)
        // gt / lt / st at the edge of the double range: lt + 2*st overflows to inf, refused.
        let wide = try AttributeChanges(query: ["gt=1e308", "lt=-1e308", "st=1e308"])
        #expect(throws: LwM2MError.self) { try wide.applied(to: NotificationAttributes()).validate() }
        // Printing an attribute never converts a huge or negative-zero double to an integer that traps.
        #expect(NotificationAttributes.format(-0.0) == "0" && NotificationAttributes.format(1e14) == "100000000000000")
        #expect(NotificationAttributes.format(9.223372036854775807e18) == String(9.223372036854775807e18))
        #expect(NotificationAttributes.format(-1e308) == String(-1e308))
    }

    @Test func executeArgumentsPathsAndLinksAtTheEdges() throws {
        #expect(try ExecuteArgument.parse(Array("0='a',9='b',5".utf8)).map(\.id) == [0, 9, 5])
        #expect(throws: LwM2MError.self) { try ExecuteArgument.parse(Array("10='a'".utf8)) }
        #expect(throws: LwM2MError.self) { try ExecuteArgument.parse([0x2F]) }  // "/" = "0" - 1
        #expect(throws: LwM2MError.self) { try ExecuteArgument.parse([0x3A]) }  // ":" = "9" + 1
        #expect(LwM2MPath("/65534/65534/65534/65534") != nil)
        for text in ["/65535", "/65536", "/4294967296", "/18446744073709551616", "/-1", "/+1", "/1/2/3/4/5"] {
            #expect(LwM2MPath(text) == nil, "\(text)")
        }
        #expect(ObjectLink("65535:65535") == ObjectLink(objectID: 65535, instanceID: 65535))
        for text in ["65536:0", "0:4294967296", "-1:0", "+1:0", "18446744073709551616:1"] {
            #expect(ObjectLink(text) == nil, "\(text)")
        }
    }
}
