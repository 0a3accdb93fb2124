import Credentials
import TPM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TestSupport

/// A swtpm plus a state directory, and contexts/stores opened on them.
final class TPMFixture {
    let swtpm: Swtpm
    let state: TemporaryDirectory

    init() throws {
        swtpm = try Swtpm()
        state = try TemporaryDirectory(prefix: "state")
    }

    func configuration(ownerAuth: SecretBytes? = nil, pcrPolicy: PCRSelection? = nil,
                       storageKeyHandle: UInt32 = TPMConfiguration.defaultStorageKeyHandle) -> TPMConfiguration {
        TPMConfiguration(tcti: swtpm.tcti, storageKeyHandle: storageKeyHandle, stateDirectory: state.path,
                         ownerAuth: ownerAuth, pcrPolicy: pcrPolicy)
    }

    func context(pcrPolicy: PCRSelection? = nil) throws -> TPMContext {
        try TPMContext(configuration: configuration(pcrPolicy: pcrPolicy))
    }

    /// Runs the probe executable (a real second process) against this fixture.
    func probe(_ command: String, _ arguments: [String], input: [UInt8] = []) throws -> ChildProcess.Result {
        try ChildProcess.run([probePath(), command, swtpm.tctiString, state.path] + arguments, input: input)
    }
}

/// `lwm2m-tpm-probe`, built next to the test bundle by `swift build --build-tests`.
func probePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { throw TestFailure("readlink /proc/self/exe failed") }
    let executable = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let directory = executable[..<executable.lastIndex(of: "/")!]
    let path = "\(directory)/lwm2m-tpm-probe"
    guard access(path, X_OK) == 0 else {
        throw TestFailure("\(path) missing: build with swift build --build-tests")
    }
    return path
}
