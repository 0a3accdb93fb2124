import Testing
@testable import CoAP

/// Draws for the randomised codec tests, on the endpoint's seedable SplitMix64: the same seed
/// always yields the same messages, on every platform.
extension SplitMix64 {
    /// A uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// True with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    /// `count` random bytes, eight per draw.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            var word = next()
            for _ in 0..<min(8, count - out.count) {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...choices.count - 1)] }
}

/// Random well-formed messages covering every header field, all option header classes and
/// (when `allowLong`) option values up to the format maximum.
func randomMessage(_ rng: inout SplitMix64, allowLong: Bool = true) -> CoAPMessage {
    let type = MessageType(rawValue: UInt8(rng.int(0...3)))!
    let messageID = UInt16(truncatingIfNeeded: rng.next())
    if rng.chance(8) {
        return CoAPMessage.empty(type, messageID: messageID)  // 0.00 carries nothing else
    }
    var code: CoAPCode
    if rng.chance(50) {
        code = rng.pick([.get, .post, .put, .delete, .fetch, .iPatch, .content, .changed, .created,
                         .continue, .badRequest, .notFound, .requestEntityIncomplete, .internalServerError])
    } else {
        repeat { code = CoAPCode(rawValue: UInt8(truncatingIfNeeded: rng.next())) } while code.isReserved || code.isEmpty
    }
    let token = Token(rng.bytes(rng.int(0...8)))!

    var options: [CoAPOption] = []
    for _ in 0..<rng.int(0...8) {
        let number: UInt16 = switch rng.int(0...5) {
        case 0: rng.pick([0, 1, 11, 12, 13, 14, 23, 27, 60, 258, 268, 269, 270, 538, 65534, 65535])
        case 1: UInt16(rng.int(0...64))
        case 2: UInt16(rng.int(0...1000))
        case 3: options.last?.number.rawValue ?? 11  // a repeat
        default: UInt16(truncatingIfNeeded: rng.next())
        }
        let lengthRoll = rng.int(0...199)
        let length: Int = switch lengthRoll {
        case 0 where allowLong: rng.chance(25) ? CoAPMessage.maximumOptionLength : rng.int(269...CoAPMessage.maximumOptionLength)
        case 0..<20: rng.pick([12, 13, 14, 267, 268, 269, 270])
        case 20..<50: rng.int(13...300)
        default: rng.int(0...12)
        }
        options.append(CoAPOption(OptionNumber(number), rng.bytes(length)))
    }

    let payloadLength = switch rng.int(0...99) {
    case 0..<40: 0
    case 40..<90: rng.int(1...64)
    case 90..<99: rng.int(65...1500)
    default: allowLong ? rng.int(1501...70_000) : rng.int(65...1500)
    }
    return CoAPMessage(type: type, code: code, messageID: messageID, token: token,
                       options: options, payload: rng.bytes(payloadLength))
}

/// The encoded size computed independently from RFC 7252 §3.1: 1, 2 or 3 header bytes per
/// delta/length class, so a wrong class choice in the encoder changes the length.
func expectedEncodedSize(_ message: CoAPMessage) -> Int {
    func extended(_ value: Int) -> Int { value < 13 ? 0 : (value < 269 ? 1 : 2) }
    var size = 4 + message.token.count
    var previous = 0
    for option in message.options {
        let number = Int(option.number.rawValue)
        size += 1 + extended(number - previous) + extended(option.value.count) + option.value.count
        previous = number
    }
    return size + (message.payload.isEmpty ? 0 : 1 + message.payload.count)
}

/// Records at most a few failures per test so a systematic bug does not flood the log.
struct FailureBudget {
    var remaining = 5
    mutating func record(_ comment: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        if remaining > 0 { Issue.record(Comment(rawValue: comment()), sourceLocation: sourceLocation) }
        remaining -= 1
    }
}

extension CodecTests {
    @Suite struct Property {
        /// 4 seeds × 2,500 = 10,000 random messages.
        @Test("decode(encode(m)) == m", arguments: [0x5EED_0001, 0x5EED_0002, 0x5EED_0003, 0x5EED_0004] as [UInt64])
        func roundTrip(seed: UInt64) throws {
            var rng = SplitMix64(seed: seed)
            var budget = FailureBudget()
            var longOptions = 0, extendedOptions = 0, repeats = 0, tokens = 0
            for i in 0..<2_500 {
                let message = randomMessage(&rng)
                let bytes = try message.encoded()
                if bytes.count != expectedEncodedSize(message) {
                    budget.record("#\(i): \(bytes.count) bytes, expected \(expectedEncodedSize(message))")
                }
                switch decodeArray(bytes) {
                case .success(let decoded) where decoded == message: break
                case let other: budget.record("#\(i): \(message) → \(hexString(bytes)) → \(other)")
                }
                if decodeRaw(bytes) != .success(message) { budget.record("#\(i): raw-memory decode differs") }
                longOptions += message.options.filter { $0.value.count >= 269 }.count
                extendedOptions += message.options.filter { (13..<269).contains($0.value.count) }.count
                repeats += zip(message.options, message.options.dropFirst()).filter { $0.number == $1.number }.count
                tokens += message.token.count == 8 ? 1 : 0
            }
            #expect(budget.remaining == 5)
            // The generator reached every option length class and the edge cases.
            #expect(longOptions > 10)
            #expect(extendedOptions > 100)
            #expect(repeats > 100)
            #expect(tokens > 100)
        }

