import CoAP
@testable import LwM2M
import Testing

/// Lines 0, 1, … of a fake chip requested as outputs at `initial`, behind a Digital Output
/// object in a registry; `persisted` collects what `stateChanged` hands the daemon.
private final class OutputRig {
    let chip = FakeGPIOChip(lines: 8)
    let lines: [FakeGPIOChip.Line]
    let object: DigitalOutputObject
    let registry = ObjectRegistry()
    var persisted: [String] = []

    init(initial: [Bool], activeLow: Bool = false) throws {
        let chip = chip
        lines = try initial.enumerated().map { try chip.requestOutput($0.offset, initial: $0.element, activeLow: activeLow) }
        object = DigitalOutputObject(outputs: lines.enumerated().map {
            .init(line: $0.element, applicationType: "Relay \($0.offset + 1)")
        })
        object.stateChanged = { [unowned self] instance, state, polarity in
            persisted.append("\(instance) state=\(state) polarity=\(polarity)")
        }
        registry.register(object)
        _ = registry.takeChanges()
    }

    func handle(_ code: CoAPCode, _ path: String, _ text: String? = nil) -> CoAPResponse {
        RequestHandler().handle(request(code, path, format: text == nil ? nil : ContentFormat.textPlain,
                                        payload: text.map(utf8) ?? []), registry: registry)
    }

    func value(_ path: String) -> String {
        let response = RequestHandler().handle(request(.get, path, accept: ContentFormat.textPlain), registry: registry)
        return response.code == .content ? response.text : "\(response.code)"
    }

    func changes() -> [LwM2MPath] { registry.takeChanges() }
}

/// A line that accepts `remaining` more writes, then fails with EIO.
private final class FailingAfter: DigitalLine {
    let line: any DigitalLine
    var remaining: Int

    init(_ line: any DigitalLine, writes: Int) {
        self.line = line
        remaining = writes
    }

    func level() throws(HardwareAccessError) -> Bool { try line.level() }

    func setLevel(_ level: Bool) throws(HardwareAccessError) {
        guard remaining > 0 else { throw HardwareAccessError("set line: EIO") }
        remaining -= 1
        try line.setLevel(level)
    }
}

@Suite struct DigitalOutputObjectTests {
    @Test func theInitialStateIsReadFromTheRequestedLine() throws {
        let rig = try OutputRig(initial: [true, false])
        #expect(rig.object.definition.id == 3201)
        #expect(rig.object.instanceIDs == [0, 1])
        #expect(rig.value("/3201/0/5550") == "1")
        #expect(rig.value("/3201/1/5550") == "0")
        #expect(rig.value("/3201/0/5551") == "0")
        #expect(rig.value("/3201/1/5750") == "Relay 2")
        #expect(rig.object.resourceIDs(in: 0) == [5550, 5551, 5750])
        #expect(rig.object.resourceIDs(in: 2).isEmpty)
        #expect(rig.lines.allSatisfy { $0.writes.isEmpty })  // nothing driven at start
    }

    @Test func aWriteOfTheStateDrivesTheLine() throws {
        let rig = try OutputRig(initial: [false, false])
        #expect(rig.handle(.put, "/3201/1/5550", "1").code == .changed)
        #expect(rig.chip.physical[1] == true)
        #expect(rig.chip.physical[0] == false)
        #expect(rig.value("/3201/1/5550") == "1")
        #expect(rig.changes() == [LwM2MPath(3201, 1, 5550)])
        #expect(rig.persisted == ["1 state=true polarity=false"])
        // The same State again: the line is driven again, nothing changed to report or persist.
        #expect(rig.handle(.put, "/3201/1/5550", "1").code == .changed)
        #expect(rig.lines[1].writes == [true, true])
        #expect(rig.changes().isEmpty)
        #expect(rig.persisted.count == 1)
        #expect(rig.handle(.put, "/3201/1/5550", "0").code == .changed)
        #expect(rig.chip.physical[1] == false)
    }

    @Test func polarityReversesTheLineAndTheStateKeepsItsMeaning() throws {
        let rig = try OutputRig(initial: [true])
        #expect(rig.handle(.put, "/3201/0/5551", "1").code == .changed)
        #expect(rig.chip.physical[0] == false)  // State true, reversed
        #expect(rig.value("/3201/0/5550") == "1")
        #expect(rig.changes() == [LwM2MPath(3201, 0, 5551)])
        #expect(rig.persisted == ["0 state=true polarity=true"])
        #expect(rig.handle(.put, "/3201/0/5550", "0").code == .changed)
        #expect(rig.chip.physical[0] == true)
        #expect(rig.persisted.last == "0 state=false polarity=true")

        // Active-low is the kernel's: the logical level is what the object drives.
        let inverted = try OutputRig(initial: [false], activeLow: true)
        #expect(inverted.chip.physical[0] == true)
        #expect(inverted.value("/3201/0/5550") == "0")
        #expect(inverted.handle(.put, "/3201/0/5550", "1").code == .changed)
        #expect(inverted.chip.physical[0] == false)
    }

