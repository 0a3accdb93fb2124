import CoAP
@testable import LwM2M

/// A fake chip whose lines 0, 1, … back instances 0, 1, … of one Digital Input or Push Button
/// object, registered in a registry, on a virtual clock in milliseconds from `t0`.
final class InputRig {
    let chip: FakeGPIOChip
    let lines: [FakeGPIOChip.Line]
    let object: DigitalInputObject
    let registry = ObjectRegistry()
    static let t0 = Instant(nanoseconds: 7_000_000_000)

    /// One instance per entry of `levels` (the physical level of its line at start), all with
    /// the same settings; `failingAtStart`: the lines cannot be read while the object starts.
    init(_ kind: DigitalInputObject.Kind = .digitalInput, levels: [Bool] = [false],
         debounce: Duration = .zero, edgeSelection: EdgeSelection = .rising, applicationType: String? = "Door",
         failingAtStart: Bool = false) throws {
        let chip = FakeGPIOChip(lines: 8)
        for (offset, level) in levels.enumerated() { chip.setInput(offset, physical: level, at: Self.t0) }
        let lines = try levels.indices.map { try chip.requestInput($0) }
        if failingAtStart { lines.forEach { $0.failure = HardwareAccessError("get line: EIO") } }
        object = DigitalInputObject(kind: kind, inputs: lines.map {
            DigitalInputObject.Input(line: $0, applicationType: applicationType, debounce: debounce,
                                     edgeSelection: edgeSelection)
        }, now: Self.t0)
        lines.forEach { $0.failure = nil }
        self.chip = chip
        self.lines = lines
        registry.register(object)
        _ = registry.takeChanges()
    }

    /// The instant `ms` milliseconds after `t0`.
    func at(_ ms: Double) -> Instant { Self.t0 + .microseconds(Int64((ms * 1000).rounded())) }

    /// The world sets input `offset` physically to `level` at `ms`; the edge reaches the object.
    func set(_ offset: Int, _ level: Bool, at ms: Double) {
        chip.setInput(offset, physical: level, at: at(ms))
        deliver()
    }

    /// The world sets input 0 physically to `level` at `ms`; the edge reaches the object.
    func set(_ level: Bool, at ms: Double) { set(0, level, at: ms) }

    /// Hands the queued edge events to the object.
    func deliver() { object.deliver(chip, instances: Dictionary(uniqueKeysWithValues: lines.indices.map { ($0, UInt16($0)) })) }

    /// Runs the object's timers at `ms`.
    func advance(to ms: Double) { object.advance(to: at(ms)) }

    /// The changed paths reported since the last call, as "o/i/r" strings.
    func changes() -> [String] {
        registry.takeChanges().map { path in
            [path.objectID, path.instanceID, path.resourceID].compactMap { $0.map(String.init) }.joined(separator: "/")
        }
    }

    /// A server's request as the responder handles it.
    func handle(_ code: CoAPCode, _ path: String, _ text: String? = nil) -> CoAPResponse {
        RequestHandler().handle(request(code, path, format: text == nil ? nil : ContentFormat.textPlain,
                                        payload: text.map(utf8) ?? []), registry: registry)
    }

    /// The text/plain value at `path`, or the response code when the read fails.
    func value(_ path: String) -> String {
        let response = RequestHandler().handle(request(.get, path, accept: ContentFormat.textPlain), registry: registry)
        return response.code == .content ? response.text : "\(response.code)"
    }
}
