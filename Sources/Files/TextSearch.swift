/// Byte-sequence search.
public enum ByteSearch {
    /// Whether `needle` occurs in `haystack`. An empty needle occurs everywhere.
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first && haystack[start ..< start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}

extension StringProtocol {
    /// Whether `text` occurs in this string, compared byte for byte as UTF-8.
    ///
    /// The agent's own substring test: the standard library's `contains(_: some StringProtocol)`
    /// lives in `_StringProcessing`, whose regex engine then comes into every executable (≈ 1.3 MB
    /// of a stripped daemon) for a handful of log and file-name checks.
    public func includes(_ text: String) -> Bool {
        ByteSearch.contains(Array(utf8), Array(text.utf8))
    }
}
