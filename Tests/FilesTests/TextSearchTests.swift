import Files
import Testing

/// `includes(_:)` stands in for the standard library's substring `contains` in the agent's log and
/// file-name checks: a UTF-8 byte search (so a combining mark is found on its own, unlike the
/// standard library's character comparison), checked against the obvious search on empty strings,
/// overlaps, multi-byte characters and boundaries.
struct TextSearchTests {
    @Test(arguments: [
        ("name.tmp-123", ".tmp-"), ("name", ".tmp-"), ("", ""), ("abc", ""), ("", "a"),
        ("aaab", "aab"), ("abab", "bab"), ("ab", "abc"), ("xyz", "xyz"), ("xyz", "z"), ("xyz", "x"),
        ("SWUPDATE successful", "SWUPDATE successful"), ("[ERROR] x", "[ERROR]"),
        ("prüfsumme", "üf"), ("prüfsumme", "uf"), ("日本語テキスト", "テキ"), ("e\u{301}", "\u{301}"),
    ])
    func agreesWithTheObviousByteSearch(haystack: String, needle: String) {
        #expect(haystack.includes(needle) == haystack.utf8.elementsEqualAnywhere(Array(needle.utf8)))
    }

    @Test func findsInSubstrings() {
        let line = "-----BEGIN PUBLIC KEY-----\n"
        #expect(line.dropFirst(5).includes("BEGIN"))
        #expect(!line.dropFirst(6).includes("BEGIN"))
    }
}

extension String.UTF8View {
    /// The obvious quadratic search the test compares against.
    fileprivate func elementsEqualAnywhere(_ needle: [UInt8]) -> Bool {
        let bytes = Array(self)
        if needle.isEmpty { return true }
        if bytes.count < needle.count { return false }
        return (0 ... bytes.count - needle.count).contains { Array(bytes[$0 ..< $0 + needle.count]) == needle }
    }
}
