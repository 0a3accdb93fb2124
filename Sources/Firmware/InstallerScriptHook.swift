/// A vendor's own install program (docs/firmware-update.md, "Installers"), run without a shell:
///
///     HOOK install IMAGE VERSION      install the image
///     HOOK confirm VERSION            after the reboot: does the device run VERSION?
///
/// `install` exit status: 0 installed and running (no reboot), 10 installed, a reboot activates
/// it; 20 not enough storage (Update Result 2), 21 out of memory (3), 22 integrity failure (5),
/// 23 unsupported package type (6); any other status, a signal or the timeout: update failed (8).
/// `confirm` exit status: 0 the new image runs (1), 75 (EX_TEMPFAIL) cannot tell yet (asked
/// again later), anything else update failed (8).
public struct ScriptHookInstaller: FirmwareInstaller {
    public let hook: String
    public var process: InstallerProcess

    public init(hook: String, process: InstallerProcess = InstallerProcess()) {
        self.hook = hook
        self.process = process
    }

    public static let installedStatus: Int32 = 0
    public static let rebootStatus: Int32 = 10
    /// `confirm`: cannot tell yet (EX_TEMPFAIL).
    public static let undeterminedStatus: Int32 = 75
    static let failures: [Int32: InstallFailure] = [
        20: .notEnoughStorage, 21: .outOfMemory, 22: .integrityFailure, 23: .unsupportedPackage,
    ]

    public func install(image: String, version: String) -> InstallOutcome {
        let result = process.run([hook, "install", image, version])
        switch result.ending {
        case .exited(Self.installedStatus): return .installed(rebootRequired: false, record: "")
        case .exited(Self.rebootStatus): return .installed(rebootRequired: true, record: "")
        case .exited(let code): return .failed(Self.failures[code] ?? .updateFailed, detail: result.summary)
        default: return .failed(.updateFailed, detail: result.summary)
        }
    }

    public func confirm(version: String, record: String) -> InstallOutcome {
        let result = process.run([hook, "confirm", version])
        if result.ending == .exited(Self.undeterminedStatus) { return .undetermined(detail: result.summary) }
        guard result.ending == .exited(0) else { return .failed(.updateFailed, detail: result.summary) }
        return .installed(rebootRequired: false, record: record)
    }
}
