import Testing
import TestSupport

@Suite("TPM test fixtures")
struct FixtureTests {
    @Test func childrenInheritOnlyTheStandardDescriptors() throws {
        let swtpm = try Swtpm()  // holds sockets and pipes of its own
        _ = swtpm
        let result = try ChildProcess.run(["ls", "/proc/self/fd"])
        // 0, 1, 2 and the descriptor ls opened for /proc/self/fd itself.
        #expect(result.text.split(separator: "\n").count <= 4, "\(result.text)")
    }
}
