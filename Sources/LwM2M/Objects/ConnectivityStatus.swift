/// What the Connectivity Monitoring object (4) reports, as one reading of the network: the
/// values a `ConnectivityProvider` found, nil or empty where the source does not say.
public struct ConnectivityStatus: Hashable, Sendable {
    /// Network Bearer (4/0/0) of the interface the agent's traffic leaves by (the one carrying
    /// the default route); nil when unknown (no route, or an interface of no known bearer).
    public var networkBearer: Int64?
    /// Available Network Bearer (4/0/1): one entry per kind of bearer the board has, no repeats.
    public var availableBearers: [Int64]
    /// Radio Signal Strength (4/0/2), dBm, of the current bearer when it is a radio that reports it.
    public var radioSignalStrength: Int64?
    /// Link Quality (4/0/3) of the current bearer, in the source's own scale.
    public var linkQuality: Int64?
    /// IP Addresses (4/0/4), text form, the current bearer's first.
    public var ipAddresses: [String]
    /// Router IP Addresses (4/0/5): the default gateways, text form.
    public var routerAddresses: [String]
    /// Link Utilization (4/0/6), percent; nil when not measured.
    public var linkUtilization: Int64?
    /// APN (4/0/7); empty when unknown (not a cellular bearer, or no modem manager asked).
    public var apn: [String]

    public init(networkBearer: Int64? = nil, availableBearers: [Int64] = [], radioSignalStrength: Int64? = nil,
                linkQuality: Int64? = nil, ipAddresses: [String] = [], routerAddresses: [String] = [],
                linkUtilization: Int64? = nil, apn: [String] = []) {
        self.networkBearer = networkBearer
        self.availableBearers = availableBearers
        self.radioSignalStrength = radioSignalStrength
        self.linkQuality = linkQuality
        self.ipAddresses = ipAddresses
        self.routerAddresses = routerAddresses
        self.linkUtilization = linkUtilization
        self.apn = apn
    }
}

/// Where the Connectivity Monitoring object gets its values: the kernel's network state on a
/// board (Board's `NetworkConnectivity`), a fixed status in tests. Asked at every Read and sample.
public protocol ConnectivityProvider: AnyObject {
    /// The network as it is now.
    func status() -> ConnectivityStatus
}
