import Board
import LwM2M
import Testing

@Suite struct NetworkReadersTests {
    // MARK: - /sys/class/net

    @Test func interfacesOfThePiWithTheirBearers() {
        let root = SensorFixtures.root("sensors-pi4-wifi")
        let interfaces = NetworkInterfaces.all(in: root)
        #expect(interfaces.map(\.name) == ["eth0", "lo", "wlan0"])
        #expect(interfaces.map(\.bearer) == [41, nil, 21])
        #expect(interfaces.map(\.isLoopback) == [false, true, false])
        #expect(interfaces.map(\.hasDevice) == [true, false, true])
        #expect(interfaces[2].deviceType == "wlan" && interfaces[2].isWireless)
        #expect(interfaces.map(\.isUp) == [true, true, true])  // lo: operstate unknown with carrier
    }

    @Test func aDownInterfaceWithoutCarrierAndABridge() {
        let pi = NetworkInterfaces.interface("eth0", in: SensorFixtures.root("sensors-wlan-default"))
        #expect(pi?.operationalState == "down" && pi?.carrier == nil && pi?.isUp == false)
        let docker = NetworkInterfaces.interface("docker0", in: SensorFixtures.root("sensors-x86-ipv6"))
        #expect(docker?.deviceType == "bridge" && docker?.hasDevice == false && docker?.bearer == 41)
        #expect(NetworkInterfaces.interface("wlan9", in: SensorFixtures.root("sensors-x86-ipv6")) == nil)
        #expect(NetworkInterfaces.interface("../thermal", in: SensorFixtures.root("sensors-x86-ipv6")) == nil)
    }

    @Test func garbageAttributesReadAsUnknown() {
        let eth0 = NetworkInterfaces.interface("eth0", in: SensorFixtures.root("sensors-garbage"))
        #expect(eth0 != nil)
        #expect(eth0?.hardwareType == nil && eth0?.bearer == nil && eth0?.operationalState == nil)
        #expect(eth0?.deviceType == nil && eth0?.isWireless == false)
    }

    // MARK: - Routes

    @Test func ipv4DefaultRoutesByMetricWithTheGatewayInNetworkOrder() {
        let routes = Routes.defaultRoutes(in: SensorFixtures.root("sensors-pi4-wifi"))
        #expect(routes == [
            DefaultRoute(interface: "eth0", gateway: "192.168.1.1", metric: 202, isIPv6: false),
            DefaultRoute(interface: "wlan0", gateway: "192.168.8.1", metric: 303, isIPv6: false),
        ])
    }

    /// The text of this very machine's tables (`ip route`: default via 192.0.2.1 dev eth0;
    /// `ip -6 route`: default via fd00::1 dev eth0 metric 1024, and the kernel's unreachable ::/0
    /// on lo, which is RTF_REJECT).
    @Test func theKernelsOwnTextIncludingTheRejectRoute() {
        let ipv4 = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
            """
        #expect(Routes.ipv4(ipv4) == [DefaultRoute(interface: "eth0", gateway: "192.0.2.1", metric: 0, isIPv6: false)])
        let ipv6 = """
            fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
            00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
            00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
            """
        #expect(Routes.ipv6(ipv6) == [DefaultRoute(interface: "eth0", gateway: "fd00::1", metric: 1024, isIPv6: true)])
    }

    @Test func ipv6OnlyBoardWithARouterAdvertisedLinkLocalRouter() {
        let routes = Routes.defaultRoutes(in: SensorFixtures.root("sensors-x86-ipv6"))
        #expect(routes == [
            DefaultRoute(interface: "enp3s0", gateway: "fe80::211:22ff:fe33:4455%enp3s0", metric: 1024, isIPv6: true),
            DefaultRoute(interface: "enp3s0", gateway: "2001:db8:1::1", metric: 1280, isIPv6: true),
        ])
    }

    @Test func noRoutesAndGarbageRoutes() {
        #expect(Routes.defaultRoutes(in: SensorFixtures.root("sensors-no-network")).isEmpty)
        #expect(Routes.defaultRoutes(in: SensorFixtures.root("sensors-garbage")).isEmpty)
        #expect(Routes.defaultRoutes(in: SystemRoot("/nonexistent-root")).isEmpty)
        #expect(Routes.ipv4("").isEmpty && Routes.ipv6("\n\n").isEmpty)
    }

    // MARK: - /proc/net/wireless

    @Test func wirelessLinkQualityAndSignal() {
        #expect(Wireless.links(in: SensorFixtures.root("sensors-pi4-wifi"))
            == [WirelessLink(interface: "wlan0", linkQuality: 58, signalDBm: -52, noiseDBm: nil)])
        #expect(Wireless.links(in: SensorFixtures.root("sensors-no-network")).isEmpty)
        #expect(Wireless.links(in: SensorFixtures.root("sensors-garbage")).isEmpty)
        // An old driver's relative level (not dBm) is left out; noise in dBm is kept.
        let text = "Inter-| sta-|   Quality        |\n face | tus | link level noise |\n  wlan1: 0000   40.  190.  -95.   0 0 0 0 0   0\n"
        #expect(Wireless.parse(text) == [WirelessLink(interface: "wlan1", linkQuality: 40, signalDBm: nil, noiseDBm: -95)])
    }

    // MARK: - Address text

    @Test(arguments: [
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] as [UInt8], "2001:db8::1"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8:0:1::1"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"),  // first longest run
        ([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1], "2001:db8:1:1:1:1:0:1"),  // one zero: no ::
        ([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55], "fe80::211:22ff:fe33:4455"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], "::ffff:192.0.2.1"),
        ([1, 2, 3], ""),
    ])
    func ipv6Text(bytes: [UInt8], text: String) {
        #expect(IPAddressText.ipv6(bytes) == text)
    }

    @Test func liveAddressesIncludeLoopback() {
        let addresses = NetworkAddresses.live()
        #expect(addresses.contains(InterfaceAddress(interface: "lo", address: "127.0.0.1", isIPv6: false)))
        #expect(InterfaceAddress(interface: "eth0", address: "fe80::1", isIPv6: true).isLinkLocal)
        #expect(!InterfaceAddress(interface: "eth0", address: "fec0::1", isIPv6: true).isLinkLocal)
    }
}
