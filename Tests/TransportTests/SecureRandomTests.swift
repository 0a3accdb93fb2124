import Testing
import Transport

@Suite struct SecureRandomTests {
    @Test func valuesDiffer() {
        let values = (0..<16).map { _ in secureRandomUInt64() }
        #expect(Set(values).count == values.count)
    }

    @Test func fillsLargeBuffers() {
        var first = [UInt8](repeating: 0, count: 1000)
        var second = [UInt8](repeating: 0, count: 1000)
        first.withUnsafeMutableBytes { secureRandomBytes($0) }
        second.withUnsafeMutableBytes { secureRandomBytes($0) }
        #expect(first != second)
        // Every byte value should turn up somewhere in 2000 random bytes with overwhelming odds
        // of at least 200 distinct values; a zero-filled or stuck buffer fails this.
        #expect(Set(first + second).count > 200)
    }

    @Test func systemRandomDrivesStandardLibrary() {
        var generator = SystemRandom()
        let draws = (0..<8).map { _ in UInt64.random(in: 0 ... .max, using: &generator) }
        #expect(Set(draws).count == 8)
        let small = Int.random(in: 10..<20, using: &generator)
        #expect((10..<20).contains(small))
    }
}
