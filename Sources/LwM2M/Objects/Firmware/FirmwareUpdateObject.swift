/// The Firmware Update object (5, version 1.2 of objects/oma/5.xml), one instance (0): the
/// state machine of LwM2M TS 1.1 Core Appendix E.6 (E.6.1, the Firmware Update state machine)
/// as a sans-IO core. Its only I/O is the `FirmwareImageStore` packages are streamed into;
/// everything else it needs done (download, cancel, install, persist) it asks for as
/// `FirmwareRequest`s (`takeRequests()`), and the outer layer reports back with
/// `downloadProgress`, `downloadFinished` and `installFinished` (`+Reports.swift`).
///
/// Resources: Package (0, push: a whole-payload Write, or `receivePackageBlock` per Block1
/// block), Package URI (1, pull), Update (2), State (3), Update Result (5), PkgName (6),
/// PkgVersion (7), Protocol Support (8) and Delivery Method (9) from the `Configuration`,
/// Cancel (10) and Automatic Upgrade at Download (14). Severity (11), Last State Change Time
/// (12) and Maximum Defer Period (13) are left out: they serve a user who defers an update on
/// the device's own interface, which a gateway has not, and this core has no wall clock.
///
/// What each state allows (docs/firmware-update.md has the table):
/// - Idle: a Write of Package (push) or of a non-empty Package URI (pull) starts Downloading
///   with Update Result 0; an invalid URI sets 7, an unsupported scheme 9 (the Write is 4.00).
/// - Downloading: blocks of the same push continue it, a push restarted at offset 0 starts
///   over; the download ends in Downloaded, or in Idle with the failure's result (2–7, 9).
/// - Downloaded: Update (2) starts Updating (persisted before the install is requested).
/// - Downloading and Downloaded: an empty Write of Package (empty or one 0 byte) or Package URI
///   resets to Idle with result 0; Cancel resets to Idle with result 10; any other Write of
///   Package or Package URI is 4.00 (reset first).
/// - Updating: every Write of Package or Package URI and Cancel are 4.05 (5.xml, Cancel: "If
///   the device is in the process of installing the firmware … it MUST respond with Method
///   Not Allowed"); the install's outcome moves it to Idle (success 1, integrity 5,
///   unsupported package 6) or back to Downloaded (failure 8, storage 2, memory 3, deferred 11).
/// - Update outside Downloaded is 4.05 (5.xml, Update: "only executable when the value of
///   the State Resource is Downloaded"); Cancel in Idle too (nothing to cancel).
///
/// Every change of State, Update Result, Package URI, PkgName, PkgVersion or Automatic
/// Upgrade is reported through `changeHandler`; every change of what `PersistentState` holds
/// (except the byte count alone) queues a `.persist` before any other request. Not
/// thread-safe: use it from the context that runs the protocol loop.
public final class FirmwareUpdateObject: LwM2MObject {
    /// What this build and this device's configuration can do.
    public struct Configuration: Hashable, Sendable {
        /// The download protocols Package URI may use (Protocol Support, /5/0/8); empty: no pull.
        public var protocols: Set<FirmwareProtocol>
        /// Whether a server may write the package into Package (push).
        public var acceptsPush: Bool

        /// The object version served: 1.1 (what an LwM2M 1.1 server such as Leshan 2.0 has a
        /// model for; the agent announces LwM2M 1.1) or 1.2, which adds Automatic Upgrade at
        /// Download (14).
        public var version: Version

        /// Object 5's versions (OMA registry: 1.2 is the newest, still an LwM2M 1.1 object).
        public enum Version: String, Hashable, Sendable {
            case v1_1 = "1.1"
            case v1_2 = "1.2"
        }

        public init(protocols: Set<FirmwareProtocol>, acceptsPush: Bool = true, version: Version = .v1_1) {
            self.protocols = protocols
            self.acceptsPush = acceptsPush
            self.version = version
        }

        /// Delivery Method (/5/0/9): both when push is accepted and some protocol can pull,
        /// push only without protocols, pull only without push.
        public var deliveryMethod: FirmwareDeliveryMethod {
            if acceptsPush { return protocols.isEmpty ? .pushOnly : .both }
            return .pullOnly
        }
    }