        /// 4 seeds × 25,000 = 100,000 random byte strings, biased towards plausible headers.
        @Test("Random bytes decode or throw, never trap", arguments: [0xB17E_0001, 0xB17E_0002, 0xB17E_0003, 0xB17E_0004] as [UInt64])
        func randomBytes(seed: UInt64) throws {
            var rng = SplitMix64(seed: seed)
            var stats = RobustnessStats()
            for _ in 0..<25_000 {
                var bytes = rng.bytes(rng.chance(90) ? rng.int(0...40) : rng.int(41...400))
                if bytes.count >= 2, rng.chance(85) {
                    bytes[0] = 0x40 | (bytes[0] & 0x30) | UInt8(rng.int(0...8))  // version 1, sane token length
                    if rng.chance(70) { bytes[1] = rng.pick([0x00, 0x01, 0x02, 0x45, 0x44, 0x84]) }
                }
                try stats.check(bytes)
            }
            #expect(stats.budget.remaining == 5)
            #expect(stats.decoded > 1_000)
            #expect(stats.kinds.count >= 9, "error kinds hit: \(stats.kinds.sorted())")
        }

        /// 4 seeds × 25,000 = 100,000 mutated valid encodings.
        @Test("Mutated encodings decode or throw, never trap", arguments: [0x3070_0001, 0x3070_0002, 0x3070_0003, 0x3070_0004] as [UInt64])
        func mutatedEncodings(seed: UInt64) throws {
            var rng = SplitMix64(seed: seed)
            var stats = RobustnessStats()
            for _ in 0..<25_000 {
                var bytes = try randomMessage(&rng, allowLong: false).encoded()
                for _ in 0..<rng.int(1...4) { mutate(&bytes, &rng) }
                try stats.check(bytes)
            }
            #expect(stats.budget.remaining == 5)
            #expect(stats.decoded > 1_000)
            #expect(stats.decoded < 24_000)
            #expect(stats.kinds.count == 11, "error kinds hit: \(stats.kinds.sorted())")
        }
    }
}

/// One random edit: bit flip, byte replace, insert, delete, truncate, duplicate a span, or
/// plant a byte that is special to the option format.
func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
    let index = bytes.isEmpty ? 0 : rng.int(0...bytes.count - 1)
    switch rng.int(0...6) {
    case 0 where !bytes.isEmpty: bytes[index] ^= 1 << UInt8(rng.int(0...7))
    case 1 where !bytes.isEmpty: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
    case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.int(0...bytes.count))
    case 3 where !bytes.isEmpty: bytes.remove(at: index)
    case 4: bytes.removeLast(rng.int(0...min(bytes.count, 8)))
    case 5 where !bytes.isEmpty:
        let end = min(bytes.count, index + rng.int(1...16))
        let span = Array(bytes[index..<end])
        bytes.insert(contentsOf: span, at: rng.int(0...bytes.count))
    case 6 where !bytes.isEmpty:
        bytes[index] = rng.pick([0x00, 0x0d, 0x0e, 0x0f, 0xd0, 0xe0, 0xf0, 0xff, 0xdd, 0xee, 0x20, 0xe0])
    default: bytes.append(0xff)
    }
}

/// Checks the totality properties for one input and tallies the outcome.
struct RobustnessStats {
    var decoded = 0
    var kinds: Set<Int> = []
    var budget = FailureBudget()

    mutating func check(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = decodeArray(bytes)
        // Both entry points agree, and the raw one never reads past its slice.
        if decodeRaw(bytes) != result { budget.record("raw-memory decode differs for \(hexString(bytes))") }
        switch result {
        case .failure(let error):
            kinds.insert(errorKind(error))
        case .success(let message):
            decoded += 1
            // A decoded message re-encodes (the format has one encoding per message, so byte for
            // byte) and decodes to the same message.
            let reencoded = try message.encoded()
            if reencoded != bytes { budget.record("re-encoding \(hexString(reencoded)) ≠ input \(hexString(bytes))") }
            if decodeArray(reencoded) != .success(message) { budget.record("round trip differs for \(hexString(bytes))") }
        }
    }
}
