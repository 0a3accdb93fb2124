// The one place where a Swift test may be skipped for want of something on the machine (a
// peer program, IPv6 loopback): `@Test(requires(condition, "reason"))`. Skipped with the reason
// on a developer's machine; under CI=true (as CI services set it) the test FAILS with the same
// reason instead, so a CI run never passes by skipping. The pytest side has the same rule in
// Tests/interop/conftest.py (`skip_or_fail`, `require_tool`).
import Glibc
import Testing

/// Whether the environment variable CI is set to something other than empty, 0, false or no.
public let runningInCI: Bool = {
    guard let value = getenv("CI") else { return false }
    return !["", "0", "false", "no"].contains(String(cString: value).lowercased())
}()

/// Why a test that needs something missing failed under CI=true.
public struct MissingRequirement: Error, CustomStringConvertible {
    public let description: String
}

/// A trait for a test that needs `available` to be true: the test is skipped with `reason`
/// when it is false, except under CI=true, where the test fails with `reason`.
public func requires(_ available: @autoclosure @escaping @Sendable () -> Bool, _ reason: Comment) -> ConditionTrait {
    .enabled(reason) {
        if available() { return true }
        if runningInCI { throw MissingRequirement(description: "CI=true and a requirement is missing: \(reason)") }
        return false
    }
}

/// Whether an executable named `name` is on PATH (for `requires(toolOnPath("swtpm"), …)`).
public func toolOnPath(_ name: String) -> Bool {
    guard let path = getenv("PATH") else { return false }
    return String(cString: path).split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
}
