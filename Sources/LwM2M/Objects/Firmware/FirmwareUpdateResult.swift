/// Update Result (/5/0/5) of the Firmware Update object: the values of objects/oma/5.xml.
/// It is also the error type of a failed download or install reported by the outer layer
/// (`FirmwareUpdateObject.downloadFinished(_:)`, `installFinished(_:)`).
public enum FirmwareUpdateResult: Int, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 0: initial value; set again whenever a download or an update starts, and by a reset.
    case initial = 0
    /// 1: firmware updated successfully.
    case success = 1
    /// 2: not enough flash memory (storage) for the new package.
    case notEnoughStorage = 2
    /// 3: out of RAM during the download.
    case outOfMemory = 3
    /// 4: connection lost during the download.
    case connectionLost = 4
    /// 5: integrity check failure of the downloaded package.
    case integrityCheckFailure = 5
    /// 6: unsupported package type.
    case unsupportedPackageType = 6
    /// 7: invalid URI.
    case invalidURI = 7
    /// 8: firmware update failed.
    case updateFailed = 8
    /// 9: unsupported protocol (the Package URI's scheme is not one this agent can download).
    case unsupportedProtocol = 9
    /// 10: firmware update cancelled (Cancel, /5/0/10, was executed).
    case cancelled = 10
    /// 11: firmware update deferred.
    case deferred = 11

    /// Whether this result may end a download (TS 1.1 §E.6: Downloading → Idle): 2, 3, 4, 5, 6,
    /// 7 and 9.
    public var isDownloadFailure: Bool {
        switch self {
        case .notEnoughStorage, .outOfMemory, .connectionLost, .integrityCheckFailure,
             .unsupportedPackageType, .invalidURI, .unsupportedProtocol: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .initial: "initial"
        case .success: "firmware updated successfully"
        case .notEnoughStorage: "not enough storage for the package"
        case .outOfMemory: "out of memory during the download"
        case .connectionLost: "connection lost during the download"
        case .integrityCheckFailure: "integrity check failure"
        case .unsupportedPackageType: "unsupported package type"
        case .invalidURI: "invalid URI"
        case .updateFailed: "firmware update failed"
        case .unsupportedProtocol: "unsupported protocol"
        case .cancelled: "firmware update cancelled"
        case .deferred: "firmware update deferred"
        }
    }
}
