import Testing
@testable import CoAP

// Issue 10, defect 1 audit: extreme integers in what a peer controls in CoAP — option values
// (Block1/Block2, Observe, Size1, uints of 5+ bytes), option deltas and lengths at the edges of
// their extended forms, URI ports — and the deadline arithmetic a peer-written period reaches.
@Suite struct ExtremeValueTests {
    @Test func instantPlusAHugeDurationSaturates() {
        // A deadline "now + Int64.max seconds" must be the end of time, not wrap into the past.
        #expect(Instant(nanoseconds: 1) + .seconds(Int64.max) == Instant(nanoseconds: .max))
        #expect(Instant(nanoseconds: 5_000_000_000) + .seconds(Int64.max / 2) == Instant(nanoseconds: .max))
        #expect(Instant(nanoseconds: -1) + .seconds(Int64.min) == Instant(nanoseconds: .min))
        #expect(Instant(nanoseconds: .max) + .nanoseconds(1) == Instant(nanoseconds: .max))
        #expect(Instant(nanoseconds: 10) + .nanoseconds(-3) == Instant(nanoseconds: 7))
        var deadline = Instant(nanoseconds: 1_000)
        deadline += .seconds(Int64.max)
        #expect(deadline > Instant(nanoseconds: 1_000))
    }

    @Test func uintOptionValuesAtTheEdges() {
        #expect(decodeUInt([0xFF, 0xFF, 0xFF, 0xFF]) == UInt32.max)
        #expect(decodeUInt([0x01, 0x00, 0x00, 0x00, 0x00]) == nil)  // 2^32: 5 bytes
        #expect(decodeUInt(Array(repeating: 0xFF, count: 8)) == nil)  // UInt64.max
        #expect(decodeUInt([]) == 0)
        // Block values: NUM above 2^20 - 1 or SZX 7 are refused; the largest offset fits 32 bits.
        #expect(BlockValue(rawValue: UInt32.max) == nil)
        #expect(BlockValue(rawValue: 0x00FF_FFF7) == nil)
        let last = BlockValue(rawValue: 0x00FF_FFF6)!
        #expect(last.number == BlockValue.maximumNumber && last.size == 1024)
        #expect(last.offset == Int(BlockValue.maximumNumber) * 1024 && last.offset < Int(Int32.max))
        #expect(BlockValue.szx(forSize: Int.max) == 6 && BlockValue.szx(forSize: Int.min) == 0)
    }

    @Test func optionDeltasAndLengthsAtTheEdges() {
        // Delta 14 with the largest extension (269 + 65535) overflows the 16-bit option number.
        #expect(throws: CoAPDecodingError.optionNumberOverflow) {
            try CoAPMessage(decoding: [0x40, 0x01, 0x00, 0x01, 0xE0, 0xFF, 0xFF])
        }
        // Option 65535 is still an option number (delta 14: 269 + 65266).
        let edge = try? CoAPMessage(decoding: [0x40, 0x01, 0x00, 0x01, 0xE0, 0xFE, 0xF2])
        #expect(edge?.options.first?.number.rawValue == 65535)
        // Two deltas that sum past 65535.
        #expect(throws: CoAPDecodingError.optionNumberOverflow) {
            try CoAPMessage(decoding: [0x40, 0x01, 0x00, 0x01, 0xE0, 0xFE, 0xF2, 0x10])
        }
        // Length 14 announcing 65804 bytes with none there.
        #expect(throws: CoAPDecodingError.truncatedOption) {
            try CoAPMessage(decoding: [0x40, 0x01, 0x00, 0x01, 0x1E, 0xFF, 0xFF])
        }
        // Observe (3 bytes max on the wire, 4 accepted as a uint) at its maximum.
        let observe = try? CoAPMessage(decoding: [0x40, 0x01, 0x00, 0x01, 0x64, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(observe?.observe == UInt32.max)
    }

    @Test func uriPortsAtTheEdges() throws {
        #expect(try CoAPURI("coap://[::1]:65535/rd").port == 65535)
        for text in ["coap://h:65536", "coap://h:0", "coap://h:-1", "coap://h:18446744073709551616",
                     "coap://[::1]:4294967296", "coap://h:+5"] {
            #expect(throws: CoAPURIError.self, "\(text)") { try CoAPURI(text) }
        }
    }
}
