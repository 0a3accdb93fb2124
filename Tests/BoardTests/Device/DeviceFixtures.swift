import Board
import Glibc
import LwM2M

/// The committed fixture tree `name` (Tests/BoardTests/Fixtures/<name>), found from this file.
func deviceFixture(_ name: String, file: String = #filePath) -> SystemRoot {
    let testsDirectory = file.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
    return SystemRoot(testsDirectory + "/Fixtures/" + name)
}

/// A fresh temporary directory.
func temporaryDirectory() -> String {
    var template = Array("/tmp/lwm2m-device-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Writes `text` to `path`, creating the directories on the way.
func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) {
    var directory = ""
    for component in path.split(separator: "/").dropLast() {
        directory += "/" + component
        mkdir(directory, 0o755)
    }
    let file = fopen(path, "w")!
    fputs(text, file)
    fclose(file)
    chmod(path, mode)
}

/// A platform in memory: every reading is a variable the test sets.
final class FakeDevicePlatform: DevicePlatform {
    var identity = DeviceIdentity()
    var time: Int64 = 1_800_000_000
    var memoryReading: DeviceMemory? = DeviceMemory(free: 500_000, total: 1_000_000)
    var sources: [PowerSourceReading] = []
    var batteryReading: BatteryReading?
    var storageIsFull: Bool? = false
    var offset: String? = "+00:00"
    var zone: String? = "Etc/UTC"
    var knownZones: Set<String> = ["Etc/UTC", "Europe/Berlin"]
    /// nil: setting the clock succeeds; else the error thrown.
    var clockError: DeviceSettingError?
    var timesSet: [Int64] = []
    var memoryReads = 0

    func currentTime() -> Int64 { time }
    func setCurrentTime(_ seconds: Int64) throws(DeviceSettingError) {
        if let clockError { throw clockError }
        timesSet.append(seconds)
        time = seconds
    }
    func memory() -> DeviceMemory? {
        memoryReads += 1
        return memoryReading
    }
    func powerSources() -> [PowerSourceReading] { sources }
    func battery() -> BatteryReading? { batteryReading }
    func storageFull() -> Bool? { storageIsFull }
    func utcOffset() -> String? { offset }
    func setUTCOffset(_ offset: String) throws(DeviceSettingError) { self.offset = offset }
    func timezone() -> String? { zone }
    func setTimezone(_ name: String) throws(DeviceSettingError) {
        guard knownZones.contains(name) else { throw .invalid("no time zone \"\(name)\"") }
        zone = name
    }
}

/// Records the paths an object reports as changed.
final class ChangeRecorder {
    var paths: [LwM2MPath] = []

    func attach(_ object: any LwM2MObject) {
        object.changeHandler = { [unowned self] path in paths.append(path) }
    }

    func take() -> [LwM2MPath] {
        defer { paths = [] }
        return paths
    }
}
