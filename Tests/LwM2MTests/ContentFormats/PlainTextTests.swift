import CoAP
import Testing
@testable import LwM2M

/// text/plain (content format 0) and, at the end, application/octet-stream (42).
@Suite struct PlainTextTests {
    typealias Kit = CoreFormatsTestKit

    func text(_ value: ResourceValue) throws -> String {
        String(decoding: try PlainTextFormat.encode(value), as: UTF8.self)
    }

    func value(_ text: String, _ type: ResourceType) throws -> ResourceValue {
        try PlainTextFormat.decodeValue(Array(text.utf8), type: type, path: LwM2MPath(1000, 0, 0))
    }

    func valueError(_ bytes: [UInt8], _ type: ResourceType) -> Kit.ErrorCase? {
        Kit.errorCase { _ = try PlainTextFormat.decodeValue(bytes, type: type, path: LwM2MPath(1000, 0, 0)) }
    }

    func valueError(_ text: String, _ type: ResourceType) -> Kit.ErrorCase? { valueError(Array(text.utf8), type) }

    /// TS 1.1 §7.4.1: "Req: GET /3/0/0 … Res: 2.05 Content … Open Mobile Alliance".
    @Test func specManufacturerExample() throws {
        let base = Kit.path("/3/0/0")
        let bytes = Array("Open Mobile Alliance".utf8)
        let record = LwM2MRecord(base, .string("Open Mobile Alliance"))
        #expect(try PlainTextFormat.encode([record], base: base) == bytes)
        #expect(try PlainTextFormat.decode(bytes, base: base, type: Kit.type) == [record])
    }

    @Test(arguments: [
        (ResourceValue.integer(0), "0"), (.integer(-42), "-42"),
        (.integer(.max), "9223372036854775807"), (.integer(.min), "-9223372036854775808"),
        (.unsignedInteger(.max), "18446744073709551615"),
        (.time(1_367_491_215), "1367491215"), (.time(-1), "-1"),
        (.boolean(true), "1"), (.boolean(false), "0"),
        (.objectLink(ObjectLink(objectID: 3, instanceID: 0)), "3:0"), (.objectLink(.null), "65535:65535"),
        (.string(""), ""), (.string("Grüße, 世界"), "Grüße, 世界"),
        (.coreLink("</3/0>;ver=1.2"), "</3/0>;ver=1.2"),
        (.float(3.14), "3.14"), (.float(-0.5), "-0.5"), (.float(1.0), "1.0"), (.float(1e-05), "1e-05"),
        (.float(1e300), "1e+300"), (.float(-0.0), "-0.0"), (.float(.leastNonzeroMagnitude), "5e-324"),
        // Opaque is base64 (RFC 4648 §10 test vectors "", "f", "fo", "foo", "foobar").
        (.opaque([]), ""), (.opaque(Array("f".utf8)), "Zg=="), (.opaque(Array("fo".utf8)), "Zm8="),
        (.opaque(Array("foo".utf8)), "Zm9v"), (.opaque(Array("foobar".utf8)), "Zm9vYmFy"),
        // FF FE = 111111 111111 1110(00) → "/", "/", "4", "=".
        (.opaque([0xFF, 0xFE]), "//4="),
    ])
    func values(value: ResourceValue, text expected: String) throws {
        #expect(try text(value) == expected)
        let decoded = try self.value(expected, value.type)
        #expect(decoded == value)
        if case .float(let number) = value, case .float(let back) = decoded {
            #expect(number.sign == back.sign)
        }
    }

    @Test func integerGrammar() throws {
        #expect(try value("007", .integer) == .integer(7))
        #expect(try value("-0", .integer) == .integer(0))
        for bad in ["", "+5", " 5", "5 ", "5\n", "0x10", "1e3", "1.0", "9223372036854775808",
                    "-9223372036854775809", "--1", "-", "５"] {
            #expect(valueError(bad, .integer) == .typeMismatch, "\(bad)")
            #expect(valueError(bad, .time) == .typeMismatch, "\(bad)")
        }
        for bad in ["-1", "+1", "18446744073709551616", "", "1.5"] {
            #expect(valueError(bad, .unsignedInteger) == .typeMismatch, "\(bad)")
        }
    }

