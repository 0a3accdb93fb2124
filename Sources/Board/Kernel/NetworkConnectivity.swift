import LwM2M

/// The Connectivity Monitoring (4) values of a board, read from the kernel at each call:
///
/// - the board's interfaces (`BoardDefinition.Selection`) from `/sys/class/net`;
/// - the current bearer: the interface of the preferred default route (IPv4 first, then IPv6,
///   lowest metric), else the first of the board's interfaces that is up;
/// - Available Network Bearers: the bearer of every interface of the board, no repeats;
/// - Radio Signal Strength / Link Quality: `/proc/net/wireless`, for a Wi-Fi current bearer only;
/// - IP Addresses: the board's interfaces' addresses, the current bearer's first, IPv6
///   link-local (fe80::/10) left out (meaningless to a server without a zone);
/// - Router IP Addresses: the gateways of the default routes on the board's interfaces;
/// - Link Utilization: `NetworkUtilization` of the current bearer, between successive calls.
public final class NetworkConnectivity: ConnectivityProvider {
    public let root: SystemRoot
    public let selection: BoardDefinition.Selection
    private let addresses: () -> [InterfaceAddress]
    private let utilization: NetworkUtilization

    /// Reads under `root`; `addresses` lists the interfaces' addresses (getifaddrs on a board, a
    /// fixed list in tests), `clock` gives monotonic nanoseconds for Link Utilization.
    public init(root: SystemRoot = .live, selection: BoardDefinition.Selection = .auto,
                addresses: @escaping () -> [InterfaceAddress] = NetworkAddresses.live,
                clock: @escaping () -> Int64 = NetworkUtilization.monotonicNanoseconds) {
        self.root = root
        self.selection = selection
        self.addresses = addresses
        utilization = NetworkUtilization(root: root, clock: clock)
    }

    /// The board's interfaces that exist, and the selected names that do not (to warn about).
    public func interfaces() -> (interfaces: [NetworkInterface], missing: [String]) {
        interfaces(routes: Routes.defaultRoutes(in: root))
    }

    /// The selected interface names that do not exist (what `interfaces().missing` says, without
    /// reading the route tables or every interface: the daemon's start-up check).
    public func missingInterfaces() -> [String] {
        guard case .names(let names) = selection else { return [] }
        return names.filter { NetworkInterfaces.interface($0, in: root) == nil }
    }

    public func status() -> ConnectivityStatus {
        let allRoutes = Routes.defaultRoutes(in: root)
        let interfaces = interfaces(routes: allRoutes).interfaces
        let names = Set(interfaces.map(\.name))
        let routes = allRoutes.filter { names.contains($0.interface) }
        let current = routes.first.flatMap { route in interfaces.first { $0.name == route.interface } }
            ?? interfaces.first { $0.isUp }

        var status = ConnectivityStatus()
        status.networkBearer = current?.bearer
        for bearer in interfaces.compactMap(\.bearer) where !status.availableBearers.contains(bearer) {
            status.availableBearers.append(bearer)
        }
        if let current, current.bearer == ConnectivityMonitoringObject.Bearer.wlan,
           let link = Wireless.link(current.name, in: root) {
            status.radioSignalStrength = link.signalDBm
            status.linkQuality = link.linkQuality
        }
        status.linkUtilization = current.flatMap { utilization.percent($0.name) }
        let assigned = addresses().filter { names.contains($0.interface) && !$0.isLinkLocal }
        let ordered = assigned.filter { $0.interface == current?.name } + assigned.filter { $0.interface != current?.name }
        for address in ordered where !status.ipAddresses.contains(address.address) {
            status.ipAddresses.append(address.address)
        }
        for route in routes where !status.routerAddresses.contains(route.gateway) {
            status.routerAddresses.append(route.gateway)
        }
        return status
    }

    private func interfaces(routes: [DefaultRoute]) -> (interfaces: [NetworkInterface], missing: [String]) {
        switch selection {
        case .none:
            return ([], [])
        case .auto:
            let routed = Set(routes.map(\.interface))
            let found = NetworkInterfaces.all(in: root).filter { !$0.isLoopback && ($0.hasDevice || routed.contains($0.name)) }
            return (found, [])
        case .names(let names):
            var found: [NetworkInterface] = []
            var missing: [String] = []
            for name in names {
                if let interface = NetworkInterfaces.interface(name, in: root) {
                    if !found.contains(where: { $0.name == name }) { found.append(interface) }
                } else {
                    missing.append(name)
                }
            }
            return (found, missing)
        }
    }
}
