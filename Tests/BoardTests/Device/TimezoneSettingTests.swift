import Board
import Files
import Glibc
import LwM2M
import Testing

/// UTC Offset (/3/0/14) and Timezone (/3/0/15) writes on a temporary system root: applied to
/// `/etc/localtime` and `/etc/timezone` when the board says `[clock] timezone = localtime`,
/// refused with 4.05 when it says `none`, and read back from the system.
@Suite struct TimezoneSettingTests {
    static let zones = ["Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Etc/UTC", "Etc/GMT-2", "Etc/GMT+5",
                        "Etc/GMT-14", "Etc/GMT+12"]

    /// A root with the zones above (the machine's tzdata files), /etc/localtime → Europe/Berlin
    /// and, when `debian`, /etc/timezone.
    func root(debian: Bool = true) throws -> SystemRoot {
        let directory = temporaryDirectory()
        for zone in Self.zones {
            let path = directory + "/usr/share/zoneinfo/" + zone
            writeFile(path, "")
            try AtomicFile.write(try FileReader.read("/usr/share/zoneinfo/" + zone, maximumSize: 1 << 20), to: path, mode: 0o644)
        }
        mkdir(directory + "/etc", 0o755)
        symlink("/usr/share/zoneinfo/Europe/Berlin", directory + "/etc/localtime")
        if debian { writeFile(directory + "/etc/timezone", "Europe/Berlin\n") }
        return SystemRoot(directory)
    }

    func object(_ root: SystemRoot, _ control: BoardDefinition.TimezoneControl = .localtime) -> DeviceObject {
        var configuration = KernelDevicePlatform.Configuration(stateDirectory: temporaryDirectory())
        configuration.root = root
        configuration.timezone = control
        let platform = KernelDevicePlatform(configuration)
        platform.readClock = { 1_782_907_200 }  // 2026-07-01T12:00:00Z: summer time in Berlin
        return DeviceObject(platform: platform, reboot: {})
    }

