import Board
import LwM2M
import Testing

@Suite struct NetworkConnectivityTests {
    private func status(_ fixture: String, _ selection: BoardDefinition.Selection = .auto,
                        addresses: [InterfaceAddress] = SensorFixtures.piAddresses) -> ConnectivityStatus {
        NetworkConnectivity(root: SensorFixtures.root(fixture), selection: selection, addresses: { addresses }).status()
    }

    /// Wi-Fi gateway, default route via eth0: the bearer is Ethernet, Wi-Fi is available, the
    /// radio values are not the current bearer's and stay absent.
    @Test func wifiGatewayRoutingThroughEthernet() {
        let status = status("sensors-pi4-wifi")
        #expect(status == ConnectivityStatus(
            networkBearer: 41, availableBearers: [41, 21], radioSignalStrength: nil, linkQuality: nil,
            ipAddresses: ["192.168.1.20", "192.168.8.31", "2001:db8:8::31"],
            routerAddresses: ["192.168.1.1", "192.168.8.1"]))
    }

    /// The same board with the cable out: Wi-Fi carries the default route, so its signal level
    /// and link quality from /proc/net/wireless are reported and its addresses come first.
    @Test func wifiAsTheBearerReportsSignalAndQuality() {
        let status = status("sensors-wlan-default")
        #expect(status.networkBearer == 21)
        #expect(status.availableBearers == [41, 21])
        #expect(status.radioSignalStrength == -52)
        #expect(status.linkQuality == 58)
        #expect(status.ipAddresses == ["192.168.8.31", "2001:db8:8::31", "192.168.1.20"])
        #expect(status.routerAddresses == ["192.168.8.1"])
    }

    /// IPv6-only: the routers come from /proc/net/ipv6_route; docker0 (virtual, no `device`) is
    /// not one of the board's interfaces under `auto`.
    @Test func ipv6OnlyDefaultRoute() {
        let addresses = [InterfaceAddress(interface: "enp3s0", address: "2001:db8:1::20", isIPv6: true),
                         InterfaceAddress(interface: "docker0", address: "172.17.0.1", isIPv6: false)]
        let status = status("sensors-x86-ipv6", addresses: addresses)
        #expect(status.networkBearer == 41)
        #expect(status.availableBearers == [41])
        #expect(status.ipAddresses == ["2001:db8:1::20"])
        #expect(status.routerAddresses == ["fe80::211:22ff:fe33:4455%enp3s0", "2001:db8:1::1"])
    }

    @Test func namedInterfacesOnlyAndTheMissingOnesListed() {
        let provider = NetworkConnectivity(root: SensorFixtures.root("sensors-pi4-wifi"),
                                           selection: .names(["wlan0", "usb0"]), addresses: { SensorFixtures.piAddresses })
        #expect(provider.interfaces().interfaces.map(\.name) == ["wlan0"])
        #expect(provider.interfaces().missing == ["usb0"])
        #expect(provider.missingInterfaces() == ["usb0"], "the start-up check agrees with the full listing")
        let status = provider.status()
        // eth0 is not the board's: its default route does not count, wlan0's does.
        #expect(status.networkBearer == 21 && status.radioSignalStrength == -52)
        #expect(status.availableBearers == [21])
        #expect(status.ipAddresses == ["192.168.8.31", "2001:db8:8::31"])
        #expect(status.routerAddresses == ["192.168.8.1"])
        let none = NetworkConnectivity(root: SensorFixtures.root("sensors-pi4-wifi"), selection: .none,
                                       addresses: { SensorFixtures.piAddresses })
        #expect(none.interfaces().interfaces.isEmpty && none.status() == ConnectivityStatus())
    }

    /// Link Utilization: the busier direction over the link speed between two readings at least
    /// a second apart; unknown first, for links without a speed, and after a counter reset.
    @Test func linkUtilizationBetweenReadings() {
        let eth0 = "/sys/class/net/eth0/"
        let tree = SensorFixtures.scratch([
            eth0 + "type": "1\n", eth0 + "operstate": "up\n", eth0 + "device/uevent": "", eth0 + "speed": "100\n",
            eth0 + "statistics/rx_bytes": "1000000\n", eth0 + "statistics/tx_bytes": "500\n",
            "/proc/net/route": "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\n",
        ])
        defer { SensorFixtures.remove(tree) }
        var clock: Int64 = 5_000_000_000
        let provider = NetworkConnectivity(root: SystemRoot(tree), addresses: { [] }, clock: { clock })
        func counters(_ received: Int, _ sent: Int) {
            SensorFixtures.write(tree + eth0 + "statistics/rx_bytes", "\(received)\n")
            SensorFixtures.write(tree + eth0 + "statistics/tx_bytes", "\(sent)\n")
        }
        #expect(provider.status().linkUtilization == nil)  // one reading: no rate yet
        clock += 2_000_000_000
        counters(3_500_000, 1_000)  // 2.5 MB in 2 s = 10 Mbit/s of 100
        #expect(provider.status().linkUtilization == 10)
        clock += 200_000_000
        counters(9_000_000, 1_000)  // too soon after: the last figure
        #expect(provider.status().linkUtilization == 10)
        clock += 1_000_000_000
        counters(9_000_000, 20_000_000)  // 1.2 s: tx 20 MB is more than the link: capped
        #expect(provider.status().linkUtilization == 100)
        clock += 1_000_000_000
        counters(10, 10)  // counters reset (driver reload): start again
        #expect(provider.status().linkUtilization == nil)
        clock += 1_000_000_000
        counters(10, 10)
        #expect(provider.status().linkUtilization == 0)
        SensorFixtures.write(tree + eth0 + "speed", "-1\n")  // link down or a virtual NIC
        clock += 1_000_000_000
        #expect(provider.status().linkUtilization == nil)
    }

    @Test func noNetworkAtAll() {
        let status = status("sensors-no-network", addresses: [InterfaceAddress(interface: "lo", address: "127.0.0.1",
                                                                               isIPv6: false)])
        #expect(status == ConnectivityStatus())
        let contents = ConnectivityMonitoringObject.contents(status)
        #expect(contents.keys.sorted() == [1, 4])  // the mandatory lists, empty
    }

    @Test func garbageGivesNothingRatherThanNonsense() {
        let status = status("sensors-garbage")
        #expect(status.networkBearer == nil && status.availableBearers.isEmpty)
        #expect(status.routerAddresses.isEmpty && status.radioSignalStrength == nil)
    }

    /// A change between two samples (the route moves to Wi-Fi) is reported per resource.
    @Test func sampleReportsWhatChanged() throws {
        let tree = SensorFixtures.scratch([
            "/sys/class/net/eth0/type": "1\n", "/sys/class/net/eth0/operstate": "up\n",
            "/sys/class/net/eth0/device/uevent": "",
            "/sys/class/net/wlan0/type": "1\n", "/sys/class/net/wlan0/operstate": "up\n",
            "/sys/class/net/wlan0/uevent": "DEVTYPE=wlan\n", "/sys/class/net/wlan0/device/uevent": "",
            "/proc/net/route": "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\n",
            "/proc/net/wireless": "h\nh\nwlan0: 0000 60. -48. -256 0 0 0 0 0 0\n",
        ])
        defer { SensorFixtures.remove(tree) }
        let object = ConnectivityMonitoringObject(provider: NetworkConnectivity(root: SystemRoot(tree), addresses: { [] }))
        var changes: [LwM2MPath] = []
        object.changeHandler = { changes.append($0) }
        object.sample(now: 0)
        #expect(changes.isEmpty)  // the first status is the reference
        #expect(try object.read(LwM2MPath(4, 0, 0)) == .single(.integer(41)))

        SensorFixtures.write(tree + "/proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
            + "wlan0\t00000000\t0108A8C0\t0003\t0\t0\t600\t00000000\n")
        object.sample(now: 1)
        #expect(changes == [LwM2MPath(4, 0, 0), LwM2MPath(4, 0, 2), LwM2MPath(4, 0, 3), LwM2MPath(4, 0, 5)])
        #expect(try object.read(LwM2MPath(4, 0, 2)) == .single(.integer(-48)))
        #expect(try object.read(LwM2MPath(4, 0, 5)) == .multiple([0: .string("192.168.8.1")]))

        changes = []
        object.sample(now: 2)
        #expect(changes.isEmpty)
    }
}
