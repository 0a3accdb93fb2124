import Time

/// The IPSO Digital Input (3200) and Push Button (3347) objects, one instance per input line
/// (instance IDs 0, 1, … in the order given). Sans-IO: the outer layer hands each kernel edge
/// event to ``lineChanged(_:to:at:)`` and runs the debounce timers through ``nextDeadline`` and
/// ``advance(to:)``.
///
/// - State (5500): the line's logical level XOR Polarity. Every transition is reported through
///   `changeHandler`, whatever Edge Selection says (an observer of the State sees the truth).
/// - Counter (5501): the transitions Edge Selection selects (a Push Button counts presses:
///   false → true), an `Int64` that stops at `Int64.max`; Counter Reset (5505) sets it to 0.
/// - Polarity (5502, 3200 only): a write flips the State (reported) without counting.
/// - Debounce (5503, 3200 only, ms, 0...60000): an edge (re)starts a timer of the period; when
///   it expires the line is read, and a State different from the reported one is one
///   transition. With 0, each edge event is a transition by itself (ignored when it leaves the
///   State as it is). A written period applies from the next edge on.
/// - Edge Selection (5504, 3200 only): 1 falling, 2 rising (default), 3 both.
/// - Application Type (5750): the board's text; a server's write is kept in memory.
///
/// A line that cannot be read keeps the State it had (no report); at start it counts as false
/// until the next edge. Details in docs/ipso-gpio-objects.md.
public final class DigitalInputObject: TimedObject {
    /// Which IPSO object the instances form.
    public enum Kind: Sendable {
        /// Digital Input (3200): State, Counter, Polarity, Debounce, Edge Selection, Counter
        /// Reset, Application Type.
        case digitalInput
        /// Push Button (3347): State, Counter (presses), Application Type; debounce from the
        /// board, no polarity.
        case pushButton

        /// The object ID: 3200 or 3347.
        public var objectID: UInt16 {
            switch self {
            case .digitalInput: 3200
            case .pushButton: 3347
            }
        }
    }

    /// One input line and its settings from the board.
    public struct Input {
        /// The requested input line (logical levels).
        public var line: any DigitalLine
        /// Application Type (5750) until a server writes another; nil: absent.
        public var applicationType: String?
        /// The debounce period (5503), 0...60 s in whole milliseconds (outside values are
        /// clamped, fractions of a millisecond dropped).
        public var debounce: Duration
        /// What the Counter counts (5504); a Push Button always counts rising transitions.
        public var edgeSelection: EdgeSelection

        public init(line: any DigitalLine, applicationType: String? = nil, debounce: Duration = .zero,
                    edgeSelection: EdgeSelection = .rising) {
            self.line = line
            self.applicationType = applicationType
            self.debounce = debounce
            self.edgeSelection = edgeSelection
        }
    }

    /// The resource IDs of objects 3200 and 3347 this object serves.
    public enum Resource {
        public static let state: UInt16 = 5500
        public static let counter: UInt16 = 5501
        public static let polarity: UInt16 = 5502
        public static let debounce: UInt16 = 5503
        public static let edgeSelection: UInt16 = 5504
        public static let counterReset: UInt16 = 5505
        public static let applicationType: UInt16 = 5750
    }

    /// The longest debounce period a server may write (5503): 60 000 ms.
    public static let maximumDebounceMilliseconds: Int64 = 60_000

    /// Object 3200 or 3347 as the OMA registry defines it (`OMAObjects`).
    public let definition: ObjectDefinition
    /// Digital Input or Push Button.
    public let kind: Kind
    /// Set by `ObjectRegistry.register`; called for every value that changed.
    public var changeHandler: ((LwM2MPath) -> Void)?

    var channels: [InputChannel]

    /// Reads every line's level once (the initial State; a line failing to read starts false
    /// and is retried at the next edge); instance i = inputs[i] (at most 65535 inputs, any
    /// beyond are ignored). `now` is the loop's time at start: no timer runs until an edge.
    public init(kind: Kind, inputs: [Input], now: Instant) {
        self.kind = kind
        definition = OMAObjects.definition(kind.objectID)!
        channels = inputs.prefix(65535).map { input in
            InputChannel(input, pushButton: kind == .pushButton)
        }
    }

    // MARK: - Status

    /// The State (5500) of `instance`, nil for an unknown instance (for tests and `board show`).
    public func state(of instance: UInt16) -> Bool? {
        Int(instance) < channels.count ? channels[Int(instance)].state : nil
    }

