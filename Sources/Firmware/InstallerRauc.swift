import Files

/// RAUC (https://rauc.io): `rauc install BUNDLE` writes the bundle into the inactive slot group
/// and makes it the bootloader's primary; after the reboot, `rauc status --output-format=shell`
/// tells which slot booted: the installed one (mark it good: `rauc status mark-good`, success)
/// or the old one (the bootloader fell back: update failed). An unreadable status (the service
/// not up yet) or a failed mark-good is `.undetermined`: asked again later.
///
/// The record persisted across the reboot is the installed slot's bootname (RAUC_BOOT_PRIMARY's
/// bootname after the install).
public struct RaucInstaller: FirmwareInstaller {
    /// The rauc program and options before the command (e.g. `["rauc", "--conf=/etc/rauc/system.conf"]`).
    public let command: [String]
    public var process: InstallerProcess

    public init(command: [String] = ["rauc"], process: InstallerProcess = InstallerProcess()) {
        self.command = command
        self.process = process
    }

    /// The booted slot is only evidence after a reboot: before it, the old slot still runs and
    /// would look like a fallback.
    public var confirmsOnlyAfterAReboot: Bool { true }

    public func install(image: String, version: String) -> InstallOutcome {
        let result = process.run(command + ["install", image])
        guard result.ending == .exited(0) else { return .failed(Self.classify(result.text), detail: result.summary) }
        let status = process.run(command + ["status", "--output-format=shell"])
        guard status.ending == .exited(0), let primary = RaucStatus(shell: status.text).primaryBootname else {
            return .failed(.updateFailed, detail: "installed, but rauc status names no primary slot: \(status.summary)")
        }
        return .installed(rebootRequired: true, record: primary)
    }

    public func confirm(version: String, record: String) -> InstallOutcome {
        let status = process.run(command + ["status", "--output-format=shell"])
        guard status.ending == .exited(0) else { return .undetermined(detail: "rauc status: \(status.summary)") }
        guard let booted = RaucStatus(shell: status.text).bootedBootname else {
            return .undetermined(detail: "rauc status names no booted slot")
        }
        guard booted == record else {
            return .failed(.updateFailed, detail: "booted slot \(booted), not the installed \(record): the bootloader fell back")
        }
        let good = process.run(command + ["status", "mark-good"])
        // The new slot runs; only marking it failed: ask again (marking good is idempotent).
        guard good.ending == .exited(0) else { return .undetermined(detail: "mark-good: \(good.summary)") }
        return .installed(rebootRequired: false, record: record)
    }

    /// The Update Result for rauc's error text (rauc exits 1 for every failure).
    static func classify(_ output: String) -> InstallFailure {
        let text = output.lowercased()
        if text.includes("compatible") { return .unsupportedPackage }
        if text.includes("signature") || text.includes("verif") || text.includes("hash") { return .integrityFailure }
        if text.includes("no space") { return .notEnoughStorage }
        return .updateFailed
    }
}

/// What `rauc status --output-format=shell` says (`KEY='value'` lines, shell-quoted).
public struct RaucStatus: Equatable {
    public private(set) var values: [String: String] = [:]

    public init(shell text: String) {
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            values[key] = Self.unquote(line[line.index(after: equals)...])
        }
    }

    /// The bootname of the slot that booted (RAUC_SYSTEM_BOOTED_BOOTNAME).
    public var bootedBootname: String? { nonEmpty("RAUC_SYSTEM_BOOTED_BOOTNAME") }

    /// The bootname of the bootloader's primary slot (RAUC_BOOT_PRIMARY names the slot; its
    /// bootname is RAUC_SLOT_BOOTNAME_<n> of the slot at that position in RAUC_SYSTEM_SLOTS).
    public var primaryBootname: String? {
        guard let primary = nonEmpty("RAUC_BOOT_PRIMARY"), let slots = values["RAUC_SYSTEM_SLOTS"] else { return nil }
        guard let position = slots.split(separator: " ").firstIndex(where: { $0 == primary }) else { return nil }
        return nonEmpty("RAUC_SLOT_BOOTNAME_\(position + 1)")
    }

    private func nonEmpty(_ key: String) -> String? {
        guard let value = values[key], !value.isEmpty else { return nil }
        return value
    }

    /// Undoes POSIX shell single quoting ('it'\''s' → it's); a bare value stays as it is.
    static func unquote(_ text: Substring) -> String {
        var result = ""
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "'" {
                quoted.toggle()
            } else if character == "\\", !quoted, text.index(after: index) < text.endIndex {
                index = text.index(after: index)
                result.append(text[index])
            } else {
                result.append(character)
            }
            index = text.index(after: index)
        }
        return result
    }
}
