import Board
import Glibc
import Testing

@Suite struct SystemRootTests {
    /// A fresh directory with `files` (path → content) written under it.
    private func tree(_ files: [String: [UInt8]]) -> String {
        var template = Array("/tmp/lwm2m-root-XXXXXX".utf8CString)
        let root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for (path, content) in files {
            let full = root + path
            var directory = ""
            for component in full.split(separator: "/").dropLast() {
                directory += "/" + component
                mkdir(directory, 0o755)
            }
            let file = fopen(full, "w")!
            _ = content.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        return root
    }

    @Test func readsUnderItsPrefix() throws {
        let root = SystemRoot(tree([
            "/proc/device-tree/compatible": Array("raspberrypi,4-model-b\0brcm,bcm2711\0".utf8),
            "/proc/device-tree/model": Array("Raspberry Pi 4 Model B Rev 1.4\0".utf8),
            "/sys/class/power_supply/BAT0/capacity": Array("87\n".utf8),
            "/sys/class/power_supply/BAT0/status": Array("  \n".utf8),
        ]) + "/")
        #expect(root.strings("/proc/device-tree/compatible") == ["raspberrypi,4-model-b", "brcm,bcm2711"])
        #expect(root.firstLine("/proc/device-tree/model") == "Raspberry Pi 4 Model B Rev 1.4")
        #expect(root.integer("/sys/class/power_supply/BAT0/capacity") == 87)
        #expect(root.text("/sys/class/power_supply/BAT0/status") == nil)
        #expect(root.integer("/sys/class/power_supply/BAT0/voltage_now") == nil)
        #expect(root.entries("/sys/class/power_supply") == ["BAT0"])
        #expect(root.exists("/proc/device-tree/model"))
        #expect(!root.exists("/proc/meminfo"))
    }

    @Test func liveRootIsTheMachine() {
        #expect(SystemRoot.live.path("/proc/meminfo") == "/proc/meminfo")
        #expect(SystemRoot("/").path("proc/meminfo") == "/proc/meminfo")
        #expect(SystemRoot.live.firstLine("/proc/meminfo")?.hasPrefix("MemTotal:") == true)
    }
}
