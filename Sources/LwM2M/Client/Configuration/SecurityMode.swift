/// LwM2M Security Mode (/0/x/2).
public enum SecurityMode: Int64, Hashable, Sendable, CustomStringConvertible {
    case preSharedKey = 0
    case rawPublicKey = 1
    case certificate = 2
    case noSecurity = 3
    case certificateWithEST = 4

    public var description: String {
        switch self {
        case .preSharedKey: "PSK"
        case .rawPublicKey: "RPK"
        case .certificate: "X.509"
        case .noSecurity: "NoSec"
        case .certificateWithEST: "X.509 with EST"
        }
    }
}
