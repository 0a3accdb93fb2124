import Testing
@testable import CoAP

/// A Block1/Block2 value and its RFC 7959 §2.2 uint: NUM << 4 | M << 3 | SZX.
struct BlockCase: Sendable, CustomTestStringConvertible {
    let number: UInt32
    let more: Bool
    let szx: UInt8
    let raw: UInt32
    let wire: [UInt8]  // shortest uint encoding of `raw`
    var testDescription: String { "\(number)/\(more ? 1 : 0)/szx\(szx)" }
}

let blockCases: [BlockCase] = [
    BlockCase(number: 0, more: false, szx: 0, raw: 0x00, wire: []),
    BlockCase(number: 0, more: true, szx: 6, raw: 0x0e, wire: [0x0e]),
    BlockCase(number: 0, more: false, szx: 2, raw: 0x02, wire: [0x02]),
    BlockCase(number: 1, more: false, szx: 2, raw: 0x12, wire: [0x12]),
    BlockCase(number: 2, more: true, szx: 6, raw: 0x2e, wire: [0x2e]),
    BlockCase(number: 15, more: true, szx: 5, raw: 0xfd, wire: [0xfd]),
    BlockCase(number: 16, more: false, szx: 0, raw: 0x100, wire: [0x01, 0x00]),
    BlockCase(number: 4095, more: true, szx: 4, raw: 0xfffc, wire: [0xff, 0xfc]),
    BlockCase(number: 4096, more: false, szx: 1, raw: 0x1_0001, wire: [0x01, 0x00, 0x01]),
    BlockCase(number: BlockValue.maximumNumber, more: true, szx: 6, raw: 0xff_fffe, wire: [0xff, 0xff, 0xfe]),
]

extension CodecTests {
    @Suite struct BlockValues {
        @Test("Raw value round trip", arguments: blockCases)
        func rawValueRoundTrip(_ c: BlockCase) throws {
            let block = BlockValue(number: c.number, more: c.more, szx: c.szx)
            #expect(block.rawValue == c.raw)
            let decoded = try #require(BlockValue(rawValue: c.raw))
            #expect(decoded == block)
            #expect(decoded.number == c.number && decoded.more == c.more && decoded.szx == c.szx)
            #expect(encodeUInt(block.rawValue) == c.wire)
        }

        @Test("Block2 option on the wire", arguments: blockCases)
        func block2OnTheWire(_ c: BlockCase) throws {
            var message = CoAPMessage(type: .acknowledgement, code: .content, messageID: 0x0203)
            message.block2 = BlockValue(number: c.number, more: c.more, szx: c.szx)
            // Block2 = 23: delta nibble 13, extension 23 − 13 = 0x0a; length nibble = value length.
            let expected: [UInt8] = [0x60, 0x45, 0x02, 0x03, 0xd0 | UInt8(c.wire.count), 0x0a] + c.wire
            #expect(try message.encoded() == expected)
            let decoded = try CoAPMessage(decoding: expected)
            #expect(decoded.block2 == BlockValue(number: c.number, more: c.more, szx: c.szx))
            #expect(decoded.block1 == nil)
        }

        @Test func block1AndBlock2Together() throws {
            var message = CoAPMessage(type: .confirmable, code: .put, messageID: 0x0001)
            message.block1 = BlockValue(number: 1, more: true, szx: 2)  // 0x1a
            message.block2 = BlockValue(number: 0, more: false, szx: 6)  // 0x06
            message.size1 = 200
            // Block2 (23): d1 0a 06; Block1 (27): delta 4 → 41 1a; Size1 (60): delta 33 → d1 14 c8.
            let expected: [UInt8] = [0x40, 0x03, 0x00, 0x01, 0xd1, 0x0a, 0x06, 0x41, 0x1a, 0xd1, 0x14, 0xc8]
            #expect(try message.encoded() == expected)
            let decoded = try CoAPMessage(decoding: expected)
            #expect(decoded.block1?.number == 1)
            #expect(decoded.block1?.more == true)
            #expect(decoded.block1?.size == 64)
            #expect(decoded.block2?.size == 1024)
            #expect(decoded.size1 == 200)
            message.block1 = nil
            #expect(!message.contains(.block1))
        }

        @Test("Size per SZX", arguments: [(0, 16), (1, 32), (2, 64), (3, 128), (4, 256), (5, 512), (6, 1024)] as [(UInt8, Int)])
        func sizePerSZX(_ szx: UInt8, _ size: Int) {
            #expect(BlockValue(number: 0, more: false, szx: szx).size == size)
            #expect(BlockValue.szx(forSize: size) == szx)
        }

        @Test("Offset", arguments: [
            (0, 6, 0), (1, 0, 16), (3, 2, 192), (10, 6, 10_240), (BlockValue.maximumNumber, 6, 1_073_740_800),
        ] as [(UInt32, UInt8, Int)])
        func offset(_ number: UInt32, _ szx: UInt8, _ offset: Int) {
            #expect(BlockValue(number: number, more: true, szx: szx).offset == offset)
        }

        @Test("SZX 7 and numbers over 20 bits are rejected", arguments: [
            0x07, 0x0f, 0x17, 0xff_fff7, 0xff_ffff,  // SZX 7 (BERT, reserved over UDP)
            0x100_0000, 0x100_0006, 0xffff_fff6,     // NUM ≥ 2^20
        ] as [UInt32])
        func rejected(_ raw: UInt32) {
            #expect(BlockValue(rawValue: raw) == nil)
        }

        @Test func reservedBlockOnTheWireDecodesButIsNotABlock() throws {
            // A Block2 with SZX 7 is a well-formed option; only the accessor rejects it.
            let szx7 = try CoAPMessage(decoding: [0x60, 0x45, 0x00, 0x01, 0xd1, 0x0a, 0x07])
            #expect(szx7.contains(.block2))
            #expect(szx7.block2 == nil)
            // A 4-byte Block1 whose number needs 21 bits.
            let wide = try CoAPMessage(decoding: [0x40, 0x03, 0x00, 0x01, 0xd4, 0x0e, 0x01, 0x00, 0x00, 0x00])
            #expect(wide.uintValue(.block1) == 0x100_0000)
            #expect(wide.block1 == nil)
            // Leading zero bytes are fine: 00 00 2e is 2/1/1024.
            let padded = try CoAPMessage(decoding: [0x60, 0x45, 0x00, 0x01, 0xd3, 0x0a, 0x00, 0x00, 0x2e])
            #expect(padded.block2 == BlockValue(number: 2, more: true, szx: 6))
        }

        @Test("szx(forSize:) picks the largest block that fits", arguments: [
            (0, 0), (1, 0), (15, 0), (16, 0), (17, 0), (31, 0), (32, 1), (63, 1), (64, 2), (100, 2),
            (511, 4), (512, 5), (1023, 5), (1024, 6), (1025, 6), (65536, 6), (Int.max, 6),
        ] as [(Int, UInt8)])
        func szxForSize(_ bytes: Int, _ szx: UInt8) {
            #expect(BlockValue.szx(forSize: bytes) == szx)
            if bytes >= 16 { #expect(BlockValue(number: 0, more: false, szx: szx).size <= bytes) }
        }

        @Test func descriptions() {
            #expect(BlockValue(number: 2, more: true, szx: 6).description == "2/1/1024")
            #expect(BlockValue(number: 0, more: false, szx: 0).description == "0/0/16")
        }
    }
}
