@testable import AgentDaemon
import Testing

/// `<state-dir>/firmware/install.record`: version, installer record, boot ID of the install.
@Suite struct InstallRecordTests {
    @Test func roundTripsWithTheBootID() {
        let record = InstallRecord(version: "2.1.0", record: "B", bootID: "0b1c0e3a-6f0e-4a52-9d0c-1f6c9b8c2a11")
        #expect(String(decoding: record.encoded(), as: UTF8.self) == "2.1.0\nB\n0b1c0e3a-6f0e-4a52-9d0c-1f6c9b8c2a11")
        #expect(InstallRecord(parsing: record.encoded(), fallbackVersion: "x") == record)
    }

    @Test func aRecordWithoutBootIDIsTheEarlierFormat() {
        let record = InstallRecord(version: "2.1.0", record: "B", bootID: nil)
        #expect(String(decoding: record.encoded(), as: UTF8.self) == "2.1.0\nB")
        let parsed = InstallRecord(parsing: Array("2.1.0\nB".utf8), fallbackVersion: "x")
        #expect(parsed == record)
        #expect(parsed.rebooted(currentBootID: "anything") == nil)  // nobody can tell: confirm
        #expect(InstallRecord(parsing: [], fallbackVersion: "unknown") == InstallRecord(version: "unknown", record: "", bootID: nil))
    }

    @Test func aRebootIsAChangedBootID() {
        let record = InstallRecord(version: "1", record: "B", bootID: "boot-1")
        #expect(record.rebooted(currentBootID: "boot-1") == false)
        #expect(record.rebooted(currentBootID: "boot-2") == true)
        #expect(record.rebooted(currentBootID: nil) == nil)
    }
}