    /// The Counter (5501) of `instance`, nil for an unknown instance.
    public func counter(of instance: UInt16) -> Int64? {
        Int(instance) < channels.count ? channels[Int(instance)].counter : nil
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { channels.indices.map { UInt16($0) } }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard Int(instance) < channels.count else { return [] }
        var ids = [Resource.state, Resource.counter]
        if kind == .digitalInput {
            ids += [Resource.polarity, Resource.debounce, Resource.edgeSelection, Resource.counterReset]
        }
        if channels[Int(instance)].applicationType != nil { ids.append(Resource.applicationType) }
        return ids
    }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        let (index, resource) = try ids(of: path)
        let channel = channels[index]
        let value: ResourceValue?
        switch resource {
        case Resource.state: value = .boolean(channel.state)
        case Resource.counter: value = .integer(channel.counter)
        case Resource.polarity where kind == .digitalInput: value = .boolean(channel.polarity)
        case Resource.debounce where kind == .digitalInput: value = .integer(channel.debounceMilliseconds)
        case Resource.edgeSelection where kind == .digitalInput: value = .integer(Int64(channel.edgeSelection.rawValue))
        case Resource.applicationType: value = channel.applicationType.map(ResourceValue.string)
        default: value = nil
        }
        guard let value else { throw .notFound }
        return .single(value)
    }

    /// Polarity, Debounce, Edge Selection (3200) and Application Type; State and Counter are
    /// read-only (4.05), values of the wrong type or out of range 4.00.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        switch resource {
        case Resource.state, Resource.counter, Resource.counterReset:
            throw .methodNotAllowed
        case Resource.polarity where kind == .digitalInput:
            let reversed = try Self.boolean(content, "Polarity (5502)")
            guard reversed != channels[index].polarity else { return }
            channels[index].polarity = reversed
            channels[index].state.toggle()
            report(index, [Resource.polarity, Resource.state])
        case Resource.debounce where kind == .digitalInput:
            let milliseconds = try Self.integer(content, "Debounce (5503)")
            guard (0...Self.maximumDebounceMilliseconds).contains(milliseconds) else {
                throw .badRequest("Debounce (5503) is 0...\(Self.maximumDebounceMilliseconds) ms, not \(milliseconds)")
            }
            guard milliseconds != channels[index].debounceMilliseconds else { return }
            channels[index].debounceMilliseconds = milliseconds
            report(index, [Resource.debounce])
        case Resource.edgeSelection where kind == .digitalInput:
            let code = try Self.integer(content, "Edge Selection (5504)")
            guard let selection = Int(exactly: code).flatMap(EdgeSelection.init(rawValue:)) else {
                throw .badRequest("Edge Selection (5504) is 1 (falling), 2 (rising) or 3 (both), not \(code)")
            }
            guard selection != channels[index].edgeSelection else { return }
            channels[index].edgeSelection = selection
            report(index, [Resource.edgeSelection])
        case Resource.applicationType:
            guard case .single(.string(let text)) = content else {
                throw .badRequest("Application Type (5750) is a single string")
            }
            channels[index].applicationType = text
            report(index, [Resource.applicationType])
        default:
            throw .notFound
        }
    }

    /// Counter Reset (5505) sets the Counter to 0; anything else is 4.05.
    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        guard kind == .digitalInput, resource == Resource.counterReset else { throw .methodNotAllowed }
        guard channels[index].counter != 0 else { return }
        channels[index].counter = 0
        report(index, [Resource.counter])
    }

    /// A Write-Replace of the instance left `path` out: it goes back to the board's setting
    /// (Polarity false, the board's Debounce, Edge Selection and Application Type; a Polarity
    /// going back flips the State like a write).
    public func removeResource(_ path: LwM2MPath) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        let board = channels[index].board
        switch resource {
        case Resource.polarity where kind == .digitalInput:
            try write(path, .single(.boolean(false)))
        case Resource.debounce where kind == .digitalInput:
            try write(path, .single(.integer(InputChannel.milliseconds(board.debounce))))
        case Resource.edgeSelection where kind == .digitalInput:
            try write(path, .single(.integer(Int64(board.edgeSelection.rawValue))))
        case Resource.applicationType:
            channels[index].applicationType = board.applicationType
            report(index, [Resource.applicationType])
        default:
            throw .methodNotAllowed
        }
    }

    // MARK: - Private

    func report(_ index: Int, _ resources: [UInt16]) {
        for resource in resources { changeHandler?(LwM2MPath(definition.id, UInt16(index), resource)) }
    }

    private static func boolean(_ content: ResourceContent, _ name: String) throws(LwM2MError) -> Bool {
        guard case .single(.boolean(let flag)) = content else { throw .badRequest("\(name) is a single boolean") }
        return flag
    }

    private static func integer(_ content: ResourceContent, _ name: String) throws(LwM2MError) -> Int64 {
        guard case .single(.integer(let value)) = content else { throw .badRequest("\(name) is a single integer") }
        return value
    }

    /// The instance index and resource ID of a resource path of this object.
    private func ids(of path: LwM2MPath) throws(LwM2MError) -> (Int, UInt16) {
        guard path.isResource, path.objectID == definition.id, let instance = path.instanceID,
              Int(instance) < channels.count, let resource = path.resourceID else { throw .notFound }
        return (Int(instance), resource)
    }
}
