/// Summary figures of latency samples in nanoseconds (Int64: 32-bit clean).
struct LatencySummary {
    var count: Int
    var median: Int64
    var p99: Int64
    var max: Int64

    /// nil when there are no samples. Median: the middle sample (the mean of the two middle ones
    /// for an even count); p99: nearest rank (the smallest sample with at least 99 % at or below).
    init?(_ samples: [Int64]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        count = sorted.count
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let rank = (sorted.count * 99 + 99) / 100  // ceil(0.99 * n)
        p99 = sorted[Swift.max(rank, 1) - 1]
        max = sorted[sorted.count - 1]
    }
}

/// `1.84ms`: nanoseconds as milliseconds with two decimals (no Foundation formatting).
func milliseconds(_ nanoseconds: Int64) -> String {
    let hundredths = (nanoseconds + 5_000) / 10_000
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)ms"
}
