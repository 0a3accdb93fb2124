import LwM2M

/// One network interface as sysfs describes it: `/sys/class/net/<name>/`
/// (Documentation/ABI/testing/sysfs-class-net). Attributes that are absent or unreadable (the
/// kernel fails a read of `carrier` while the interface is down) are nil.
public struct NetworkInterface: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    /// `type`: the ARPHRD_* hardware type (1 Ethernet and Wi-Fi, 772 loopback, 512 PPP, 519
    /// raw IP, 801 802.11, 804 802.15.4, 65534 none).
    public let hardwareType: Int?
    /// `operstate`: RFC 2863 state (`up`, `down`, `dormant`, `unknown`, …).
    public let operationalState: String?
    /// `carrier`: the physical link is up.
    public let carrier: Bool?
    /// `DEVTYPE` of the interface's `uevent` (`wlan`, `bridge`, `vlan`, `wwan`, `bluetooth`).
    public let deviceType: String?
    /// A Wi-Fi interface: it has `wireless/` or `phy80211`, or `DEVTYPE=wlan`.
    public let isWireless: Bool
    /// Backed by hardware: it has a `device` link (virtual interfaces such as lo, bridges, veth,
    /// tun or ifb have none).
    public let hasDevice: Bool

    public init(name: String, hardwareType: Int?, operationalState: String?, carrier: Bool?, deviceType: String?,
                isWireless: Bool, hasDevice: Bool) {
        self.name = name
        self.hardwareType = hardwareType
        self.operationalState = operationalState
        self.carrier = carrier
        self.deviceType = deviceType
        self.isWireless = isWireless
        self.hasDevice = hasDevice
    }

    /// ARPHRD_LOOPBACK, or the name `lo`.
    public var isLoopback: Bool { hardwareType == 772 || name == "lo" }

    /// The link is usable: `operstate` up, or `unknown` (drivers that do not track it) with carrier.
    public var isUp: Bool {
        operationalState == "up" || (operationalState == "unknown" && carrier == true)
    }

    /// The Network Bearer (object 4) this interface is, from its hardware type: WLAN (21) for
    /// Wi-Fi, Bluetooth (22), IEEE 802.15.4 (23), Ethernet (41) for the rest of ARPHRD_ETHER;
    /// nil where sysfs does not tell the bearer (PPP, raw-IP and wwan modems, tunnels, loopback).
    public var bearer: Int64? {
        typealias Bearer = ConnectivityMonitoringObject.Bearer
        switch hardwareType {
        case 1?:
            if isWireless { return Bearer.wlan }
            switch deviceType {
            case "bluetooth": return Bearer.bluetooth
            case "wwan": return nil
            default: return Bearer.ethernet
            }
        case 801?, 802?, 803?: return Bearer.wlan
        case 804?: return Bearer.ieee802154
        default: return nil
        }
    }

    public var description: String {
        var parts = [name]
        if let hardwareType { parts.append("type \(hardwareType)") }
        if let deviceType { parts.append(deviceType) }
        if isWireless { parts.append("wireless") }
        if let operationalState { parts.append(operationalState) }
        return parts.joined(separator: " ")
    }
}

/// Reads `/sys/class/net` under a `SystemRoot`.
public enum NetworkInterfaces {
    public static let directory = "/sys/class/net"

    /// Every interface under `root`, sorted by name.
    public static func all(in root: SystemRoot) -> [NetworkInterface] {
        root.entries(directory).compactMap { interface($0, in: root) }
    }

    /// The interface `name` under `root`; nil when it does not exist.
    public static func interface(_ name: String, in root: SystemRoot) -> NetworkInterface? {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { return nil }
        let path = directory + "/" + name
        guard root.exists(path) else { return nil }
        let deviceType = root.text(path + "/uevent")?
            .split(separator: "\n")
            .first { $0.hasPrefix("DEVTYPE=") }
            .map { String($0.dropFirst("DEVTYPE=".count)).trimmingSpaces() }
        let carrier = root.integer(path + "/carrier").flatMap { $0 == 1 ? true : $0 == 0 ? false : nil }
        let hardwareType = root.integer(path + "/type").flatMap { $0 >= 0 && $0 <= 65535 ? Int($0) : nil }
        return NetworkInterface(
            name: name, hardwareType: hardwareType, operationalState: root.firstLine(path + "/operstate"),
            carrier: carrier, deviceType: deviceType,
            isWireless: root.exists(path + "/wireless") || root.exists(path + "/phy80211") || deviceType == "wlan",
            hasDevice: root.exists(path + "/device"))
    }
}
