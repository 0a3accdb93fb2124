extension StringProtocol {
    /// Whether `text` occurs in this string, compared byte for byte as UTF-8.
    ///
    /// The agent's own substring test: the standard library's `contains(_: some StringProtocol)`
    /// lives in `_StringProcessing`, whose regex engine then comes into every executable (≈ 0.8 MB
    /// of a stripped daemon) for a handful of log and file-name checks.
    public func includes(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard let first = needle.first else { return true }
        let haystack = Array(utf8)
        guard haystack.count >= needle.count else { return false }
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first && haystack[start ..< start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
