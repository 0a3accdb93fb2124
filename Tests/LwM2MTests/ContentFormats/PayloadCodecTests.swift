import CoAP
import Testing
@testable import LwM2M

/// The facade over every content format, with the OMA schema typing the values.
@Suite struct PayloadCodecTests {
    @Test(arguments: PayloadCodec.hierarchicalFormats)
    func deviceInstanceRoundTripsThroughEveryHierarchicalFormat(format: UInt16) throws {
        let payload = try PayloadCodec.encode(deviceRecords, base: LwM2MPath(3, 0), format: format)
        let decoded = try PayloadCodec.decode(payload, base: LwM2MPath(3, 0), format: format, schema: .oma)
        #expect(decoded.sorted { $0.path < $1.path } == deviceRecords.sorted { $0.path < $1.path })
    }

    @Test func singleResourceAsTextAndBack() throws {
        let payload = try PayloadCodec.encode([deviceRecords[0]], base: LwM2MPath(3, 0, 0), format: ContentFormat.textPlain)
        #expect(payload == Array("Open Mobile Alliance".utf8))
        let time = try PayloadCodec.decode(Array("1367491215".utf8), base: LwM2MPath(3, 0, 13),
                                           format: ContentFormat.textPlain, schema: .oma)
        #expect(time == [LwM2MRecord(LwM2MPath(3, 0, 13), .time(1_367_491_215))])
    }

    @Test func responseFormatNegotiation() {
        let schema = ResourceSchema.oma
        // No Accept: a single value as text (opaque as octets), anything larger as TLV.
        #expect(PayloadCodec.responseFormat(accept: nil, base: LwM2MPath(3, 0, 0), schema: schema, singleValue: true)
                == ContentFormat.textPlain)
        #expect(PayloadCodec.responseFormat(accept: nil, base: LwM2MPath(5, 0, 0), schema: schema, singleValue: true)
                == ContentFormat.octetStream)  // Firmware Update Package is opaque
        #expect(PayloadCodec.responseFormat(accept: nil, base: LwM2MPath(3, 0), schema: schema, singleValue: false)
                == ContentFormat.lwm2mTLV)
        // Accept honoured when possible, nil (→ 4.06) when not.
        #expect(PayloadCodec.responseFormat(accept: ContentFormat.senmlCBOR, base: LwM2MPath(3, 0), schema: schema,
                                            singleValue: false) == ContentFormat.senmlCBOR)
        #expect(PayloadCodec.responseFormat(accept: ContentFormat.textPlain, base: LwM2MPath(3, 0), schema: schema,
                                            singleValue: false) == nil)
        #expect(PayloadCodec.responseFormat(accept: ContentFormat.octetStream, base: LwM2MPath(3, 0, 0), schema: schema,
                                            singleValue: true) == nil)
        #expect(PayloadCodec.responseFormat(accept: 9999, base: LwM2MPath(3, 0, 0), schema: schema,
                                            singleValue: true) == nil)
    }

    @Test func unknownFormatsAndBadPayloadsAreTypedErrors() {
        #expect(throws: ContentFormatError.self) {
            try PayloadCodec.encode(deviceRecords, base: LwM2MPath(3, 0), format: 9999)
        }
        #expect(throws: ContentFormatError.self) {
            try PayloadCodec.decode([0xFF, 0x00], base: LwM2MPath(3, 0), format: ContentFormat.senmlCBOR, schema: .oma)
        }
        #expect(throws: ContentFormatError.self) {
            try PayloadCodec.decode(Array("abc".utf8), base: LwM2MPath(3, 0, 9), format: ContentFormat.textPlain,
                                    schema: .oma)  // Battery Level is an integer
        }
    }

    @Test func schemaFromDefinitions() {
        let schema = ResourceSchema.oma
        #expect(schema.type(of: LwM2MPath(3, 0, 7, 1)) == .integer)
        #expect(schema.isMultiple(LwM2MPath(3, 0, 7)))
        #expect(!schema.isMultiple(LwM2MPath(3, 0, 9)))
        #expect(schema.type(of: LwM2MPath(3, 0)) == nil)
        #expect(schema.type(of: LwM2MPath(9999, 0, 1)) == nil)
    }
}
