/// `<state-dir>/firmware/install.record`: what an install waiting for its reboot leaves for the
/// agent that starts after it, one value a line: the version installed, the installer's record
/// (RAUC: the slot that must boot) and the kernel's boot ID at the install (`BootID`). A record
/// of two lines (written before the boot ID was kept) has no boot ID.
struct InstallRecord: Equatable {
    var version: String
    var record: String
    var bootID: String?

    init(version: String, record: String, bootID: String?) {
        self.version = version
        self.record = record
        self.bootID = bootID
    }

    /// The saved file's contents; a missing version line is `fallbackVersion`.
    init(parsing bytes: [UInt8], fallbackVersion: String) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        version = lines.first.map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? fallbackVersion
        record = lines.count > 1 ? String(lines[1]) : ""
        bootID = lines.count > 2 && !lines[2].isEmpty ? String(lines[2]) : nil
    }

    /// The file's contents (the boot ID line only when known).
    func encoded() -> [UInt8] {
        Array(([version, record] + (bootID.map { [$0] } ?? [])).joined(separator: "\n").utf8)
    }

    /// Whether the machine rebooted since the install: nil when a boot ID is unknown (the
    /// record's or the current one), so nobody can tell.
    func rebooted(currentBootID: String?) -> Bool? {
        guard let bootID, let currentBootID else { return nil }
        return bootID != currentBootID
    }
}