    @Test func aLineFailureIsAnInternalErrorAndChangesNothing() throws {
        let rig = try OutputRig(initial: [false])
        rig.lines[0].failure = HardwareAccessError("set RELAY1: EIO")
        let response = rig.handle(.put, "/3201/0/5550", "1")
        #expect(response.code == .internalServerError)
        #expect(response.text.contains("set RELAY1: EIO"))
        #expect(rig.handle(.put, "/3201/0/5551", "1").code == .internalServerError)
        rig.lines[0].failure = nil
        #expect(rig.value("/3201/0/5550") == "0")
        #expect(rig.value("/3201/0/5551") == "0")
        #expect(rig.chip.physical[0] == false)
        #expect(rig.changes().isEmpty)
        #expect(rig.persisted.isEmpty)

        // A line the kernel gave as an input refuses to be driven (EPERM): 5.00 as well.
        let chip = FakeGPIOChip(lines: 1)
        let object = DigitalOutputObject(outputs: [.init(line: try chip.requestInput(0))])
        #expect(throws: LwM2MError.internalError("set line 0: EPERM (an input)")) {
            try object.write(LwM2MPath(3201, 0, 5550), .single(.boolean(true)))
        }
        #expect(object.state(of: 0) == false)
    }

    @Test func restoringAPersistedPolarityReDrivesTheLine() throws {
        // The daemon requested the line at the persisted State (true), then restores Polarity.
        let rig = try OutputRig(initial: [true, false])
        try rig.object.restorePolarity(0, true)
        #expect(rig.chip.physical[0] == false)
        #expect(rig.object.state(of: 0) == true)
        #expect(rig.object.polarity(of: 0) == true)
        #expect(rig.value("/3201/0/5551") == "1")
        #expect(throws: HardwareAccessError("no digital output instance 5")) { try rig.object.restorePolarity(5, true) }
        rig.lines[1].failure = HardwareAccessError("set RELAY2: EIO")
        #expect(throws: HardwareAccessError("set RELAY2: EIO")) { try rig.object.restorePolarity(1, true) }
        #expect(rig.object.polarity(of: 1) == false)
        #expect(rig.persisted.isEmpty)  // a restore is not a server's write

        // Or the line was requested at State XOR Polarity and the Output says so: no re-drive.
        let chip = FakeGPIOChip(lines: 1)
        let line = try chip.requestOutput(0, initial: false)
        let object = DigitalOutputObject(outputs: [.init(line: line, applicationType: nil, polarity: true)])
        #expect(object.state(of: 0) == true && object.polarity(of: 0) == true)
        #expect(line.writes.isEmpty)
    }

    @Test func badRequestsAreRefused() throws {
        let rig = try OutputRig(initial: [false])
        #expect(rig.handle(.put, "/3201/0/5550", "2").code == .badRequest)
        #expect(rig.handle(.put, "/3201/0/5551", "on").code == .badRequest)
        #expect(rig.handle(.post, "/3201/0/5550").code == .methodNotAllowed)
        #expect(rig.handle(.put, "/3201/1/5550", "1").code == .notFound)
        #expect(rig.handle(.put, "/3201/0/5750", "Pump").code == .changed)
        #expect(rig.value("/3201/0/5750") == "Pump")
        #expect(rig.lines[0].writes.isEmpty)
        #expect(throws: LwM2MError.badRequest("State (5550) is a single boolean")) {
            try rig.object.write(LwM2MPath(3201, 0, 5550), .single(.integer(1)))
        }
        #expect(throws: LwM2MError.notFound) { try rig.object.write(LwM2MPath(3201, 0, 5518), .single(.time(0))) }
    }

    @Test func aWriteReplaceOfTheInstanceResetsPolarityAndApplicationType() throws {
        let rig = try OutputRig(initial: [true])
        #expect(rig.handle(.put, "/3201/0/5551", "1").code == .changed)
        #expect(rig.handle(.put, "/3201/0/5750", "Pump").code == .changed)
        #expect(rig.chip.physical[0] == false)
        let payload = utf8(#"[{"bn":"/3201/0/","n":"5550","vb":true}]"#)
        let response = RequestHandler().handle(request(.put, "/3201/0", format: ContentFormat.senmlJSON, payload: payload),
                                               registry: rig.registry)
        #expect(response.code == .changed)
        #expect(rig.object.state(of: 0) == true && rig.object.polarity(of: 0) == false)
        #expect(rig.chip.physical[0] == true)
        #expect(rig.value("/3201/0/5750") == "Relay 1")
        #expect(rig.persisted.last == "0 state=true polarity=false")

        // The line refusing the reset undoes the whole replace.
        #expect(rig.handle(.put, "/3201/0/5551", "1").code == .changed)
        let failing = FailingAfter(rig.lines[0], writes: 1)
        let object = DigitalOutputObject(outputs: [.init(line: failing)])
        try object.restorePolarity(0, true)
        failing.remaining = 1
        let registry = ObjectRegistry()
        registry.register(object)
        let refused = RequestHandler().handle(request(.put, "/3201/0", format: ContentFormat.senmlJSON, payload: payload),
                                              registry: registry)
        #expect(refused.code == .internalServerError)
        #expect(object.polarity(of: 0) == true)
    }

    @Test func aPartialUpdateOfStateAndPolarityLeavesTheLineReversed() throws {
        let rig = try OutputRig(initial: [false])
        let payload = utf8(#"[{"bn":"/3201/0/","n":"5550","vb":true},{"n":"5551","vb":true}]"#)
        let response = RequestHandler().handle(request(.post, "/3201/0", format: ContentFormat.senmlJSON, payload: payload),
                                               registry: rig.registry)
        #expect(response.code == .changed)
        #expect(rig.object.state(of: 0) == true && rig.object.polarity(of: 0) == true)
        #expect(rig.chip.physical[0] == false)
        #expect(rig.persisted == ["0 state=true polarity=false", "0 state=true polarity=true"])
    }
}
