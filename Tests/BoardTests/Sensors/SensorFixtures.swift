import Board
import Glibc

/// The committed fixture trees of the sensor tests (Tests/BoardTests/Fixtures/sensors-*), each
/// mirroring a board's /sys and /proc, and scratch trees for tests that change files.
enum SensorFixtures {
    /// The fixture tree `name` (`sensors-pi4-wifi`) as a root.
    static func root(_ name: String, file: String = #filePath) -> SystemRoot {
        var directory = file
        while let slash = directory.lastIndex(of: "/"), !directory.hasSuffix("/BoardTests") {
            directory = String(directory[..<slash])
        }
        return SystemRoot(directory + "/Fixtures/" + name)
    }

    /// A fresh directory with `files` (path → content) written under it.
    static func scratch(_ files: [String: String]) -> String {
        var template = Array("/tmp/lwm2m-sensors-XXXXXX".utf8CString)
        let root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for (path, content) in files { write(root + path, content) }
        return root
    }

    /// Writes `content` to `path`, creating its directories (not atomically: the kernel's files
    /// change in place too).
    static func write(_ path: String, _ content: String) {
        var directory = ""
        for component in path.split(separator: "/").dropLast() {
            directory += "/" + component
            mkdir(directory, 0o755)
        }
        let file = fopen(path, "w")!
        _ = fputs(content, file)
        fclose(file)
    }

    /// Removes a scratch tree.
    static func remove(_ root: String) {
        _ = system("rm -rf '\(root)'")
    }

    /// Addresses as getifaddrs would list them on the fixture boards.
    static let piAddresses = [
        InterfaceAddress(interface: "lo", address: "127.0.0.1", isIPv6: false),
        InterfaceAddress(interface: "eth0", address: "192.168.1.20", isIPv6: false),
        InterfaceAddress(interface: "wlan0", address: "192.168.8.31", isIPv6: false),
        InterfaceAddress(interface: "lo", address: "::1", isIPv6: true),
        InterfaceAddress(interface: "eth0", address: "fe80::dea6:32ff:fe01:203", isIPv6: true),
        InterfaceAddress(interface: "wlan0", address: "2001:db8:8::31", isIPv6: true),
        InterfaceAddress(interface: "wlan0", address: "fe80::dea6:32ff:fe01:204", isIPv6: true),
    ]
}
