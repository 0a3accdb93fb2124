import Files

/// SWUpdate (https://sbabic.github.io/swupdate/): `swupdate -i IMAGE` plus the configured
/// options (a public key `-k`, a hardware revision `-H board:rev`, a selection `-e`); the exit
/// status tells (0 installed, anything else failed). Whether the image runs only after a reboot
/// depends on the sw-description (a rootfs update does, a file update does not): configured.
/// After the reboot the installed version is compared with `version` by the `confirm` hook when
/// one is configured, else the reboot itself is taken as success.
public struct SWUpdateInstaller: FirmwareInstaller {
    /// The swupdate program and options before `-i IMAGE`.
    public let command: [String]
    public let rebootRequired: Bool
    /// Optional `HOOK confirm VERSION` (as `ScriptHookInstaller`) run after the reboot.
    public let confirmHook: String?
    public var process: InstallerProcess

    public init(command: [String] = ["swupdate"], rebootRequired: Bool = true, confirmHook: String? = nil,
                process: InstallerProcess = InstallerProcess()) {
        self.command = command
        self.rebootRequired = rebootRequired
        self.confirmHook = confirmHook
        self.process = process
    }

    /// Without a confirm hook the reboot itself is taken as success: it must have happened.
    public var confirmsOnlyAfterAReboot: Bool { confirmHook == nil }

    public func install(image: String, version: String) -> InstallOutcome {
        let result = process.run(command + ["-i", image])
        guard result.ending == .exited(0) || Self.succeededDespiteStatus(result) else {
            return .failed(Self.classify(result.text), detail: result.summary)
        }
        return .installed(rebootRequired: rebootRequired, record: "")
    }

    /// swupdate -i (2022.12, Debian's) can exit with the status of a helper process after a
    /// successful install: its SIGCHLD handler exits with a child's status when the chunk
    /// downloader ends before the main process does (1 run in about 5 here under load). The
    /// install took when the output has the success notification and no failure at all.
    static func succeededDespiteStatus(_ result: InstallerProcess.Result) -> Bool {
        guard case .exited(let status) = result.ending, status != 0 else { return false }
        return result.text.includes("SWUPDATE successful") && !result.text.includes("SWUPDATE failed")
            && !result.text.includes("[ERROR]")
    }

    public func confirm(version: String, record: String) -> InstallOutcome {
        guard let confirmHook else { return .installed(rebootRequired: false, record: record) }
        return ScriptHookInstaller(hook: confirmHook, process: process).confirm(version: version, record: record)
    }

    /// The Update Result for swupdate's error text (its exit status is 1 for every failure).
    static func classify(_ output: String) -> InstallFailure {
        let text = output.lowercased()
        if text.includes("hardware") && text.includes("compatib") { return .unsupportedPackage }
        if text.includes("signature") || text.includes("hash mismatch") || text.includes("checksum") {
            return .integrityFailure
        }
        if text.includes("no space") { return .notEnoughStorage }
        return .updateFailed
    }
}
