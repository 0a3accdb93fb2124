import CoAP
import Testing

/// `Duration.nanosecondsClamped` / `millisecondsClamped` (Time, re-exported by CoAP): whole
/// units, truncated, saturated instead of trapping on 32-bit-unfriendly or absurd values.
@Suite struct DurationConversionTests {
    @Test func wholeUnitsTruncated() {
        #expect(Duration.milliseconds(1500).millisecondsClamped == 1500)
        #expect(Duration.microseconds(2999).millisecondsClamped == 2)
        #expect(Duration.seconds(30).millisecondsClamped == 30_000)
        #expect(Duration.microseconds(1).nanosecondsClamped == 1000)
        #expect(Duration.zero.millisecondsClamped == 0)
    }

    @Test func saturatesInsteadOfTrapping() {
        #expect(Duration.seconds(Int64.max).millisecondsClamped == .max)
        #expect(Duration.seconds(Int64.min).millisecondsClamped == .min)
        #expect(Duration.seconds(Int64.max).nanosecondsClamped == .max)
    }
}
