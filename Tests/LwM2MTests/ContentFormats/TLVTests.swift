import CoAP
import Testing
@testable import LwM2M

/// Helpers shared by TLVTests, PlainTextTests and LinkFormatTests.
enum CoreFormatsTestKit {
    typealias ErrorCase = ErrorKind

    /// nil when `body` succeeds, else the case it threw. (Closures do not infer a typed
    /// `throws(ContentFormatError)` from context yet, so `body` throws untyped.)
    static func errorCase(_ body: () throws -> Void) -> ErrorCase? {
        do {
            try body()
            return nil
        } catch let error as ContentFormatError {
            return ErrorCase(error)
        } catch {
            Issue.record("not a ContentFormatError: \(error)")
            return nil
        }
    }

    /// "C8 00 14" → [0xC8, 0x00, 0x14] (spaces and line breaks ignored).
    static func hex(_ text: String) -> [UInt8] {
        let digits = text.filter { !$0.isWhitespace }
        precondition(digits.count % 2 == 0, "odd hex string")
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func path(_ text: String) -> LwM2MPath { LwM2MPath(text)! }

    /// Resource types and multiplicity of the objects used by the vectors: the Server (1),
    /// Access Control (2) and Device (3) objects as in the OMA registry (1.xml, 2.xml, 3.xml),
    /// the example objects 65 and 66 of the TLV Objlnk examples, and test object 1000 with one
    /// resource per type.
    static let model: [UInt16: [UInt16: (ResourceType, Bool)]] = [
        1: [0: (.integer, false), 1: (.integer, false), 6: (.boolean, false), 7: (.string, false)],
        2: [0: (.integer, false), 1: (.integer, false), 2: (.integer, true), 3: (.integer, false)],
        3: [0: (.string, false), 1: (.string, false), 2: (.string, false), 3: (.string, false),
            4: (.none, false), 6: (.integer, true), 7: (.integer, true), 8: (.integer, true),
            9: (.integer, false), 10: (.integer, false), 11: (.integer, true), 13: (.time, false),
            14: (.string, false), 15: (.string, false), 16: (.string, false)],
        65: [0: (.objectLink, true), 1: (.string, false), 2: (.integer, false)],
        66: [0: (.string, false), 1: (.string, false), 2: (.objectLink, false)],
        1000: [0: (.string, false), 1: (.opaque, false), 2: (.integer, false), 3: (.unsignedInteger, false),
               4: (.float, false), 5: (.boolean, false), 6: (.time, false), 7: (.objectLink, false),
               8: (.coreLink, false), 9: (.string, true), 10: (.integer, true), 11: (.none, false),
               300: (.string, false)],
    ]

    static func type(_ path: LwM2MPath) -> ResourceType? {
        model[path.objectID!]?[path.resourceID!]?.0
    }

    static func isMultiple(_ path: LwM2MPath) -> Bool {
        model[path.objectID!]?[path.resourceID!]?.1 ?? false
    }

    /// The resolver of the random and fuzz tests: every resource exists; its type and
    /// multiplicity follow from its ID.
    static let allTypes: [ResourceType] = [.string, .opaque, .integer, .unsignedInteger, .float, .boolean,
                                           .time, .objectLink, .coreLink]
    static func moduloType(_ path: LwM2MPath) -> ResourceType? { allTypes[Int(path.resourceID!) % allTypes.count] }
    static func moduloMultiple(_ path: LwM2MPath) -> Bool { path.resourceID! % 4 == 1 }

    /// Record lists equal up to order, with NaN equal to a NaN of the same bits.
    static func sameRecords(_ lhs: [LwM2MRecord], _ rhs: [LwM2MRecord]) -> Bool {
        let left = lhs.sorted { $0.path < $1.path }, right = rhs.sorted { $0.path < $1.path }
        return left.count == right.count && zip(left, right).allSatisfy { a, b in
            if case .float(let x) = a.value, case .float(let y) = b.value, x.isNaN || y.isNaN {
                return a.path == b.path && x.bitPattern == y.bitPattern
            }
            return a == b
        }
    }
}

@Suite struct TLVTests {
    typealias Kit = CoreFormatsTestKit
    static func hex(_ text: String) -> [UInt8] { Kit.hex(text) }
    static func path(_ text: String) -> LwM2MPath { Kit.path(text) }

    func decode(_ bytes: [UInt8], _ base: String, implicitInstanceID: UInt16? = nil) throws -> [LwM2MRecord] {
        try TLV.decode(bytes, base: Kit.path(base), implicitInstanceID: implicitInstanceID,
                       type: Kit.type, isMultiple: Kit.isMultiple)
    }

    func decodeError(_ bytes: [UInt8], _ base: String, implicitInstanceID: UInt16? = nil) -> Kit.ErrorCase? {
        Kit.errorCase {
            _ = try TLV.decode(bytes, base: Kit.path(base), implicitInstanceID: implicitInstanceID,
                               type: Kit.type, isMultiple: Kit.isMultiple)
        }
    }

    func encodeError(_ records: [LwM2MRecord], _ base: String) -> Kit.ErrorCase? {
        Kit.errorCase { _ = try TLV.encode(records, base: Kit.path(base)) }
    }

    /// Encoding `records` for `base` gives `bytes`, and decoding `bytes` gives `records` back.
    func roundTrip(_ records: [LwM2MRecord], _ base: String, _ bytes: [UInt8],
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try TLV.encode(records, base: Kit.path(base)) == bytes, sourceLocation: sourceLocation)
        #expect(Kit.sameRecords(try decode(bytes, base), records), sourceLocation: sourceLocation)
    }

