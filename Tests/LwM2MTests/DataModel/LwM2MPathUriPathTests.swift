import CoAP
import Testing
@testable import LwM2M

/// `LwM2MPath(uriPathOf:)` (the option bytes, no String per segment) accepts and rejects exactly
/// what `LwM2MPath(segments: message.uriPath)` does.
@Suite struct LwM2MPathUriPathTests {
    func message(_ segments: [[UInt8]]) -> CoAPMessage {
        CoAPMessage(type: .confirmable, code: .get, messageID: 1,
                    options: segments.map { CoAPOption(.uriPath, $0) })
    }

    func agree(_ segments: [[UInt8]]) -> Bool {
        let request = message(segments)
        return LwM2MPath(uriPathOf: request) == LwM2MPath(segments: request.uriPath)
    }

    @Test(arguments: [
        [], ["3"], ["3", "0"], ["3", "0", "13"], ["3", "0", "11", "0"], ["65534"], ["0", "0", "0", "0"],
        ["65535"], ["99999"], ["100000"], ["03"], ["00"], ["-1"], ["+1"], [""], ["3", ""], ["3", "0", "1", "2", "3"],
        ["3a"], [" 3"], ["3 "], ["١"], ["３"], ["rd"], ["3", "0x1"], ["4294967299"], ["18446744073709551619"],
    ] as [[String]])
    func agreesWithTheStringParser(segments: [String]) {
        #expect(agree(segments.map { Array($0.utf8) }), "\(segments)")
    }

    @Test func agreesOnRandomAndInvalidUTF8Segments() {
        var rng = SplitMix64(seed: 17)
        let alphabet: [UInt8] = Array("0123456789/a ".utf8) + [0x00, 0xC0, 0xFF, 0x80, 0xD9]
        for _ in 0..<20_000 {
            let count = Int(rng.next() % 6)
            let segments = (0..<count).map { _ in
                (0..<Int(rng.next() % 7)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            }
            #expect(agree(segments), "\(segments)")
        }
        #expect(LwM2MPath(uriPathOf: message([Array("3".utf8), Array("0".utf8)])) == LwM2MPath(3, 0))
    }
}