    func link(_ root: SystemRoot) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(root.path("/etc/localtime"), &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func etcEntries(_ root: SystemRoot) -> [String] {
        guard let directory = opendir(root.path("/etc")) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func text(_ root: SystemRoot, _ path: String) -> String? {
        (try? root.bytes(path)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func timezoneWriteReplacesTheSymlinkAndEtcTimezone() throws {
        let root = try root()
        let object = object(root)
        #expect(try object.read(LwM2MPath(3, 0, 15)) == .single(.string("Europe/Berlin")))
        #expect(try object.read(LwM2MPath(3, 0, 14)) == .single(.string("+02:00")))
        try object.write(LwM2MPath(3, 0, 15), .single(.string("America/St_Johns")))
        #expect(link(root) == "/usr/share/zoneinfo/America/St_Johns")
        #expect(text(root, "/etc/timezone") == "America/St_Johns\n")
        #expect(etcEntries(root) == ["localtime", "timezone"])  // no temporary file left
        // Read from the system again: the zone and its offset now (NDT in July).
        #expect(try object.read(LwM2MPath(3, 0, 15)) == .single(.string("America/St_Johns")))
        #expect(try object.read(LwM2MPath(3, 0, 14)) == .single(.string("-02:30")))
        // An unknown zone changes nothing.
        #expect(throws: LwM2MError.badRequest("no time zone \"Europe/Paris\" in \(root.path("/usr/share/zoneinfo"))")) {
            try object.write(LwM2MPath(3, 0, 15), .single(.string("Europe/Paris")))
        }
        #expect(link(root) == "/usr/share/zoneinfo/America/St_Johns")
    }

    @Test func withoutEtcTimezoneOnlyTheSymlinkChanges() throws {
        let root = try root(debian: false)
        try object(root).write(LwM2MPath(3, 0, 15), .single(.string("Asia/Kolkata")))
        #expect(link(root) == "/usr/share/zoneinfo/Asia/Kolkata")
        #expect(etcEntries(root) == ["localtime"])
        #expect(try object(root).read(LwM2MPath(3, 0, 15)) == .single(.string("Asia/Kolkata")))
        #expect(try object(root).read(LwM2MPath(3, 0, 14)) == .single(.string("+05:30")))
    }

    @Test func wholeHourOffsetsMapToEtcGMTZones() {
        let table: [(String, String?)] = [
            ("+02:00", "Etc/GMT-2"), ("-05:00", "Etc/GMT+5"), ("+00:00", "Etc/UTC"), ("-00:00", "Etc/UTC"),
            ("Z", "Etc/UTC"), ("+14:00", "Etc/GMT-14"), ("-12:00", "Etc/GMT+12"), ("+1000", "Etc/GMT-10"),
            ("+05:30", nil), ("-03:30", nil), ("+00:45", nil), ("+2", nil), ("soon", nil),
        ]
        for (offset, zone) in table {
            #expect(TimezoneSetting.zone(forOffset: offset) == zone, "\(offset)")
        }
    }

    @Test func utcOffsetWriteAppliesAnEtcZone() throws {
        let root = try root()
        let object = object(root)
        try object.write(LwM2MPath(3, 0, 14), .single(.string("+02:00")))
        #expect(link(root) == "/usr/share/zoneinfo/Etc/GMT-2" && text(root, "/etc/timezone") == "Etc/GMT-2\n")
        #expect(try object.read(LwM2MPath(3, 0, 14)) == .single(.string("+02:00")))
        #expect(try object.read(LwM2MPath(3, 0, 15)) == .single(.string("Etc/GMT-2")))
        try object.write(LwM2MPath(3, 0, 14), .single(.string("-05:00")))
        #expect(try object.read(LwM2MPath(3, 0, 15)) == .single(.string("Etc/GMT+5")))
        #expect(try object.read(LwM2MPath(3, 0, 14)) == .single(.string("-05:00")))
        // Minutes: no zone applies them; the zone stays.
        #expect(throws: LwM2MError.badRequest("UTC Offset +05:30: only whole-hour offsets can be applied; write the Timezone (/3/0/15)")) {
            try object.write(LwM2MPath(3, 0, 14), .single(.string("+05:30")))
        }
        // A whole hour the database has no Etc zone for.
        #expect(throws: LwM2MError.self) { try object.write(LwM2MPath(3, 0, 14), .single(.string("-13:00"))) }
        #expect(link(root) == "/usr/share/zoneinfo/Etc/GMT+5" && etcEntries(root) == ["localtime", "timezone"])
    }

    @Test func noneRefusesBothWritesWith405() throws {
        let root = try root()
        let object = object(root, .none)
        let why = "the board does not let the agent change the time zone (board file [clock] timezone = none)"
        for (id, value) in [(UInt16(15), "America/St_Johns"), (14, "+02:00")] {
            do {
                try object.write(LwM2MPath(3, 0, id), .single(.string(value)))
                Issue.record("/3/0/\(id) accepted")
            } catch {
                #expect(error == .notAllowed(why) && error.code == .methodNotAllowed && error.description.contains(why))
            }
        }
        #expect(link(root) == "/usr/share/zoneinfo/Europe/Berlin" && text(root, "/etc/timezone") == "Europe/Berlin\n")
        #expect(try object.read(LwM2MPath(3, 0, 15)) == .single(.string("Europe/Berlin")))
        #expect(try object.read(LwM2MPath(3, 0, 14)) == .single(.string("+02:00")))
    }

    /// /etc is a regular file: the symlink cannot be made, even as root.
    @Test func etcThatIsAFileIsAServerErrorWithTheReason() throws {
        let directory = temporaryDirectory()
        writeFile(directory + "/usr/share/zoneinfo/Etc/UTC", "")
        writeFile(directory + "/etc", "not a directory\n")
        let object = object(SystemRoot(directory))
        do {
            try object.write(LwM2MPath(3, 0, 15), .single(.string("Etc/UTC")))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .internalServerError, "\(error)")
            #expect(error.description.contains("cannot set the time zone to Etc/UTC: symlink \(directory)/etc/localtime.lwm2m-"), "\(error)")
            #expect(error.description.contains("Not a directory"), "\(error)")
        }
        #expect(text(SystemRoot(directory), "/etc") == "not a directory\n")
    }

    /// /etc/timezone is a directory: its replacement fails after the new symlink was made under
    /// its temporary name; that symlink is removed and /etc/localtime is untouched.
    @Test func aFailureHalfwayChangesNothing() throws {
        let root = try root(debian: false)
        mkdir(root.path("/etc/timezone"), 0o755)
        writeFile(root.path("/etc/timezone/keep"), "x")
        let object = object(root)
        do {
            try object.write(LwM2MPath(3, 0, 15), .single(.string("Asia/Kolkata")))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .internalServerError && error.description.contains("cannot set the time zone to Asia/Kolkata"), "\(error)")
        }
        #expect(link(root) == "/usr/share/zoneinfo/Europe/Berlin")
        #expect(etcEntries(root) == ["localtime", "timezone"])
    }

    /// /etc/localtime is a directory: the final rename fails after /etc/timezone was rewritten;
    /// /etc/timezone gets its old content back and the temporary symlink is removed.
    @Test func aFailedFinalRenameRestoresEtcTimezone() throws {
        let directory = temporaryDirectory()
        writeFile(directory + "/usr/share/zoneinfo/Asia/Tokyo", "")
        writeFile(directory + "/etc/localtime/keep", "x")
        writeFile(directory + "/etc/timezone", "Europe/Berlin\n")
        let root = SystemRoot(directory)
        do {
            try object(root).write(LwM2MPath(3, 0, 15), .single(.string("Asia/Tokyo")))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .internalServerError, "\(error)")
            #expect(error.description.contains("cannot set the time zone to Asia/Tokyo: rename \(directory)/etc/localtime"), "\(error)")
        }
        #expect(text(root, "/etc/timezone") == "Europe/Berlin\n")
        #expect(etcEntries(root) == ["localtime", "timezone"])
    }

    @Test func tzifOffsets() throws {
        let berlin = try FileReader.read("/usr/share/zoneinfo/Europe/Berlin", maximumSize: 1 << 20)
        #expect(TZif.offset(berlin, at: 1_782_907_200) == 7200)   // July 2026: CEST
        #expect(TZif.offset(berlin, at: 1_798_761_600) == 3600)   // January 2027: CET
        #expect(TZif.offset(try FileReader.read("/usr/share/zoneinfo/Etc/GMT+5", maximumSize: 1 << 20), at: 0) == -18000)
        #expect(TZif.offset(Array("TZif2 but not really".utf8), at: 0) == nil)
        #expect(TZif.offset([], at: 0) == nil)
        #expect(TZif.offset(Array(berlin.prefix(60)), at: 0) == nil)
    }
}
