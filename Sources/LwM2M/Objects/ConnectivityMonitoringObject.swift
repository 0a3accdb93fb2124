/// The Connectivity Monitoring object (4), instance 0, read at read time from a
/// `ConnectivityProvider`:
///
/// - Available Network Bearer (1) and IP Addresses (4) are always present (possibly with no
///   instances: a board without network).
/// - Network Bearer (0), Radio Signal Strength (2), Link Quality (3), Router IP Addresses (5),
///   Link Utilization (6) and APN (7) are present only when the provider knows them; the cell
///   fields (8–13) are never offered.
///
/// Every Read (and Discover) takes one fresh status from the provider; `sample(now:)` does too
/// and reports each resource whose value changed, so observations fire on real changes.
public final class ConnectivityMonitoringObject: SampledObject {
    /// The resource IDs of object 4 this object serves.
    public enum Resource {
        public static let networkBearer: UInt16 = 0
        public static let availableNetworkBearer: UInt16 = 1
        public static let radioSignalStrength: UInt16 = 2
        public static let linkQuality: UInt16 = 3
        public static let ipAddresses: UInt16 = 4
        public static let routerIPAddresses: UInt16 = 5
        public static let linkUtilization: UInt16 = 6
        public static let apn: UInt16 = 7
    }

    /// Network Bearer values (object 4 resource 0, OMA registry): cellular 0–20, wireless 21–40,
    /// wireline 41–50.
    public enum Bearer {
        public static let gsm: Int64 = 0
        public static let lteFDD: Int64 = 6
        public static let nbIoT: Int64 = 7
        public static let wlan: Int64 = 21
        public static let bluetooth: Int64 = 22
        public static let ieee802154: Int64 = 23
        public static let ethernet: Int64 = 41
        public static let dsl: Int64 = 42
        public static let plc: Int64 = 43
    }

    /// Object 4 as the OMA registry defines it (`OMAObjects`).
    public let definition: ObjectDefinition
    /// Set by `ObjectRegistry.register`; called for every value a reading changed.
    public var changeHandler: ((LwM2MPath) -> Void)?

    private let provider: any ConnectivityProvider
    /// The status of the last Read or sample.
    private var current: ConnectivityStatus?

    /// The object over `provider`; nothing is read before the first Read or sample.
    public init(provider: any ConnectivityProvider) {
        definition = OMAObjects.definition(4)!
        self.provider = provider
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { [0] }

    /// Takes a fresh status (this is the call a Read, a Discover and an observation evaluation
    /// all start with) and lists what it holds.
    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard instance == 0 else { return [] }
        refresh()
        return Self.contents(current ?? ConnectivityStatus()).keys.sorted()
    }

    /// The value as of the last status taken (`resourceIDs(in:)` takes one before every Read).
    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        guard path.isResource, path.objectID == definition.id, path.instanceID == 0,
              let resource = path.resourceID else { throw .notFound }
        if current == nil { refresh() }
        guard let content = Self.contents(current ?? ConnectivityStatus())[resource] else { throw .notFound }
        return content
    }

    // MARK: - SampledObject

    /// Takes a status and reports the resources that changed.
    public func sample(now: Int64) {
        refresh()
    }

    // MARK: - Values

    /// The present resources of `status` and their content.
    public static func contents(_ status: ConnectivityStatus) -> [UInt16: ResourceContent] {
        func list(_ values: [ResourceValue]) -> ResourceContent {
            var instances: [UInt16: ResourceValue] = [:]
            for (index, value) in values.prefix(65535).enumerated() { instances[UInt16(index)] = value }
            return .multiple(instances)
        }
        var contents: [UInt16: ResourceContent] = [
            Resource.availableNetworkBearer: list(status.availableBearers.map(ResourceValue.integer)),
            Resource.ipAddresses: list(status.ipAddresses.map(ResourceValue.string)),
        ]
        if let bearer = status.networkBearer { contents[Resource.networkBearer] = .single(.integer(bearer)) }
        if let strength = status.radioSignalStrength {
            contents[Resource.radioSignalStrength] = .single(.integer(strength))
        }
        if let quality = status.linkQuality { contents[Resource.linkQuality] = .single(.integer(quality)) }
        if !status.routerAddresses.isEmpty {
            contents[Resource.routerIPAddresses] = list(status.routerAddresses.map(ResourceValue.string))
        }
        if let utilization = status.linkUtilization {
            contents[Resource.linkUtilization] = .single(.integer(utilization))
        }
        if !status.apn.isEmpty { contents[Resource.apn] = list(status.apn.map(ResourceValue.string)) }
        return contents
    }

    // MARK: - Private

    private func refresh() {
        let status = provider.status()
        let previous = current
        current = status
        guard let previous, previous != status else { return }
        let before = Self.contents(previous)
        let after = Self.contents(status)
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
        for resource in changed { changeHandler?(LwM2MPath(definition.id, 0, resource)) }
    }
}