    /// The resource IDs of object 5 this object serves.
    public enum Resource {
        public static let package: UInt16 = 0
        public static let packageURI: UInt16 = 1
        public static let update: UInt16 = 2
        public static let state: UInt16 = 3
        public static let updateResult: UInt16 = 5
        public static let packageName: UInt16 = 6
        public static let packageVersion: UInt16 = 7
        public static let protocolSupport: UInt16 = 8
        public static let deliveryMethod: UInt16 = 9
        public static let cancel: UInt16 = 10
        public static let automaticUpdate: UInt16 = 14
    }

    /// Object 5 as the OMA registry defines it (`OMAObjects`).
    public let definition: ObjectDefinition
    /// Set by `ObjectRegistry.register`; called for every value that changed.
    public var changeHandler: ((LwM2MPath) -> Void)?
    /// What this agent can do (Protocol Support, Delivery Method); asking for it works out
    /// ``protocols``.
    public var configuration: Configuration {
        Configuration(protocols: protocols, acceptsPush: acceptsPush, version: version)
    }
    /// Whether a server may write the package into Package (push).
    public let acceptsPush: Bool
    /// The object version served.
    public let version: Configuration.Version
    /// The download protocols Package URI may use (Protocol Support, /5/0/8): worked out the
    /// first time they are needed (a Read of /5/0/8 or /5/0/9, a Write of Package URI, a
    /// restored pull), then kept.
    public var protocols: Set<FirmwareProtocol> {
        if let knownProtocols { return knownProtocols }
        let found = findProtocols?() ?? []
        knownProtocols = found
        findProtocols = nil
        return found
    }
    private var knownProtocols: Set<FirmwareProtocol>?
    private var findProtocols: (() -> Set<FirmwareProtocol>)?

    /// Where packages go.
    let store: any FirmwareImageStore
    /// The state machine's data.
    var current: PersistentState
    /// The state last handed out in a `.persist` (or restored).
    var lastPersisted: PersistentState
    /// Requests not taken yet, in order.
    var pending: [FirmwareRequest] = []

    /// An object in `restoring` (nil: Idle, never updated), with `store` for packages. A
    /// restored state is taken up where it was: Downloading from Package URI resumes (a
    /// `.download` from the store's size when there is an ETag to check, else from 0);
    /// Downloading by push cannot (the server's transfer is gone): Idle, result 4; Updating asks
    /// for the install's outcome (`.resolveInstall`). An inconsistent state is dropped (Idle).
    public convenience init(configuration: Configuration, store: any FirmwareImageStore,
                            restoring: PersistentState? = nil) {
        self.init(version: configuration.version, acceptsPush: configuration.acceptsPush,
                  protocols: { configuration.protocols }, store: store, restoring: restoring)
    }

    /// The same as ``init(configuration:store:restoring:)`` with the download protocols found by
    /// `protocols`, called once when they are first needed (``protocols``): what is installed on
    /// the machine need not be looked up before the first Register, nor at all when no server
    /// asks.
    public init(version: Configuration.Version = .v1_1, acceptsPush: Bool = true,
                protocols: @escaping () -> Set<FirmwareProtocol>, store: any FirmwareImageStore,
                restoring: PersistentState? = nil) {
        definition = Self.definition(version)
        self.version = version
        self.acceptsPush = acceptsPush
        findProtocols = protocols
        self.store = store
        current = restoring ?? PersistentState()
        if version == .v1_1 { current.automaticUpdate = false }  // no resource 14 to undo it
        lastPersisted = current
        restore()
    }

    // MARK: - Accessors

    /// State (/5/0/3).
    public var state: FirmwareState { current.state }
    /// Update Result (/5/0/5).
    public var result: FirmwareUpdateResult { current.result }
    /// Everything a restart needs, as it is now.
    public var persistentState: PersistentState { current }
    /// Whether a download from Package URI is in progress (the outer layer is fetching).
    public var isPulling: Bool { current.state == .downloading && current.packageURI != nil }