    static func record(_ path: String, _ value: ResourceValue) -> LwM2MRecord { LwM2MRecord(Kit.path(path), value) }
    func record(_ path: String, _ value: ResourceValue) -> LwM2MRecord { Self.record(path, value) }

    // MARK: - Spec vectors
    //
    // Source: the TLV examples of OMA-TS-LightweightM2M_Core (TS 1.1 §7.4.3, the same examples
    // as TS 1.0 §6.4.3.1–6.4.3.3), bytes as printed there. As printed, the Model Number bytes
    // drop an "h" ("Lightweigt") while the length byte stays 0x16 = 22; the 22-byte string is
    // used, as in the public transcriptions that noted the slip (PeterWaher/IoTGateway
    // CoapLwm2mTlvTests, a telenordigital TLV test). Every byte is re-derived in the comments.

    /// TS §7.4.3 "Single Object Instance Request Example": Read /3/0 answered in TLV.
    static let deviceInstanceBytes: [UInt8] = hex("""
        C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65
        C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74
        C8 02 09 33 34 35 30 30 30 31 32 33
        C3 03 31 2E 30
        86 06
           41 00 01
           41 01 05
        88 07 08
           42 00 0E D8
           42 01 13 88
        87 08
           41 00 7D
           42 01 03 84
        C1 09 64
        C1 0A 0F
        83 0B
           41 00 00
        C4 0D 51 82 42 8F
        C6 0E 2B 30 32 3A 30 30
        C1 10 55
        """)
    // C8 = 11 0 01 000: resource with value, 8-bit ID, 8-bit length field (values ≥ 8 bytes).
    //   C8 00 14 "Open Mobile Alliance" (20 = 0x14 bytes), C8 01 16 "Lightweight M2M Client"
    //   (22 = 0x16), C8 02 09 "345000123" (9).
    // C3 = 11 0 00 011: resource, length 3 in the type byte: "1.0".
    // 86 = 10 0 00 110: multiple resource 6, 6 bytes of instances; 41 = 01 0 00 001: resource
    //   instance with 1 byte: [0] = 1, [1] = 5.
    // 88 = 10 0 01 000: multiple resource 7 with an 8-bit length (8 bytes: two 4-byte TLVs);
    //   42 = 01 0 00 010: 2-byte instances: 3800 = 0x0ED8, 5000 = 0x1388.
    // 87 = 10 0 00 111: multiple resource 8, 7 bytes: [0] = 125 = 0x7D (1 byte, ≤ 127),
    //   [1] = 900 = 0x0384.
    // C1 09 64: Battery Level 100; C1 0A 0F: Memory Free 15.
    // 83 0B 41 00 00: Error Code, a multiple resource with one instance [0] = 0 — still wrapped.
    // C4 0D: Current Time, 4 bytes 0x5182428F = 1367491215 (top bit 0: no widening).
    // C6 0E "+02:00" (6 bytes); C1 10 55: resource 16 (0x10) Supported Binding "U".
    static let deviceInstanceRecords: [LwM2MRecord] = [
        record("/3/0/0", .string("Open Mobile Alliance")),
        record("/3/0/1", .string("Lightweight M2M Client")),
        record("/3/0/2", .string("345000123")),
        record("/3/0/3", .string("1.0")),
        record("/3/0/6/0", .integer(1)), record("/3/0/6/1", .integer(5)),
        record("/3/0/7/0", .integer(3800)), record("/3/0/7/1", .integer(5000)),
        record("/3/0/8/0", .integer(125)), record("/3/0/8/1", .integer(900)),
        record("/3/0/9", .integer(100)),
        record("/3/0/10", .integer(15)),
        record("/3/0/11/0", .integer(0)),
        record("/3/0/13", .time(0x5182_428F)),
        record("/3/0/14", .string("+02:00")),
        record("/3/0/16", .string("U")),
    ]

