import CoAP
import Testing
@testable import LwM2M

@Suite struct LinkFormatTests {
    typealias Kit = CoreFormatsTestKit

    func encode(_ entries: [LinkEntry]) throws -> String {
        String(decoding: try LinkFormat.encode(entries), as: UTF8.self)
    }

    func decode(_ text: String) throws -> [LinkEntry] { try LinkFormat.decode(Array(text.utf8)) }

    func decodeError(_ bytes: [UInt8]) -> Kit.ErrorCase? { Kit.errorCase { _ = try LinkFormat.decode(bytes) } }

    /// The Register payload as in the TS 1.1 Register example (`</>;rt="oma.lwm2m";ct=11543,…`): rt quoted,
    /// ct bare.
    @Test func registerPayload() throws {
        let text = #"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>"#
        let entries = [
            LinkEntry(path: .root, attributes: [LinkAttribute("rt", "oma.lwm2m"), LinkAttribute("ct", "11543")]),
            LinkEntry(path: LwM2MPath(1, 0)),
            LinkEntry(path: LwM2MPath(3, 0)),
        ]
        #expect(try encode(entries) == text)
        #expect(try decode(text) == entries)
        #expect(entries.map(\.path) == [.root, LwM2MPath(1, 0), LwM2MPath(3, 0)])
    }