    /// The requests queued since the last call, in the order to carry them out (a `.persist`
    /// before whatever it must precede).
    public func takeRequests() -> [FirmwareRequest] {
        defer { pending.removeAll() }
        return pending
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { [0] }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard instance == 0 else { return [] }
        return [Resource.package, Resource.packageURI, Resource.update, Resource.state, Resource.updateResult,
                Resource.packageName, Resource.packageVersion, Resource.protocolSupport, Resource.deliveryMethod,
                Resource.cancel] + (servesAutomaticUpdate ? [Resource.automaticUpdate] : [])
    }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        switch try resource(of: path) {
        case Resource.packageURI: return .single(.string(current.packageURI ?? ""))
        case Resource.state: return .single(.integer(Int64(current.state.rawValue)))
        case Resource.updateResult: return .single(.integer(Int64(current.result.rawValue)))
        case Resource.packageName: return .single(.string(current.packageName ?? ""))
        case Resource.packageVersion: return .single(.string(current.packageVersion ?? ""))
        case Resource.protocolSupport:
            let values = protocols.map(\.rawValue).sorted()
            return .multiple(Dictionary(uniqueKeysWithValues: values.enumerated().map {
                (UInt16($0.offset), ResourceValue.integer(Int64($0.element)))
            }))
        case Resource.deliveryMethod: return .single(.integer(Int64(configuration.deliveryMethod.rawValue)))
        case Resource.automaticUpdate: return .single(.boolean(current.automaticUpdate))
        case Resource.package, Resource.update, Resource.cancel: throw .methodNotAllowed
        default: throw .notFound
        }
    }

    /// Package (a whole package in one payload: `receivePackageBlock(offset: 0, …, isLast:
    /// true)`), Package URI and Automatic Upgrade at Download; values of the wrong type are 4.00.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        switch try resource(of: path) {
        case Resource.package:
            guard case .single(.opaque(let bytes)) = content else { throw .badRequest("Package (0) is a single opaque value") }
            try receivePackageBlock(offset: 0, bytes: bytes, isLast: true)
        case Resource.packageURI:
            guard case .single(.string(let text)) = content else { throw .badRequest("Package URI (1) is a single string") }
            try writePackageURI(text)
        case Resource.automaticUpdate:
            guard case .single(.boolean(let flag)) = content else {
                throw .badRequest("Automatic Upgrade at Download (14) is a single boolean")
            }
            let before = current
            current.automaticUpdate = flag
            commit(from: before)
        default:
            throw .methodNotAllowed
        }
    }

    /// Update (2) and Cancel (10); their arguments are ignored.
    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        switch try resource(of: path) {
        case Resource.update: try executeUpdate()
        case Resource.cancel: try executeCancel()
        default: throw .methodNotAllowed
        }
    }

    /// A Write-Replace of the instance left Automatic Upgrade at Download out: false again.
    public func removeResource(_ path: LwM2MPath) throws(LwM2MError) {
        guard try resource(of: path) == Resource.automaticUpdate else { throw .methodNotAllowed }
        let before = current
        current.automaticUpdate = false
        commit(from: before)
    }

    // MARK: - Private

    /// The resource ID of a resource path of instance 0 this version has, else 4.04.
    private func resource(of path: LwM2MPath) throws(LwM2MError) -> UInt16 {
        let resource = try indexedResource(path, instanceCount: 1).1
        if resource == Resource.automaticUpdate && !servesAutomaticUpdate { throw .notFound }
        return resource
    }

    /// Whether Automatic Upgrade at Download (14, version 1.2) is served.
    private var servesAutomaticUpdate: Bool { version == .v1_2 }

    /// Object 5 in `version`: the registry's 1.2 definition, without resource 14 for 1.1 (the
    /// resources 0–13 of 1.1 are the same in 1.2).
    static func definition(_ version: Configuration.Version) -> ObjectDefinition {
        let full = OMAObjects.definition(5)!
        guard version == .v1_1 else { return full }
        return ObjectDefinition(id: full.id, name: full.name, version: "1.1", lwm2mVersion: full.lwm2mVersion,
                                isMultiple: full.isMultiple, isMandatory: full.isMandatory,
                                resources: full.resources.filter { $0.id != Resource.automaticUpdate })
    }
}
