#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Byte-sequence search.
public enum ByteSearch {
    /// Whether `needle` occurs in `haystack` (C's `memmem`). An empty needle occurs everywhere.
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { memmem(hay.baseAddress!, hay.count, $0.baseAddress!, $0.count) != nil }
        }
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