    /// Discover answers carry object versions and attributes; numbers are written bare.
    @Test func discoverPayload() throws {
        let text = "</3>;ver=1.2,</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/7>;dim=2;gt=50;lt=-42.2"
        let entries = try decode(text)
        #expect(entries == [
            LinkEntry(target: "/3", attributes: [LinkAttribute("ver", "1.2")]),
            LinkEntry(target: "/3/0", attributes: [LinkAttribute("pmin", "10"), LinkAttribute("pmax", "60")]),
            LinkEntry(target: "/3/0/1"),
            LinkEntry(target: "/3/0/7",
                      attributes: [LinkAttribute("dim", "2"), LinkAttribute("gt", "50"), LinkAttribute("lt", "-42.2")]),
        ])
        #expect(try encode(entries) == text)
        #expect(entries[3].attribute("dim") == .some("2"))
        #expect(entries[3].attribute("st") == nil)
    }

    /// Bootstrap-Discover, in the form Anjay's unit tests expect for LwM2M 1.1.
    @Test func bootstrapDiscoverPayload() throws {
        let text = #"</>;lwm2m=1.1,</0/0>;ssid=101;uri="coaps://server_1.example.com",</0/1>,"#
            + #"</0/2>;ssid=102;uri="coaps://server_2.example.com""#
        let entries = try decode(text)
        #expect(entries.count == 4)
        #expect(entries[0].attribute("lwm2m") == .some("1.1"))
        #expect(entries[1].path == LwM2MPath(0, 0))
        #expect(entries[1].attributes
            == [LinkAttribute("ssid", "101"), LinkAttribute("uri", "coaps://server_1.example.com")])
        #expect(entries[2].attributes.isEmpty)
        #expect(try encode(entries) == text)
    }

    @Test func quotedStrings() throws {
        // Commas and semicolons inside quotes do not split.
        let entries = try decode(#"</a>;title="a,b;c",</b>;ct="60 110""#)
        #expect(entries == [
            LinkEntry(target: "/a", attributes: [LinkAttribute("title", "a,b;c")]),
            LinkEntry(target: "/b", attributes: [LinkAttribute("ct", "60 110")]),
        ])
        // Backslash escapes: \" and \\ (and \x for any x).
        let escaped = try decode(#"</x>;t="say \"hi\" \\ \ok""#)
        #expect(escaped[0].attribute("t") == .some(#"say "hi" \ ok"#))
        #expect(try encode(escaped) == #"</x>;t="say \"hi\" \\ ok""#)
        // Empty quoted value, UTF-8 inside quotes, bare attribute.
        let mixed = try decode(#"</x>;a="";b="Grüße";obs"#)
        #expect(mixed[0].attributes == [LinkAttribute("a", ""), LinkAttribute("b", "Grüße"), LinkAttribute("obs")])
        #expect(try encode(mixed) == #"</x>;a="";b="Grüße";obs"#)
        // A bare token that is not a number is written back quoted; the value is the same.
        let token = try decode("</x>;rt=oma.lwm2m")
        #expect(try encode(token) == #"</x>;rt="oma.lwm2m""#)
        #expect(try decode(try encode(token)) == token)
    }

    @Test func whitespaceAndEmptyPayloads() throws {
        #expect(try decode("") == [])
        #expect(try decode(" \r\n\t") == [])
        let entries = try decode(" </1/0> ,\n</3/0> ; obs ;ct = 40 ,\t</5>\n")
        #expect(entries == [
            LinkEntry(target: "/1/0"),
            LinkEntry(target: "/3/0", attributes: [LinkAttribute("obs"), LinkAttribute("ct", "40")]),
            LinkEntry(target: "/5"),
        ])
        #expect(try encode(entries) == "</1/0>,</3/0>;obs;ct=40,</5>")
        #expect(try encode([]) == "")
    }

    @Test func targets() throws {
        #expect(try decode("<>") == [LinkEntry(target: "")])
        #expect(try decode("</rd/abc>")[0].path == nil)
        #expect(try decode("</>")[0].path == .root)
        #expect(try decode("</3/65535>")[0].path == nil)
        #expect(try decode("<coap://[::1]:5683/x?y=1>")[0].target == "coap://[::1]:5683/x?y=1")
    }

    @Test(arguments: [
        "</1/0", "1/0", "</1/0>,", ",</1/0>", "</1/0>,,</3>", "</1/0>;", "</1/0>;=5", "</1/0>;a=", "</1/0>;a= ;b",
        #"</1/0>;a="x"#, #"</1/0>;a="x\"#, "</1/0>x", "</1 0>", "</1/0>;a=b c", #"</x>;a=b"c"#, "</x>;a b",
        "<</x>", "</x>;a=\u{01}", "</x>;a=\"\u{01}\"", "</x\u{7F}>", "</x>;a,", "</x> </y>", #"</x>;a="b""c""#,
        "</x>;a=b;;c",
    ])
    func malformed(text: String) {
        #expect(decodeError(Array(text.utf8)) == .malformed)
    }

    @Test func invalidUTF8() {
        #expect(decodeError([0x3C, 0xFF, 0x3E]) == .malformed)
        #expect(decodeError(Array("</x>;t=\"".utf8) + [0xC3] + Array("\"".utf8)) == .malformed)
    }

    @Test func encoderRefusesWhatCannotBeWritten() {
        #expect(Kit.errorCase { _ = try LinkFormat.encode([LinkEntry(target: "/a>b")]) } == .unsupported)
        #expect(Kit.errorCase { _ = try LinkFormat.encode([LinkEntry(target: "/a b")]) } == .unsupported)
        for name in ["a b", "", "a=b", "a;b"] {
            #expect(Kit.errorCase {
                _ = try LinkFormat.encode([LinkEntry(target: "/a", attributes: [LinkAttribute(name)])])
            } == .unsupported, "\(name)")
        }
        #expect(Kit.errorCase {
            _ = try LinkFormat.encode([LinkEntry(target: "/a", attributes: [LinkAttribute("t", "x\ny")])])
        } == .unsupported)
    }

    /// Seeded random strings over the format's own characters: never a trap, and whatever
    /// decodes re-encodes to a payload that decodes to the same entries.
    @Test func seededRandomPayloads() throws {
        var rng = SplitMix64(seed: 0x11E4_F0A7)
        let alphabet = Array(#"<>/,;="\ 0139abrt.:-_ü"#.utf8) + [0x09, 0x0A, 0x01, 0xC3]
        let seeds = [#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>"#, #"</a>;t="x,y";obs,</b>;v=1.5"#]
        var decoded = 0
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = (0..<Int.random(in: 0...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            } else {
                bytes = Array(seeds[iteration % 4 / 2].utf8)
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    if Bool.random(using: &rng) {
                        bytes[index] = alphabet.randomElement(using: &rng)!
                    } else {
                        bytes.insert(alphabet.randomElement(using: &rng)!, at: index)
                    }
                }
            }
            guard let entries = try? LinkFormat.decode(bytes) else { continue }
            decoded += 1
            let again = try LinkFormat.decode(try LinkFormat.encode(entries))
            #expect(again == entries, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(decoded > 1_000)
    }
}