    @Test func specSingleObjectInstance() throws {
        #expect(Self.deviceInstanceBytes.count == 121)
        #expect(try decode(Self.deviceInstanceBytes, "/3/0") == Self.deviceInstanceRecords)
        #expect(try TLV.encode(Self.deviceInstanceRecords, base: Self.path("/3/0")) == Self.deviceInstanceBytes)
        // Record order does not matter to the encoder.
        #expect(try TLV.encode(Self.deviceInstanceRecords.reversed(), base: Self.path("/3/0"))
            == Self.deviceInstanceBytes)
    }

    /// TS §7.4.3 "Multiple Object Instance Request Examples", Device: Read /3 — the same instance
    /// wrapped in 08 00 79 = 00 0 01 000 (object instance, 8-bit ID 0, 8-bit length 0x79 = 121).
    @Test func specObjectRead() throws {
        let bytes = Self.hex("08 00 79") + Self.deviceInstanceBytes
        #expect(try decode(bytes, "/3") == Self.deviceInstanceRecords)
        #expect(try TLV.encode(Self.deviceInstanceRecords, base: Self.path("/3")) == bytes)
        // A Write on /3/0 may carry the instance TLV too (Leshan/IOWA send both forms).
        #expect(try decode(bytes, "/3/0") == Self.deviceInstanceRecords)
        #expect(decodeError(bytes, "/3/1") == .invalidPath)
    }

    /// TS §7.4.3 "Multiple Object Instance Request Examples", Access Control: Read /2.
    @Test func specAccessControlInstances() throws {
        let bytes = Self.hex("""
            08 00 0E
               C1 00 01
               C1 01 00
               83 02
                  41 7F 07
               C1 03 7F
            08 02 12
               C1 00 03
               C1 01 00
               87 02
                  41 7F 07
                  61 01 36 01
               C1 03 7F
            """)
        // 08 00 0E: instance 0, 14 bytes = 3 + 3 + (2 + 3) + 3. 83 02: ACL (multiple resource 2),
        // 3 bytes: 41 7F 07 = ACL[127] = 7. C1 03 7F: Access Control Owner 127 (1 byte, ≤ 127).
        // 08 02 12: instance 2, 18 bytes = 3 + 3 + (2 + 7) + 3. 87 02: ACL, 7 bytes:
        // 41 7F 07 and 61 01 36 01 = 01 1 00 001: resource instance, 16-bit ID 0x0136 = 310, 1 byte: 1.
        let records = [
            record("/2/0/0", .integer(1)), record("/2/0/1", .integer(0)), record("/2/0/2/127", .integer(7)),
            record("/2/0/3", .integer(127)),
            record("/2/2/0", .integer(3)), record("/2/2/1", .integer(0)), record("/2/2/2/127", .integer(7)),
            record("/2/2/2/310", .integer(1)), record("/2/2/3", .integer(127)),
        ]
        try roundTrip(records, "/2", bytes)
    }

    /// TS §7.4.3 "Multiple Object Instance Request Examples", Server: one Server object instance.
    @Test func specServerInstance() throws {
        let bytes = Self.hex("08 00 0F C1 00 01 C4 01 00 01 51 80 C1 06 01 C1 07 55")
        // 08 00 0F: instance 0, 15 bytes. C1 00 01: Short Server ID 1. C4 01 00 01 51 80:
        // Lifetime 86400 = 0x00015180 (> 32767, so 4 bytes). C1 06 01: Notification Storing true.
        // C1 07 55: Binding "U".
        let records = [
            record("/1/0/0", .integer(1)), record("/1/0/1", .integer(86400)),
            record("/1/0/6", .boolean(true)), record("/1/0/7", .string("U")),
        ]
        try roundTrip(records, "/1", bytes)
    }

    /// TS §7.4.3 Objlnk example 1: an instance whose multiple resource 0 links to 66:0 and 66:1.
    @Test func specObjectLinkInstance() throws {
        let bytes = Self.hex("""
            88 00 0C
               44 00 00 42 00 00
               44 01 00 42 00 01
            C8 01 0D 38 36 31 33 38 30 30 37 35 35 35 30 30
            C4 02 12 34 56 78
            """)
        // 88 00 0C: multiple resource 0, 8-bit length 12 = 2 × 6. 44 = 01 0 00 100: resource
        // instance with 4 bytes: object 0x0042 = 66, instance 0 / 1. C8 01 0D: "8613800755500"
        // (13 bytes). C4 02: 0x12345678 = 305419896 (top bit 0: 4 bytes).
        let records = [
            record("/65/0/0/0", .objectLink(ObjectLink(objectID: 66, instanceID: 0))),
            record("/65/0/0/1", .objectLink(ObjectLink(objectID: 66, instanceID: 1))),
            record("/65/0/1", .string("8613800755500")),
            record("/65/0/2", .integer(0x1234_5678)),
        ]
        try roundTrip(records, "/65/0", bytes)
    }

    /// TS §7.4.3 Objlnk example 2: two instances of object 66, one linking to 67:0, one null.
    @Test func specObjectLinkObject() throws {
        let bytes = Self.hex("""
            08 00 26
               C8 00 0B 6D 79 53 65 72 76 69 63 65 20 31
               C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 34
               C4 02 00 43 00 00
            08 01 26
               C8 00 0B 6D 79 53 65 72 76 69 63 65 20 32
               C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 35
               C4 02 FF FF FF FF
            """)
        // Each instance: 3 + 11 ("myService n") + 3 + 15 ("Internet.15.23n") + 2 + 4 = 38 = 0x26.
        // C4 02 00 43 00 00: Objlnk 0x0043:0x0000 = 67:0; FF FF FF FF: the null link 65535:65535.
        let records = [
            record("/66/0/0", .string("myService 1")), record("/66/0/1", .string("Internet.15.234")),
            record("/66/0/2", .objectLink(ObjectLink(objectID: 67, instanceID: 0))),
            record("/66/1/0", .string("myService 2")), record("/66/1/1", .string("Internet.15.235")),
            record("/66/1/2", .objectLink(.null)),
        ]
        try roundTrip(records, "/66", bytes)
    }

    /// Single-resource reads: the resource TLV alone; a multiple resource in its wrapper.
    @Test func resourceLevelPayloads() throws {
        // Read /3/0/0: C8 00 14 + the 20 bytes (the first line of the spec example).
        try roundTrip([record("/3/0/0", .string("Open Mobile Alliance"))], "/3/0/0",
                      Array(Self.deviceInstanceBytes[0..<23]))
        // Read /3/0/6: 86 06 41 00 01 41 01 05 (the multiple-resource TLV of the spec example).
        try roundTrip([record("/3/0/6/0", .integer(1)), record("/3/0/6/1", .integer(5))], "/3/0/6",
                      Self.hex("86 06 41 00 01 41 01 05"))
        // Read /3/0/6/1: 41 01 05.
        try roundTrip([record("/3/0/6/1", .integer(5))], "/3/0/6/1", Self.hex("41 01 05"))
        // Write /3/0/6 with bare resource instances (no wrapper) is accepted too.
        #expect(try decode(Self.hex("41 00 01 41 01 05"), "/3/0/6")
            == [record("/3/0/6/0", .integer(1)), record("/3/0/6/1", .integer(5))])
        // …and a resource payload wrapped in its instance TLV: 03 00 | C1 09 64.
        #expect(try decode(Self.hex("03 00 C1 09 64"), "/3/0/9") == [record("/3/0/9", .integer(100))])
        #expect(decodeError(Self.hex("03 01 C1 09 64"), "/3/0/9") == .invalidPath)
        // The TLV must be for the requested resource / instance.
        #expect(decodeError(Self.hex("C1 0A 0F"), "/3/0/9") == .invalidPath)
        #expect(decodeError(Self.hex("41 00 05"), "/3/0/6/1") == .invalidPath)
        // An empty multiple resource: no records; an empty single resource: an error.
        #expect(try decode([], "/3/0/6") == [])
        #expect(try decode(Self.hex("80 06"), "/3/0/6") == [])
        #expect(decodeError([], "/3/0/9") == .malformed)
    }

    // MARK: - Hand-computed vectors

    /// A multi-instance resource with one instance is still wrapped in a type-10 TLV.
    @Test func singleInstanceOfMultipleResourceIsWrapped() throws {
        // 83 0A = 10 0 00 011: multiple resource 10, 3 bytes; 41 00 05 = instance 0, 1 byte: 5.
        try roundTrip([record("/1000/0/10/0", .integer(5))], "/1000/0", Self.hex("83 0A 41 00 05"))
        try roundTrip([record("/1000/0/10/0", .integer(5))], "/1000/0/10", Self.hex("83 0A 41 00 05"))
        try roundTrip([record("/1000/0/10/0", .integer(5))], "/1000/0/10/0", Self.hex("41 00 05"))
    }

    /// Every length class: 0–7 in the type byte, then 8-, 16- and 24-bit length fields.
    @Test func lengthClasses() throws {
        // C0 00: resource 0, length 0 → the empty string.
        try roundTrip([record("/1000/0/0", .string(""))], "/1000/0/0", Self.hex("C0 00"))
        // C7 00 + 7 bytes: 11 0 00 111.
        try roundTrip([record("/1000/0/0", .string("abcdefg"))], "/1000/0/0",
                      Self.hex("C7 00 61 62 63 64 65 66 67"))
        // 8 bytes no longer fit bits 2–0: C8 00 08 + 8 bytes.
        try roundTrip([record("/1000/0/0", .string("abcdefgh"))], "/1000/0/0",
                      Self.hex("C8 00 08 61 62 63 64 65 66 67 68"))
        // 255 bytes: the largest 8-bit length, C8 01 FF.
        let b255 = [UInt8](repeating: 0xAB, count: 255)
        try roundTrip([record("/1000/0/1", .opaque(b255))], "/1000/0/1", Self.hex("C8 01 FF") + b255)
        // 256 bytes: 16-bit length, D0 = 11 0 10 000, then 01 00.
        let b256 = [UInt8](repeating: 0xCD, count: 256)
        try roundTrip([record("/1000/0/1", .opaque(b256))], "/1000/0/1", Self.hex("D0 01 01 00") + b256)
        // 65535 bytes: D0 01 FF FF.
        let b65535 = [UInt8](repeating: 0x01, count: 65535)
        try roundTrip([record("/1000/0/1", .opaque(b65535))], "/1000/0/1", Self.hex("D0 01 FF FF") + b65535)
        // 65536 bytes: 24-bit length, D8 = 11 0 11 000, then 01 00 00.
        let b65536 = [UInt8](repeating: 0x02, count: 65536)
        try roundTrip([record("/1000/0/1", .opaque(b65536))], "/1000/0/1", Self.hex("D8 01 01 00 00") + b65536)
        // A non-minimal length field is read too: 3 bytes announced with an 8-bit field (C8 … 03).
        #expect(try decode(Self.hex("C8 00 03 61 62 63"), "/1000/0/0") == [record("/1000/0/0", .string("abc"))])
        // Bits 2–0 are ignored when a length field is present: CB = C8 | 3, length from the field.
        #expect(try decode(Self.hex("CB 00 01 61"), "/1000/0/0") == [record("/1000/0/0", .string("a"))])
    }

    @Test func tooLargeForTwentyFourBits() {
        let huge = [UInt8](repeating: 0, count: 0x100_0000)
        #expect(encodeError([record("/1000/0/1", .opaque(huge))], "/1000/0/1") == .tooLarge)
    }

    /// 16-bit identifiers: bit 5 set, the ID in two bytes.
    @Test func sixteenBitIdentifiers() throws {
        // Resource 300 = 0x012C: E1 = 11 1 00 001, 01 2C, "x".
        try roundTrip([record("/1000/0/300", .string("x"))], "/1000/0", Self.hex("E1 01 2C 78"))
        // 16-bit ID and 16-bit length: F0 = 11 1 10 000, 01 2C, 01 00, 256 × "a".
        let long = String(repeating: "a", count: 256)
        try roundTrip([record("/1000/0/300", .string(long))], "/1000/0",
                      Self.hex("F0 01 2C 01 00") + Array(long.utf8))
        // Object instance 256: 23 = 00 1 00 011, 01 00, then C1 02 01 (resource 2 = 1).
        try roundTrip([record("/1000/256/2", .integer(1))], "/1000", Self.hex("23 01 00 C1 02 01"))
        // Resource instance 65534 of resource 10: 84 0A (4 bytes) wraps 61 FF FE 07 (01 1 00 001).
        try roundTrip([record("/1000/0/10/65534", .integer(7))], "/1000/0", Self.hex("84 0A 61 FF FE 07"))
        // A 16-bit field holding a small ID is read as that ID: E1 00 02 05 = resource 2.
        #expect(try decode(Self.hex("E1 00 02 05"), "/1000/0") == [record("/1000/0/2", .integer(5))])
    }

    @Test func reservedIdentifier65535() {
        // E1 FF FF 01: resource 65535.
        #expect(decodeError(Self.hex("E1 FF FF 01"), "/1000/0") == .invalidPath)
        // 20 FF FF: object instance 65535 (empty).
        #expect(decodeError(Self.hex("20 FF FF"), "/1000") == .invalidPath)
        // 84 0A 61 FF FF 07: resource instance 65535.
        #expect(decodeError(Self.hex("84 0A 61 FF FF 07"), "/1000/0") == .invalidPath)
        #expect(encodeError([LwM2MRecord(LwM2MPath(1000, 0, 65535), .integer(1))], "/1000/0") == .invalidPath)
    }

    /// Integers: two's complement in the smallest of 1, 2, 4, 8 bytes, at every boundary.
    @Test(arguments: [
        (Int64(0), "C1 02 00"),
        (-1, "C1 02 FF"),
        (127, "C1 02 7F"),                                   // Int8.max
        (128, "C2 02 00 80"),                                // needs a 0 sign byte
        (-128, "C1 02 80"),                                  // Int8.min
        (-129, "C2 02 FF 7F"),
        (32767, "C2 02 7F FF"),                              // Int16.max
        (32768, "C4 02 00 00 80 00"),
        (-32768, "C2 02 80 00"),
        (-32769, "C4 02 FF FF 7F FF"),
        (2_147_483_647, "C4 02 7F FF FF FF"),                // Int32.max
        (2_147_483_648, "C8 02 08 00 00 00 00 80 00 00 00"), // 2^31: 8 bytes, 8-bit length field
        (-2_147_483_648, "C4 02 80 00 00 00"),               // Int32.min
        (-2_147_483_649, "C8 02 08 FF FF FF FF 7F FF FF FF"),
        (Int64.max, "C8 02 08 7F FF FF FF FF FF FF FF"),
        (Int64.min, "C8 02 08 80 00 00 00 00 00 00 00"),
    ])
    func integerSizes(value: Int64, bytes: String) throws {
        try roundTrip([record("/1000/0/2", .integer(value))], "/1000/0/2", Self.hex(bytes))
        // Time uses the same encoding (resource 6: C1 06 …).
        var timeBytes = Self.hex(bytes)
        timeBytes[1] = 0x06
        try roundTrip([record("/1000/0/6", .time(value))], "/1000/0/6", timeBytes)
    }

    @Test func integerWidthsOtherThan1248AreRejected() throws {
        #expect(decodeError(Self.hex("C0 02"), "/1000/0/2") == .typeMismatch)
        #expect(decodeError(Self.hex("C3 02 00 00 01"), "/1000/0/2") == .typeMismatch)
        #expect(decodeError(Self.hex("C5 02 00 00 00 00 01"), "/1000/0/2") == .typeMismatch)
        #expect(decodeError(Self.hex("C8 02 09 00 00 00 00 00 00 00 00 01"), "/1000/0/2") == .typeMismatch)
        // Non-minimal but allowed widths decode: 4 bytes holding 5.
        #expect(try decode(Self.hex("C4 02 00 00 00 05"), "/1000/0/2") == [record("/1000/0/2", .integer(5))])
    }

    /// Unsigned integers are written as non-negative two's complement: 200 → 00 C8.
    @Test(arguments: [
        (UInt64(0), "C1 03 00"),
        (127, "C1 03 7F"),
        (128, "C2 03 00 80"),
        (200, "C2 03 00 C8"),
        (255, "C2 03 00 FF"),
        (65535, "C4 03 00 00 FF FF"),
        (4_294_967_295, "C8 03 08 00 00 00 00 FF FF FF FF"),
        (UInt64(Int64.max), "C8 03 08 7F FF FF FF FF FF FF FF"),
    ])
    func unsignedWidening(value: UInt64, bytes: String) throws {
        try roundTrip([record("/1000/0/3", .unsignedInteger(value))], "/1000/0/3", Self.hex(bytes))
    }

    @Test func unsignedEdgeCases() throws {
        // 2^63 and above cannot be written as a non-negative 64-bit two's complement number.
        #expect(encodeError([record("/1000/0/3", .unsignedInteger(1 << 63))], "/1000/0/3") == .unsupported)
        #expect(encodeError([record("/1000/0/3", .unsignedInteger(.max))], "/1000/0/3") == .unsupported)
        // Peers that do not widen (C8 for 200, FF FF for 65535) are read as unsigned.
        #expect(try decode(Self.hex("C1 03 C8"), "/1000/0/3") == [record("/1000/0/3", .unsignedInteger(200))])
        #expect(try decode(Self.hex("C2 03 FF FF"), "/1000/0/3") == [record("/1000/0/3", .unsignedInteger(65535))])
        #expect(try decode(Self.hex("C4 03 FF FF FF FF"), "/1000/0/3")
            == [record("/1000/0/3", .unsignedInteger(4_294_967_295))])
        // An 8-byte value with the top bit set is negative or ≥ 2^63: rejected.
        #expect(decodeError(Self.hex("C8 03 08 80 00 00 00 00 00 00 00"), "/1000/0/3") == .typeMismatch)
        #expect(decodeError(Self.hex("C3 03 00 00 01"), "/1000/0/3") == .typeMismatch)
    }

    /// Floats: 4 bytes when exact in binary32, else 8; both widths decode.
    @Test func floats() throws {
        // 1.5 = binary32 0x3FC00000 (sign 0, exponent 127 = 0x7F, fraction .1b).
        try roundTrip([record("/1000/0/4", .float(1.5))], "/1000/0/4", Self.hex("C4 04 3F C0 00 00"))
        // -2.5 = binary32 0xC0200000 (sign 1, exponent 128, fraction .01b).
        try roundTrip([record("/1000/0/4", .float(-2.5))], "/1000/0/4", Self.hex("C4 04 C0 20 00 00"))
        // 0.1 is not exact in binary32: binary64 0x3FB999999999999A, 8 bytes with an 8-bit length.
        try roundTrip([record("/1000/0/4", .float(0.1))], "/1000/0/4",
                      Self.hex("C8 04 08 3F B9 99 99 99 99 99 9A"))
        // +∞ is exact in binary32: 0x7F800000; −0 keeps its sign: 0x80000000.
        try roundTrip([record("/1000/0/4", .float(.infinity))], "/1000/0/4", Self.hex("C4 04 7F 80 00 00"))
        try roundTrip([record("/1000/0/4", .float(-0.0))], "/1000/0/4", Self.hex("C4 04 80 00 00 00"))
        #expect(try decode(Self.hex("C4 04 80 00 00 00"), "/1000/0/4").first?.value.numericValue?.sign == .minus)
        // A 4-byte value written by a peer as 8 bytes decodes the same: 1.5 = 0x3FF8000000000000.
        #expect(try decode(Self.hex("C8 04 08 3F F8 00 00 00 00 00 00"), "/1000/0/4")
            == [record("/1000/0/4", .float(1.5))])
        // 0.1 as binary32 0x3DCCCCCD decodes to the binary32 value, widened.
        #expect(try decode(Self.hex("C4 04 3D CC CC CD"), "/1000/0/4")
            == [record("/1000/0/4", .float(Double(Float(0.1))))])
        // NaN (binary64 0x7FF8000000000000) is carried as 8 bytes and keeps its bits.
        let nanBytes = Self.hex("C8 04 08 7F F8 00 00 00 00 00 00")
        #expect(try TLV.encode([record("/1000/0/4", .float(.nan))], base: Self.path("/1000/0/4")) == nanBytes)
        let nan = try decode(nanBytes, "/1000/0/4")
        #expect(Kit.sameRecords(nan, [record("/1000/0/4", .float(.nan))]))
        // Other widths are not floats.
        #expect(decodeError(Self.hex("C2 04 3F C0"), "/1000/0/4") == .typeMismatch)
        #expect(decodeError(Self.hex("C0 04"), "/1000/0/4") == .typeMismatch)
    }

    @Test func booleans() throws {
        try roundTrip([record("/1000/0/5", .boolean(true))], "/1000/0/5", Self.hex("C1 05 01"))
        try roundTrip([record("/1000/0/5", .boolean(false))], "/1000/0/5", Self.hex("C1 05 00"))
        #expect(decodeError(Self.hex("C1 05 02"), "/1000/0/5") == .typeMismatch)
        #expect(decodeError(Self.hex("C1 05 FF"), "/1000/0/5") == .typeMismatch)
        #expect(decodeError(Self.hex("C2 05 00 01"), "/1000/0/5") == .typeMismatch)
        #expect(decodeError(Self.hex("C0 05"), "/1000/0/5") == .typeMismatch)
    }

    @Test func objectLinksAndTexts() throws {
        // 3:0 = 0003 0000.
        try roundTrip([record("/1000/0/7", .objectLink(ObjectLink(objectID: 3, instanceID: 0)))], "/1000/0/7",
                      Self.hex("C4 07 00 03 00 00"))
        #expect(decodeError(Self.hex("C3 07 00 03 00"), "/1000/0/7") == .typeMismatch)
        #expect(decodeError(Self.hex("C5 07 00 03 00 00 00"), "/1000/0/7") == .typeMismatch)
        // Corelnk is UTF-8 text: "</3>" = 3C 2F 33 3E.
        try roundTrip([record("/1000/0/8", .coreLink("</3>"))], "/1000/0/8", Self.hex("C4 08 3C 2F 33 3E"))
        // "ü" = C3 BC; a lone C3 is not UTF-8.
        try roundTrip([record("/1000/0/0", .string("ü"))], "/1000/0/0", Self.hex("C2 00 C3 BC"))
        #expect(decodeError(Self.hex("C1 00 C3"), "/1000/0/0") == .typeMismatch)
        #expect(decodeError(Self.hex("C1 08 FF"), "/1000/0/8") == .typeMismatch)
        // Empty opaque.
        try roundTrip([record("/1000/0/1", .opaque([]))], "/1000/0/1", Self.hex("C0 01"))
    }

    // MARK: - Payload shapes

    @Test func writeOnInstanceAcceptsBothForms() throws {
        let expected = [record("/1000/0/2", .integer(5))]
        #expect(try decode(Self.hex("C1 02 05"), "/1000/0") == expected)
        // 03 00 = object instance 0, 3 bytes.
        #expect(try decode(Self.hex("03 00 C1 02 05"), "/1000/0") == expected)
        #expect(decodeError(Self.hex("03 01 C1 02 05"), "/1000/0") == .invalidPath)
        // Two instance TLVs, or an instance TLV beside resources, are not a Write on one instance.
        #expect(decodeError(Self.hex("03 00 C1 02 05 03 00 C1 02 05"), "/1000/0") == .malformed)
        #expect(decodeError(Self.hex("03 00 C1 02 05 C1 05 01"), "/1000/0") == .malformed)
        #expect(try decode([], "/1000/0") == [])
    }

    @Test func createOnObject() throws {
        // With instance TLVs (several instances at once).
        #expect(try decode(Self.hex("03 05 C1 02 05 03 06 C1 02 06"), "/1000")
            == [record("/1000/5/2", .integer(5)), record("/1000/6/2", .integer(6))])
        // Without: the caller's new instance ID, or an error when it gave none.
        #expect(try decode(Self.hex("C1 02 05"), "/1000", implicitInstanceID: 9) == [record("/1000/9/2", .integer(5))])
        #expect(decodeError(Self.hex("C1 02 05"), "/1000") == .invalidPath)
        #expect(decodeError(Self.hex("C1 02 05 03 06 C1 02 06"), "/1000", implicitInstanceID: 9) == .malformed)
        #expect(decodeError(Self.hex("03 05 C1 02 05 03 05 C1 02 06"), "/1000") == .malformed)
    }

    @Test func resourceTLVsMustMatchTheModel() {
        // A single-value TLV for a multiple resource, and the reverse.
        #expect(decodeError(Self.hex("C1 06 01"), "/3/0") == .invalidPath)
        #expect(decodeError(Self.hex("83 09 41 00 64"), "/3/0") == .invalidPath)
        #expect(decodeError(Self.hex("41 00 64"), "/3/0/9") == .invalidPath)
        #expect(decodeError(Self.hex("41 01 05"), "/3/0/9/1") == .invalidPath)
        // Unknown resource 99; executable resource 4 has no value.
        #expect(decodeError(Self.hex("C1 63 00"), "/3/0") == .unknownResource)
        #expect(decodeError(Self.hex("C1 04 00"), "/3/0") == .typeMismatch)
        // Duplicates.
        #expect(decodeError(Self.hex("C1 09 64 C1 09 64"), "/3/0") == .malformed)
        #expect(decodeError(Self.hex("86 06 41 00 01 41 00 05"), "/3/0") == .malformed)
        // The root cannot be decoded (no object IDs in TLV) or encoded.
        #expect(decodeError(Self.hex("C1 09 64"), "/") == .unsupported)
        #expect(encodeError([], "/") == .unsupported)
    }

    // MARK: - Robustness

    @Test func truncatedAtEveryOffset() throws {
        // Wrapped in its instance TLV, no proper prefix of the spec payload is complete.
        let wrapped = Self.hex("08 00 79") + Self.deviceInstanceBytes
        for cut in 1..<wrapped.count {
            #expect(decodeError(Array(wrapped[0..<cut]), "/3") == .truncated, "cut at \(cut)")
        }
        // Unwrapped, a cut at a TLV boundary is a valid shorter payload; elsewhere it throws.
        for cut in 0..<Self.deviceInstanceBytes.count {
            let prefix = Array(Self.deviceInstanceBytes[0..<cut])
            if let records = try? decode(prefix, "/3/0") {
                #expect(Array(Self.deviceInstanceRecords.prefix(records.count)) == records, "cut at \(cut)")
            } else {
                #expect(decodeError(prefix, "/3/0") == .truncated, "cut at \(cut)")
            }
        }
    }

    @Test func lengthsBeyondTheBuffer() {
        #expect(decodeError(Self.hex("C8 00 14 4F"), "/3/0") == .truncated)          // 20 announced, 1 there
        #expect(decodeError(Self.hex("C8 00"), "/3/0") == .truncated)                // length byte missing
        #expect(decodeError(Self.hex("D0 00 01"), "/3/0") == .truncated)             // 16-bit length cut
        #expect(decodeError(Self.hex("D8 00 FF FF FF 00"), "/3/0") == .truncated)    // 16 MiB announced
        #expect(decodeError(Self.hex("E1 01"), "/1000/0") == .truncated)             // 16-bit ID cut
        #expect(decodeError(Self.hex("C1"), "/3/0") == .truncated)                   // ID missing
        // A child running past its container (82 06: 2 bytes, but 41 00 01 needs 3).
        #expect(decodeError(Self.hex("82 06 41 00 01"), "/3/0") == .truncated)
        // Trailing garbage after a complete TLV: a partial header, or a second TLV.
        #expect(decodeError(Self.hex("C1 09 64 FF"), "/3/0/9") == .truncated)
        #expect(decodeError(Self.hex("C1 09 64 C1 0A 0F"), "/3/0/9") == .malformed)
        #expect(decodeError(Self.hex("41 01 05 41 00 01"), "/3/0/6/1") == .malformed)
    }

    @Test func nestingBeyondTheFormat() {
        // Object instance inside a multiple resource: 85 07 | 03 00 41 00 01.
        #expect(decodeError(Self.hex("85 07 03 00 41 00 01"), "/3/0") == .nestingTooDeep)
        // Object instance inside an object instance: 05 00 | 03 00 C1 09 64.
        #expect(decodeError(Self.hex("05 00 03 00 C1 09 64"), "/3") == .nestingTooDeep)
        // Multiple resource inside a multiple resource: 85 06 | 83 00 41 00 01.
        #expect(decodeError(Self.hex("85 06 83 00 41 00 01"), "/3/0") == .nestingTooDeep)
        // Resource value inside a multiple resource; resource instance directly in an instance.
        #expect(decodeError(Self.hex("83 06 C1 00 01"), "/3/0") == .malformed)
        #expect(decodeError(Self.hex("41 00 01"), "/3/0") == .malformed)
        // Resource TLVs at object level are resources without an instance.
        #expect(decodeError(Self.hex("03 00 C1 09 64 41 00 01"), "/3") == .malformed)
    }

    @Test func encoderRejectsRecordsThatDoNotFit() throws {
        let value = ResourceValue.integer(1)
        #expect(encodeError([record("/3/1/9", value)], "/3/0") == .invalidPath)             // outside base
        #expect(encodeError([LwM2MRecord(Self.path("/3/0"), value)], "/3") == .invalidPath) // not a leaf
        #expect(encodeError([record("/3/0/9", value), record("/3/0/9", value)], "/3/0") == .invalidPath)
        #expect(encodeError([record("/3/0/6", value), record("/3/0/6/0", value)], "/3/0") == .invalidPath)
        #expect(encodeError([], "/3/0/6/0") == .invalidPath)                                 // needs one
        #expect(try TLV.encode([], base: Self.path("/3")) == [])
        #expect(try TLV.encode([], base: Self.path("/3/0/6")) == [])
    }

    /// 100,000 seeded inputs for every base depth — random bytes under a resolver that knows
    /// every resource (type and multiplicity from the ID), and mutations of the vectors under
    /// the vectors' model: decoding never traps, and whatever decodes re-encodes and decodes to
    /// the same records.
    @Test func seededRandomPayloads() throws {
        var rng = SplitMix64(seed: 0x7C0D_EC11_5542)
        let corpus: [([UInt8], String)] = [
            (Self.deviceInstanceBytes, "/3/0"), (Self.hex("08 00 79") + Self.deviceInstanceBytes, "/3"),
            (Self.hex("08 00 0E C1 00 01 C1 01 00 83 02 41 7F 07 C1 03 7F"), "/2"),
            (Self.hex("88 00 0C 44 00 00 42 00 00 44 01 00 42 00 01 C4 02 12 34 56 78"), "/65/0"),
            (Self.hex("86 06 41 00 01 41 01 05"), "/3/0/6"), (Self.hex("41 01 05"), "/3/0/6/1"),
            (Self.hex("E1 01 2C 78 C1 05 01 C4 07 00 03 00 00 C2 03 00 C8"), "/1000/0"),
            (Self.hex("C8 04 08 3F B9 99 99 99 99 99 9A"), "/1000/0/4"), (Self.hex("C4 04 7F C0 00 01"), "/1000/0/4"),
        ]
        let bases = ["/3", "/3/0", "/3/0/1", "/3/0/4", "/3/0/5", "/3/0/5/0", "/3/0/9", "/1000", "/1000/7"]
            .map(Self.path)
        var decoded = (random: 0, mutated: 0)
        for iteration in 0..<100_000 {
            let bytes: [UInt8], base: LwM2MPath
            let type: (LwM2MPath) -> ResourceType?, isMultiple: (LwM2MPath) -> Bool
            if iteration % 2 == 0 {
                bytes = (0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                base = bases[Int.random(in: 0..<bases.count, using: &rng)]
                (type, isMultiple) = (Kit.moduloType, Kit.moduloMultiple)
            } else {
                let (original, basePath) = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
                var mutated = original
                for _ in 0..<Int.random(in: 1...2, using: &rng) where !mutated.isEmpty {
                    let index = Int.random(in: 0..<mutated.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: mutated[index] = UInt8.random(in: 0...255, using: &rng)
                    case 1: mutated[index] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                    case 2: mutated.remove(at: index)
                    default: mutated.insert(UInt8.random(in: 0...255, using: &rng), at: index)
                    }
                }
                (bytes, base) = (mutated, Self.path(basePath))
                (type, isMultiple) = (Kit.type, Kit.isMultiple)
            }
            let implicit: UInt16? = iteration % 3 == 0 ? 4 : nil
            guard let records = try? TLV.decode(bytes, base: base, implicitInstanceID: implicit,
                                                type: type, isMultiple: isMultiple)
            else { continue }
            if iteration % 2 == 0 { decoded.random += 1 } else { decoded.mutated += 1 }
            let encoded = try TLV.encode(records, base: base)
            let again = try TLV.decode(encoded, base: base, type: type, isMultiple: isMultiple)
            #expect(Kit.sameRecords(records, again), "input \(bytes) for \(base)")
        }
        // Enough inputs decode for the round trip to be exercised.
        #expect(decoded.random > 1_000 && decoded.mutated > 5_000, "\(decoded)")
    }
}
