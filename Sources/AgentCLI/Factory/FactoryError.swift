import AgentCommon
import AgentDaemon
import Credentials
import DTLS
import Files
import TPM

/// Why a factory command failed. Messages name files, accounts and credential names, never
/// secret bytes.
public enum FactoryError: Error, CustomStringConvertible {
    /// Bad command line (exit status 2).
    case usage(String)
    /// The agent or factory file cannot be used.
    case configuration(AgentLaunchError)
    /// The TPM or a sealed secret failed.
    case tpm(String)
    /// Reading or writing a file failed.
    case file(String)
    /// `verify` found problems (listed in its report).
    case verificationFailed(Int)

    public var description: String {
        switch self {
        case .usage(let why): why
        case .configuration(let error): "\(error)"
        case .tpm(let why): "TPM: \(why)"
        case .file(let why): why
        case .verificationFailed(let count): "verification failed: \(count) check(s) failed"
        }
    }

    /// The documented exit status: 2 for usage errors, 1 for everything else.
    public var exitStatus: Int32 {
        if case .usage = self { return 2 }
        return 1
    }
}
