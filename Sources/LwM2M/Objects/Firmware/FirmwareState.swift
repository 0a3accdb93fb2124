/// State (/5/0/3) of the Firmware Update object (LwM2M TS 1.1 §E.6, object 5 version 1.2).
public enum FirmwareState: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// No package (before a download, after a reset, a Cancel, a failure or a successful update).
    case idle = 0
    /// A package is arriving: a block-wise Write of Package, or a download from Package URI.
    case downloading = 1
    /// A complete package is stored and may be installed with Update.
    case downloaded = 2
    /// Update was executed: the package is being installed (possibly across a reboot).
    case updating = 3

    public var description: String {
        switch self {
        case .idle: "Idle"
        case .downloading: "Downloading"
        case .downloaded: "Downloaded"
        case .updating: "Updating"
        }
    }
}
