import AgentCommon
import Glibc
import LwM2M
import Files

/// The Device object (/3/0) of this machine, from what Linux tells without Foundation:
/// `uname(2)`, `/proc/meminfo`, the device-tree model and serial, the agent's version.
/// (Board definitions will map sysfs files onto more of it.)
public enum SystemDevice {
    /// The Device object; `reboot` and `factoryReset` run after the Execute is answered.
    public static func make(serialFile: String, reboot: @escaping () -> Void,
                            factoryReset: @escaping () -> Void) -> StaticObject {
        var info = DeviceInfo()
        var names = utsname()
        if uname(&names) == 0 {
            info.modelNumber = field(&names.machine)
            info.softwareVersion = "Linux " + field(&names.release)
        }
        if let model = text("/sys/firmware/devicetree/base/model") { info.modelNumber = model }
        info.manufacturer = text("/sys/firmware/devicetree/base/compatible").flatMap {
            $0.split(separator: ",").first.map(String.init)
        } ?? "Linux"
        info.serialNumber = text(serialFile) ?? text("/etc/machine-id") ?? "unknown"
        info.firmwareVersion = AgentVersion.string
        info.deviceType = "Gateway"
        info.hardwareVersion = info.modelNumber
        info.powerSources = [1]
        info.powerSourceVoltages = [5000]
        info.batteryLevel = 100
        let memory = meminfo()
        info.memoryTotal = memory.total
        info.memoryFree = memory.free
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return DeviceObject.make(info: info, currentTime: Int64(now.tv_sec), reboot: reboot, factoryReset: factoryReset)
    }

    private static func field<T>(_ value: inout T) -> String {
        withUnsafeBytes(of: &value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func text(_ path: String) -> String? {
        guard let bytes = try? FileReader.read(path, maximumSize: EndpointNameTemplate.maximumFileSize) else { return nil }
        let value = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingSpaces()
        let line = value.split(separator: "\n").first.map(String.init) ?? ""
        return line.isEmpty ? nil : line
    }

    /// MemTotal and MemAvailable in KiB (the Device object's unit).
    private static func meminfo() -> (total: Int64, free: Int64) {
        guard let bytes = try? FileReader.read("/proc/meminfo") else { return (0, 0) }
        var total: Int64 = 0, free: Int64 = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let value = Int64(parts[1]) else { continue }
            if parts[0] == "MemTotal:" { total = value }
            if parts[0] == "MemAvailable:" { free = value }
        }
        return (total, free)
    }
}