    @Test func floatGrammar() throws {
        #expect(try value("5", .float) == .float(5))
        #expect(try value("1E3", .float) == .float(1000))
        #expect(try value("1e+3", .float) == .float(1000))
        #expect(try value("-2.5e-3", .float) == .float(-0.0025))
        for bad in ["", "inf", "-inf", "Infinity", "nan", "NaN", "0x1p3", " 1", "1 ", "1.", ".5", "1e", "1e+",
                    "+1", "1,5", "1e999", "-1e999", "1..2"] {
            #expect(valueError(bad, .float) == .typeMismatch, "\(bad)")
        }
        // ±∞ and NaN have no text form.
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode(.float(.infinity)) } == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode(.float(-.infinity)) } == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode(.float(.nan)) } == .unsupported)
    }

    /// Every finite double survives text and back exactly (shortest round-trip form).
    @Test func floatRoundTripSeeded() throws {
        var rng = SplitMix64(seed: 0xF10A7)
        for _ in 0..<20_000 {
            let number = Double(bitPattern: rng.next())
            guard number.isFinite else { continue }
            let back = try value(try text(.float(number)), .float)
            #expect(back == .float(number), "\(number)")
        }
    }

    @Test func otherGrammars() {
        for bad in ["true", "false", "2", "01", "", " 1", "1\n"] {
            #expect(valueError(bad, .boolean) == .typeMismatch, "\(bad)")
        }
        for bad in ["3", "3:", ":0", "3:0:1", "3:70000", "+3:0", "3 :0", "-1:0", "a:b", ""] {
            #expect(valueError(bad, .objectLink) == .typeMismatch, "\(bad)")
        }
        // Base64 is strict: padding required, no whitespace, canonical final bits.
        for bad in ["Zg=", "Zg", "Z===", "Zm9v\n", "Zm9v YmFy", "Zh==", "Zm9v!", "=Zm9", "Zg==Zg=="] {
            #expect(valueError(bad, .opaque) == .typeMismatch, "\(bad)")
        }
        // Strings must be UTF-8; executable resources have no value.
        #expect(valueError([0xC3], .string) == .typeMismatch)
        #expect(valueError([0xFF, 0x30], .integer) == .typeMismatch)
        #expect(valueError("1", .none) == .typeMismatch)
    }

    @Test func singleValueOnly() throws {
        let record = LwM2MRecord(Kit.path("/3/0/9"), .integer(100))
        #expect(try PlainTextFormat.encode([record], base: Kit.path("/3/0/9")) == Array("100".utf8))
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode([record], base: Kit.path("/3/0")) } == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode([record, record], base: Kit.path("/3/0/9")) }
            == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode([record], base: Kit.path("/3/0/10")) } == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.encode([], base: Kit.path("/3/0/9")) } == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.decode([], base: Kit.path("/3/0"), type: Kit.type) }
            == .unsupported)
        #expect(Kit.errorCase { _ = try PlainTextFormat.decode([], base: Kit.path("/3/0/99"), type: Kit.type) }
            == .unknownResource)
        // A resource instance takes its type from its resource (/3/0/7 is Integer).
        #expect(try PlainTextFormat.decode(Array("3800".utf8), base: Kit.path("/3/0/7/0"), type: Kit.type)
            == [LwM2MRecord(Kit.path("/3/0/7/0"), .integer(3800))])
    }

    // MARK: - application/octet-stream

    @Test func opaqueFormat() throws {
        let base = Kit.path("/1000/0/1")
        let bytes: [UInt8] = [0x00, 0xFF, 0x10]
        let record = LwM2MRecord(base, .opaque(bytes))
        #expect(try OpaqueFormat.encode([record], base: base) == bytes)
        #expect(try OpaqueFormat.decode(bytes, base: base, type: Kit.type) == [record])
        #expect(try OpaqueFormat.decode([], base: base, type: Kit.type) == [LwM2MRecord(base, .opaque([]))])
        // Only opaque values and resources; one value; known resources.
        let integer = LwM2MRecord(Kit.path("/1000/0/2"), .integer(1))
        #expect(Kit.errorCase { _ = try OpaqueFormat.encode([integer], base: Kit.path("/1000/0/2")) } == .unsupported)
        #expect(Kit.errorCase { _ = try OpaqueFormat.decode(bytes, base: Kit.path("/1000/0/2"), type: Kit.type) }
            == .unsupported)
        #expect(Kit.errorCase { _ = try OpaqueFormat.encode([record, record], base: base) } == .unsupported)
        #expect(Kit.errorCase { _ = try OpaqueFormat.encode([record], base: Kit.path("/1000/0")) } == .unsupported)
        #expect(Kit.errorCase { _ = try OpaqueFormat.decode(bytes, base: Kit.path("/1000/0"), type: Kit.type) }
            == .unsupported)
        #expect(Kit.errorCase { _ = try OpaqueFormat.decode(bytes, base: Kit.path("/1000/0/77"), type: Kit.type) }
            == .unknownResource)
    }
}
