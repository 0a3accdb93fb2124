import AgentCommon
import Files
import LwM2M

/// The UTC Offset (/3/0/14) and Timezone (/3/0/15) a server wrote, kept in
/// `<state-dir>/device-time.conf` (written atomically) so they are reported again after a
/// restart:
/// ```
/// [time]
/// utc-offset = +02:00
/// timezone = Europe/Berlin
/// ```
public struct TimeSettingsFile: Sendable {
    public static let fileName = "device-time.conf"

    public let path: String
    public private(set) var utcOffset: String?
    public private(set) var timezone: String?

    /// The settings in `directory`; a missing file is no settings. A file that cannot be read or
    /// holds a malformed value is reported in `problem` and its values ignored (the system's
    /// values are reported instead).
    public init(directory: String) {
        path = directory + "/" + Self.fileName
        do {
            let bytes = try FileReader.read(path, maximumSize: 4096)
            let file = try ConfigFile(parsing: String(decoding: bytes, as: UTF8.self))
            for section in file.sections where section.kind != "time" {
                throw ConfigFileError(line: section.line, "unknown section [\(shortened(section.kind))]")
            }
            let section = file.sections("time").first
            if let text = section?.value("utc-offset") {
                guard let offset = UTCOffset.normalized(text) else {
                    throw ConfigFileError(line: section!.line(of: "utc-offset"), "utc-offset \(quoted(text)) is not ±HH:MM")
                }
                utcOffset = offset
            }
            if let name = section?.value("timezone") {
                guard TimezoneName.isWellFormed(name) else {
                    throw ConfigFileError(line: section!.line(of: "timezone"), "timezone \(quoted(name)) is not a zone name")
                }
                timezone = name
            }
        } catch let error as FileError where error.isNotFound {
            return
        } catch {
            utcOffset = nil
            timezone = nil
            problem = "\(path): \(error)"
        }
    }

    /// Why the file's values were ignored; nil when it was fine or absent.
    public private(set) var problem: String?

    /// Saves with `utcOffset` and/or `timezone` replaced (nil: unchanged); the values in
    /// memory change only when the file was written.
    public mutating func save(utcOffset newOffset: String? = nil, timezone newZone: String? = nil) throws(FileError) {
        let offset = newOffset ?? utcOffset, zone = newZone ?? timezone
        var text = "# /3/0/14 and /3/0/15 as an LwM2M server wrote them (lwm2m-agentd)\n[time]\n"
        if let offset { text += "utc-offset = \(offset)\n" }
        if let zone { text += "timezone = \(zone)\n" }
        try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
        utcOffset = offset
        timezone = zone
    }
}
