import LwM2M

/// Installs a verified firmware image and, after the reboot that activates it, tells whether the
/// device runs it. Chosen in the configuration: `ScriptHookInstaller`, `RaucInstaller`,
/// `SWUpdateInstaller` (docs/firmware-update.md, "Installers").
public protocol FirmwareInstaller {
    /// Installs the image at `image` (version `version`, from the manifest or PkgVersion).
    /// Blocks until the installer program ends.
    func install(image: String, version: String) -> InstallOutcome
    /// After a reboot that followed `.installed(rebootRequired: true, …)`: whether the device
    /// now runs the installed image (and, for RAUC, marks the slot good). `record` is what
    /// `install` returned in its outcome, persisted by the caller across the reboot.
    func confirm(version: String, record: String) -> InstallOutcome
    /// Whether `confirm` takes the reboot itself as evidence (RAUC: the booted slot; SWUpdate
    /// without a confirm hook: the reboot is the success), so it must not be asked before the
    /// machine really rebooted: the caller compares the boot ID of the install with the current
    /// one and waits while they are equal. False (the default): `confirm` can tell on any
    /// restart (a hook comparing the running version).
    var confirmsOnlyAfterAReboot: Bool { get }
}

extension FirmwareInstaller {
    public var confirmsOnlyAfterAReboot: Bool { false }
}

/// How an install (or its confirmation after the reboot) ended.
public enum InstallOutcome: Equatable, Sendable {
    /// Installed. `rebootRequired`: the image runs after a reboot (the caller persists the state
    /// and `record`, then reboots, then calls `confirm`); otherwise it runs already (Update
    /// Result 1). `record` is installer-specific (RAUC: the slot that must boot), may be empty.
    case installed(rebootRequired: Bool, record: String)
    /// Not installed (or, from `confirm`, the new image does not run).
    case failed(InstallFailure, detail: String)
    /// From `confirm` only: cannot tell yet (the installer's status is unreadable, e.g. its
    /// service has not started after the boot). The caller keeps the persisted state and asks
    /// again later; it never turns into a result by itself.
    case undetermined(detail: String)

    /// The Update Result (/5/0/5) for the outcome: 1 for an image that runs, 0 while a reboot
    /// is pending, the failure's code otherwise.
    public var updateResult: FirmwareUpdateResult {
        switch self {
        case .installed(let reboot, _): reboot ? .initial : .success
        case .failed(let failure, _): failure.updateResult
        case .undetermined: .initial
        }
    }
}

/// Why an install failed, as Update Result values of the Firmware Update object (5.xml).
public enum InstallFailure: Int, Equatable, Sendable {
    case notEnoughStorage = 2
    case outOfMemory = 3
    case integrityFailure = 5
    case unsupportedPackage = 6
    case updateFailed = 8

    /// The same value as the Firmware Update object's result type.
    public var updateResult: FirmwareUpdateResult {
        switch self {
        case .notEnoughStorage: .notEnoughStorage
        case .outOfMemory: .outOfMemory
        case .integrityFailure: .integrityCheckFailure
        case .unsupportedPackage: .unsupportedPackageType
        case .updateFailed: .updateFailed
        }
    }
}

extension InstallerProcess.Result {
    /// A line for the log and the failure detail: how it ended and the output's last line.
    var summary: String {
        let ending = switch ending {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        case .timedOut: "timed out"
        case .notStarted(let why): "not started: \(why)"
        }
        let last = text.split(separator: "\n").last.map { String($0.prefix(300)) } ?? ""
        return last.isEmpty ? ending : "\(ending): \(last)"
    }
}
