/// The IPSO Digital Output object (3201), one instance per output line (instance IDs 0, 1, …
/// in the order given):
///
/// - State (5550): what the server asked for; the line is driven to State XOR Polarity.
/// - Polarity (5551): true reverses the line; a write re-drives the line so the State keeps
///   its meaning (a relay wired normally-closed).
/// - Application Type (5750): the board's text; a server's write is kept in memory.
///
/// A line that refuses the new level (the kernel's error) makes the write 5.00 with the
/// ``HardwareAccessError`` text, and State and Polarity stay as they were. Each successful
/// write that changes State or Polarity is reported through `changeHandler` and handed to
/// ``stateChanged`` (the daemon persists it for `persist = yes` lines).
public final class DigitalOutputObject: LwM2MObject {
    /// One output line and its settings from the board.
    public struct Output {
        /// The requested output line (logical levels).
        public var line: any DigitalLine
        /// Application Type (5750) until a server writes another; nil: absent.
        public var applicationType: String?
        /// The Polarity (5551) the line was requested under: the initial State is the line's
        /// level XOR this (a daemon restoring a persisted reversed output may request the line
        /// at State XOR Polarity and pass the Polarity here, so the relay never flickers).
        public var polarity: Bool

        public init(line: any DigitalLine, applicationType: String? = nil) {
            self.init(line: line, applicationType: applicationType, polarity: false)
        }

        public init(line: any DigitalLine, applicationType: String?, polarity: Bool) {
            self.line = line
            self.applicationType = applicationType
            self.polarity = polarity
        }
    }

    /// The resource IDs of object 3201 this object serves.
    public enum Resource {
        public static let state: UInt16 = 5550
        public static let polarity: UInt16 = 5551
        public static let applicationType: UInt16 = 5750
    }

    /// Object 3201 as the OMA registry defines it (`OMAObjects`).
    public let definition: ObjectDefinition
    /// Set by `ObjectRegistry.register`; called for every value that changed.
    public var changeHandler: ((LwM2MPath) -> Void)?
    /// Called after a server's write changed an instance's State (5550) or Polarity (5551) on
    /// the line: (instance, state, polarity). The daemon persists it for `persist = yes` lines.
    public var stateChanged: ((UInt16, Bool, Bool) -> Void)?

    private struct Channel {
        let line: any DigitalLine
        let boardApplicationType: String?
        var applicationType: String?
        var state: Bool
        var polarity: Bool
    }

    private var channels: [Channel]

    /// The initial State of each instance is read from its line (the daemon requested it with
    /// its initial/persisted value): its level XOR the output's polarity, false when the line
    /// cannot be read. At most 65535 outputs; any beyond are ignored.
    public init(outputs: [Output]) {
        definition = OMAObjects.definition(3201)!
        channels = outputs.prefix(65535).map { output in
            let level = (try? output.line.level()) ?? false
            return Channel(line: output.line, boardApplicationType: output.applicationType,
                           applicationType: output.applicationType,
                           state: level != output.polarity, polarity: output.polarity)
        }
    }

    /// Restores a persisted polarity at start (before registration); re-drives the line. The
    /// State stays what was read at init (the persisted State the line was requested with) and
    /// the line goes to State XOR `reversed`. Throws for an unknown instance or when the line
    /// refuses the level (the Polarity then stays as it was).
    public func restorePolarity(_ instance: UInt16, _ reversed: Bool) throws(HardwareAccessError) {
        let index = Int(instance)
        guard index < channels.count else { throw HardwareAccessError("no digital output instance \(instance)") }
        try channels[index].line.setLevel(channels[index].state != reversed)
        let changed = channels[index].polarity != reversed
        channels[index].polarity = reversed
        if changed { report(index, Resource.polarity) }
    }

    /// The State (5550) of `instance`, nil for an unknown instance (for tests and `board show`).
    public func state(of instance: UInt16) -> Bool? {
        Int(instance) < channels.count ? channels[Int(instance)].state : nil
    }

    /// The Polarity (5551) of `instance`, nil for an unknown instance.
    public func polarity(of instance: UInt16) -> Bool? {
        Int(instance) < channels.count ? channels[Int(instance)].polarity : nil
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { channels.indices.map { UInt16($0) } }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard Int(instance) < channels.count else { return [] }
        var ids = [Resource.state, Resource.polarity]
        if channels[Int(instance)].applicationType != nil { ids.append(Resource.applicationType) }
        return ids
    }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        let (index, resource) = try ids(of: path)
        let channel = channels[index]
        switch resource {
        case Resource.state: return .single(.boolean(channel.state))
        case Resource.polarity: return .single(.boolean(channel.polarity))
        case Resource.applicationType:
            guard let text = channel.applicationType else { throw .notFound }
            return .single(.string(text))
        default: throw .notFound
        }
    }

    /// State and Polarity drive the line (5.00 when it refuses); Application Type is kept in
    /// memory. Values of the wrong type are 4.00.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        switch resource {
        case Resource.state, Resource.polarity:
            guard case .single(.boolean(let flag)) = content else {
                throw .badRequest("\(resource == Resource.state ? "State (5550)" : "Polarity (5551)") is a single boolean")
            }
            var channel = channels[index]
            if resource == Resource.state { channel.state = flag } else { channel.polarity = flag }
            do throws(HardwareAccessError) {
                try channel.line.setLevel(channel.state != channel.polarity)
            } catch {
                throw .internalError(error.description)
            }
            let changed = channel.state != channels[index].state || channel.polarity != channels[index].polarity
            channels[index] = channel
            guard changed else { return }
            report(index, resource)
            stateChanged?(UInt16(index), channel.state, channel.polarity)
        case Resource.applicationType:
            guard case .single(.string(let text)) = content else {
                throw .badRequest("Application Type (5750) is a single string")
            }
            channels[index].applicationType = text
            report(index, resource)
        default:
            throw .notFound
        }
    }

    /// A Write-Replace of the instance left `path` out: Polarity goes back to false (the line
    /// is re-driven, 5.00 when it refuses), Application Type to the board's.
    public func removeResource(_ path: LwM2MPath) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        switch resource {
        case Resource.polarity:
            try write(path, .single(.boolean(false)))
        case Resource.applicationType:
            channels[index].applicationType = channels[index].boardApplicationType
            report(index, resource)
        default:
            throw .methodNotAllowed
        }
    }

    // MARK: - Private

    private func report(_ index: Int, _ resource: UInt16) {
        changeHandler?(LwM2MPath(definition.id, UInt16(index), resource))
    }

    /// The instance index and resource ID of a resource path of this object.
    private func ids(of path: LwM2MPath) throws(LwM2MError) -> (Int, UInt16) {
        guard path.isResource, path.objectID == definition.id, let instance = path.instanceID,
              Int(instance) < channels.count, let resource = path.resourceID else { throw .notFound }
        return (Int(instance), resource)
    }
}
