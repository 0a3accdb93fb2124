import CoAP
@testable import LwM2M
import Testing

@Suite struct DigitalInputObjectTests {
    // MARK: - State and Counter

    @Test func theInitialStateIsTheLineReadAtStart() throws {
        let rig = try InputRig(levels: [true, false])
        #expect(rig.object.definition.id == 3200)
        #expect(rig.object.instanceIDs == [0, 1])
        #expect(rig.value("/3200/0/5500") == "1")
        #expect(rig.value("/3200/1/5500") == "0")
        #expect(rig.value("/3200/0/5501") == "0")
        #expect(rig.value("/3200/0/5504") == "2")  // rising by default
        #expect(rig.value("/3200/0/5503") == "0")
        #expect(rig.value("/3200/0/5502") == "0")
        #expect(rig.value("/3200/0/5750") == "Door")
        #expect(rig.object.resourceIDs(in: 0) == [5500, 5501, 5502, 5503, 5504, 5505, 5750])
        #expect(rig.object.nextDeadline == nil)

        // Active-low is the kernel's business: the object sees the logical level.
        let chip = FakeGPIOChip(lines: 1)
        chip.setInput(0, physical: true, at: .zero)
        let inverted = DigitalInputObject(kind: .digitalInput, inputs: [.init(line: try chip.requestInput(0, activeLow: true))],
                                          now: .zero)
        #expect(inverted.state(of: 0) == false)
        #expect(inverted.resourceIDs(in: 0) == [5500, 5501, 5502, 5503, 5504, 5505])  // no application type
        #expect(inverted.state(of: 1) == nil && inverted.counter(of: 1) == nil)

        // `board show` lists the values through the generic listing.
        #expect(rig.object.reportLines().prefix(3) == [
            "/3200/0/5500 Digital Input State = true", "/3200/0/5501 Digital Input Counter = 0",
            "/3200/0/5502 Digital Input Polarity = false",
        ])
        #expect(rig.object.reportLines().contains("/3200/1/5505 Digital Input Counter Reset (execute)"))
    }

    @Test func aLineFailingToReadStartsFalseAndTheNextEdgeTellsTheTruth() throws {
        let rig = try InputRig(levels: [true], failingAtStart: true)
        #expect(rig.value("/3200/0/5500") == "0")
        rig.set(false, at: 1)  // the edge to low: State already false
        #expect(rig.changes().isEmpty)
        rig.set(true, at: 2)
        #expect(rig.value("/3200/0/5500") == "1")
        #expect(rig.changes() == ["3200/0/5500", "3200/0/5501"])
    }

    @Test(arguments: zip([EdgeSelection.falling, .rising, .both], [Int64(1), 2, 3]))
    func theCounterCountsTheSelectedTransitionsAndTheStateIsAlwaysReported(selection: EdgeSelection, expected: Int64) throws {
        let rig = try InputRig(edgeSelection: selection)
        var counted: Int64 = 0
        for (ms, level) in [(0.0, true), (10, false), (20, true)] {
            rig.set(level, at: ms)
            #expect(rig.object.state(of: 0) == level)
            let counts = selection.counts(transitionTo: level)
            if counts { counted += 1 }
            #expect(rig.changes() == (counts ? ["3200/0/5500", "3200/0/5501"] : ["3200/0/5500"]))
        }
        #expect(counted == expected)
        #expect(rig.value("/3200/0/5501") == String(expected))
        #expect(rig.value("/3200/0/5500") == "1")
    }

    @Test func edgeSelectionWrittenByAServerTakesEffect() throws {
        let rig = try InputRig()
        #expect(rig.handle(.put, "/3200/0/5504", "1").code == .changed)
        #expect(rig.value("/3200/0/5504") == "1")
        #expect(rig.changes() == ["3200/0/5504"])
        rig.set(true, at: 0)
        rig.set(false, at: 5)
        rig.set(true, at: 10)
        rig.set(false, at: 15)
        #expect(rig.object.counter(of: 0) == 2)  // the two falling transitions
        #expect(rig.handle(.put, "/3200/0/5504", "3").code == .changed)
        rig.set(true, at: 20)
        #expect(rig.object.counter(of: 0) == 3)
    }

    @Test func withoutDebounceEveryEdgeOfOneDrainIsItsOwnTransition() throws {
        let chip = FakeGPIOChip(lines: 1)
        let object = DigitalInputObject(kind: .digitalInput, inputs: [.init(line: try chip.requestInput(0), edgeSelection: .both)],
                                        now: .zero)
        var reported: [LwM2MPath] = []
        object.changeHandler = { reported.append($0) }
        chip.setInput(0, physical: true, at: Instant(nanoseconds: 1_000_000))
        chip.setInput(0, physical: false, at: Instant(nanoseconds: 1_500_000))
        object.deliver(chip, instances: [0: 0])  // both events read at once
        #expect(object.counter(of: 0) == 2)
        #expect(object.state(of: 0) == false)
        let state = LwM2MPath(3200, 0, 5500), counter = LwM2MPath(3200, 0, 5501)
        #expect(reported == [state, counter, state, counter])
        // An edge event leaving the State as it is (a missed event in between) is no transition.
        object.lineChanged(0, to: false, at: Instant(nanoseconds: 2_000_000))
        #expect(reported.count == 4 && object.counter(of: 0) == 2)
        object.lineChanged(7, to: true, at: Instant(nanoseconds: 2_000_000))  // no such instance: ignored
        #expect(reported.count == 4)
    }

    @Test func theCounterStopsAtInt64Max() throws {
        let rig = try InputRig(edgeSelection: .both)
        rig.object.channels[0].counter = .max - 1
        rig.set(true, at: 0)
        #expect(rig.object.counter(of: 0) == .max)
        #expect(rig.changes() == ["3200/0/5500", "3200/0/5501"])
        rig.set(false, at: 1)
        #expect(rig.object.counter(of: 0) == .max)
        #expect(rig.changes() == ["3200/0/5500"])  // the State still reported
        #expect(rig.value("/3200/0/5501") == "9223372036854775807")
    }

    @Test func counterResetSetsTheCounterToZero() throws {
        let rig = try InputRig()
        rig.set(true, at: 0)
        rig.set(false, at: 1)
        rig.set(true, at: 2)
        #expect(rig.value("/3200/0/5501") == "2")
        _ = rig.changes()
        #expect(rig.handle(.post, "/3200/0/5505").code == .changed)
        #expect(rig.value("/3200/0/5501") == "0")
        #expect(rig.changes() == ["3200/0/5501"])
        #expect(rig.value("/3200/0/5500") == "1")  // the State is untouched
        #expect(rig.handle(.post, "/3200/0/5505").code == .changed)
        #expect(rig.changes().isEmpty)  // nothing changed
    }

    // MARK: - Polarity

    @Test func polarityFlipsTheStateWithoutCounting() throws {
        let rig = try InputRig(edgeSelection: .rising)
        #expect(rig.handle(.put, "/3200/0/5502", "1").code == .changed)
        #expect(rig.value("/3200/0/5502") == "1")
        #expect(rig.value("/3200/0/5500") == "1")  // line low, reversed
        #expect(rig.changes() == ["3200/0/5502", "3200/0/5500"])
        #expect(rig.object.counter(of: 0) == 0)
        rig.set(true, at: 0)  // line high: State false, a falling transition
        #expect(rig.value("/3200/0/5500") == "0")
        #expect(rig.object.counter(of: 0) == 0)
        rig.set(false, at: 10)  // line low: State true, counted
        #expect(rig.value("/3200/0/5500") == "1")
        #expect(rig.object.counter(of: 0) == 1)
        #expect(rig.handle(.put, "/3200/0/5502", "1").code == .changed)  // unchanged: no flip
        #expect(rig.value("/3200/0/5500") == "1")
        _ = rig.changes()
        #expect(rig.handle(.put, "/3200/0/5502", "0").code == .changed)
        #expect(rig.value("/3200/0/5500") == "0")
        #expect(rig.object.counter(of: 0) == 1)
    }

    // MARK: - Debounce

    @Test func bouncesInsideThePeriodMakeOneTransition() throws {
        let rig = try InputRig(debounce: .milliseconds(10))
        rig.chip.bounce(0, to: true, edges: 5, from: rig.at(0), spacing: .microseconds(700))  // last edge at 2.8 ms
        rig.deliver()
        #expect(rig.object.nextDeadline == rig.at(12.8))
        #expect(rig.value("/3200/0/5500") == "0")
        rig.advance(to: 12.7)
        #expect(rig.changes().isEmpty)
        #expect(rig.object.state(of: 0) == false)
        rig.advance(to: 12.8)
        #expect(rig.object.state(of: 0) == true)
        #expect(rig.object.counter(of: 0) == 1)
        #expect(rig.changes() == ["3200/0/5500", "3200/0/5501"])
        #expect(rig.object.nextDeadline == nil)

        rig.chip.bounce(0, to: false, edges: 3, from: rig.at(100))
        rig.deliver()
        rig.advance(to: 200)
        #expect(rig.object.state(of: 0) == false)
        #expect(rig.object.counter(of: 0) == 1)  // rising only
        #expect(rig.changes() == ["3200/0/5500"])
    }

    @Test func aPulseShorterThanThePeriodIsNoTransition() throws {
        let rig = try InputRig(debounce: .milliseconds(10))
        rig.set(true, at: 100)
        rig.set(false, at: 103)
        #expect(rig.object.nextDeadline == rig.at(113))
        rig.advance(to: 113)
        #expect(rig.object.state(of: 0) == false)
        #expect(rig.object.counter(of: 0) == 0)
        #expect(rig.changes().isEmpty)
        // A pulse as long as the period counts.
        rig.set(true, at: 200)
        rig.advance(to: 210)
        rig.set(false, at: 211)
        rig.advance(to: 221)
        #expect(rig.object.counter(of: 0) == 1)
        #expect(rig.changes() == ["3200/0/5500", "3200/0/5501"])
    }

    @Test func aPeriodWrittenByAServerTakesEffectFromTheNextEdge() throws {
        let rig = try InputRig()
        #expect(rig.handle(.put, "/3200/0/5503", "20").code == .changed)
        #expect(rig.value("/3200/0/5503") == "20")
        #expect(rig.changes() == ["3200/0/5503"])
        rig.set(true, at: 0)
        #expect(rig.object.state(of: 0) == false)  // held back
        #expect(rig.object.nextDeadline == rig.at(20))
        #expect(rig.handle(.put, "/3200/0/5503", "5").code == .changed)
        #expect(rig.object.nextDeadline == rig.at(20))  // the running period is not moved
        rig.advance(to: 20)
        #expect(rig.object.state(of: 0) == true)
        rig.set(false, at: 30)
        #expect(rig.object.nextDeadline == rig.at(35))  // the new period
        rig.advance(to: 35)
        #expect(rig.object.state(of: 0) == false)
        #expect(rig.handle(.put, "/3200/0/5503", "0").code == .changed)
        rig.set(true, at: 40)
        #expect(rig.object.state(of: 0) == true)  // at once
        #expect(rig.object.counter(of: 0) == 2)
        #expect(rig.object.nextDeadline == nil)
    }

    @Test func periodsOfSeveralInstancesRunIndependently() throws {
        let rig = try InputRig(levels: [false, false], debounce: .milliseconds(10))
        rig.set(0, true, at: 0)
        rig.set(1, true, at: 4)
        #expect(rig.object.nextDeadline == rig.at(10))
        rig.advance(to: 10)
        #expect(rig.object.state(of: 0) == true && rig.object.state(of: 1) == false)
        #expect(rig.object.nextDeadline == rig.at(14))
        rig.advance(to: 14)
        #expect(rig.object.state(of: 1) == true)
        #expect(rig.changes() == ["3200/0/5500", "3200/0/5501", "3200/1/5500", "3200/1/5501"])
    }

    @Test func aReadFailureAtExpiryKeepsTheStateUntilTheNextEdge() throws {
        let rig = try InputRig(debounce: .milliseconds(5))
        rig.lines[0].failure = HardwareAccessError("get line 0: EIO")
        rig.set(true, at: 0)
        rig.advance(to: 5)
        #expect(rig.object.state(of: 0) == false)
        #expect(rig.changes().isEmpty)
        #expect(rig.object.nextDeadline == nil)
        rig.lines[0].failure = nil
        rig.set(false, at: 10)
        rig.set(true, at: 11)
        rig.advance(to: 16)
        #expect(rig.object.state(of: 0) == true)
        #expect(rig.object.counter(of: 0) == 1)
    }

    @Test func boardPeriodsAreClampedToTheResourceRange() throws {
        let chip = FakeGPIOChip(lines: 3)
        let object = DigitalInputObject(kind: .digitalInput, inputs: [
            .init(line: try chip.requestInput(0), debounce: .seconds(120)),
            .init(line: try chip.requestInput(1), debounce: .milliseconds(-3)),
            .init(line: try chip.requestInput(2), debounce: .microseconds(2500)),
        ], now: .zero)
        #expect(try object.read(LwM2MPath(3200, 0, 5503)) == .single(.integer(60000)))
        #expect(try object.read(LwM2MPath(3200, 1, 5503)) == .single(.integer(0)))
        #expect(try object.read(LwM2MPath(3200, 2, 5503)) == .single(.integer(2)))
        // A deadline near the end of the timeline saturates instead of wrapping into the past.
        let late = Instant(nanoseconds: .max - 1000)
        object.lineChanged(0, to: true, at: late)
        #expect(object.nextDeadline == Instant(nanoseconds: .max))
        object.advance(to: late)
        #expect(object.nextDeadline == Instant(nanoseconds: .max))
    }

    // MARK: - Server requests

    @Test func badWritesAreRefusedWithTheReason() throws {
        let rig = try InputRig()
        #expect(rig.handle(.put, "/3200/0/5500", "1").code == .methodNotAllowed)
        #expect(rig.handle(.put, "/3200/0/5501", "0").code == .methodNotAllowed)
        let edge = rig.handle(.put, "/3200/0/5504", "4")
        #expect(edge.code == .badRequest)
        #expect(edge.text.contains("Edge Selection (5504)"))
        #expect(rig.handle(.put, "/3200/0/5504", "0").code == .badRequest)
        #expect(rig.handle(.put, "/3200/0/5504", "-9223372036854775808").code == .badRequest)
        let debounce = rig.handle(.put, "/3200/0/5503", "60001")
        #expect(debounce.code == .badRequest)
        #expect(debounce.text.contains("0...60000"))
        #expect(rig.handle(.put, "/3200/0/5503", "-1").code == .badRequest)
        #expect(rig.handle(.put, "/3200/0/5503", "60000").code == .changed)
        #expect(rig.handle(.put, "/3200/0/5503", "1.5").code == .badRequest)
        #expect(rig.handle(.put, "/3200/0/5502", "2").code == .badRequest)
        #expect(rig.handle(.put, "/3200/0/5502", "yes").code == .badRequest)
        #expect(rig.value("/3200/0/5504") == "2")
        #expect(rig.value("/3200/0/5503") == "60000")
        #expect(rig.value("/3200/0/5502") == "0")
        #expect(rig.handle(.post, "/3200/0/5502").code == .methodNotAllowed)
        #expect(rig.handle(.post, "/3200/0/5500").code == .methodNotAllowed)
        #expect(rig.handle(.get, "/3200/1/5500").code == .notFound)
        #expect(rig.handle(.put, "/3200/0/5750", "Window").code == .changed)
        #expect(rig.value("/3200/0/5750") == "Window")
        #expect(rig.handle(.post, "/3200").code == .methodNotAllowed)  // no Create
        #expect(rig.handle(.delete, "/3200/0").code == .methodNotAllowed)

        // The object checks what it relies on even when called directly.
        let object = rig.object
        #expect(throws: LwM2MError.badRequest("Debounce (5503) is a single integer")) {
            try object.write(LwM2MPath(3200, 0, 5503), .single(.string("10")))
        }
        #expect(throws: LwM2MError.methodNotAllowed) { try object.write(LwM2MPath(3200, 0, 5500), .single(.boolean(true))) }
        #expect(throws: LwM2MError.methodNotAllowed) { try object.execute(LwM2MPath(3200, 0, 5504), arguments: []) }
        #expect(throws: LwM2MError.notFound) { try object.execute(LwM2MPath(3200, 3, 5505), arguments: []) }
        #expect(throws: LwM2MError.notFound) { try object.read(LwM2MPath(3200, 0, 5518)) }
    }

    @Test func aWriteReplaceOfTheInstanceResetsWhatItLeavesOutToTheBoardsSettings() throws {
        let rig = try InputRig(debounce: .milliseconds(15), edgeSelection: .falling)
        #expect(rig.handle(.put, "/3200/0/5502", "1").code == .changed)
        #expect(rig.handle(.put, "/3200/0/5503", "40").code == .changed)
        #expect(rig.handle(.put, "/3200/0/5750", "Window").code == .changed)
        #expect(rig.value("/3200/0/5500") == "1")
        _ = rig.changes()
        let payload = utf8(#"[{"bn":"/3200/0/","n":"5504","v":3}]"#)
        let response = RequestHandler().handle(request(.put, "/3200/0", format: ContentFormat.senmlJSON, payload: payload),
                                               registry: rig.registry)
        #expect(response.code == .changed)
        #expect(rig.value("/3200/0/5504") == "3")
        #expect(rig.value("/3200/0/5502") == "0")
        #expect(rig.value("/3200/0/5500") == "0")  // the Polarity going back flipped the State
        #expect(rig.value("/3200/0/5503") == "15")  // the board's
        #expect(rig.value("/3200/0/5750") == "Door")
        #expect(Set(rig.changes()) == ["3200/0/5502", "3200/0/5500", "3200/0/5503", "3200/0/5504", "3200/0/5750"])
        #expect(rig.object.counter(of: 0) == 0)
    }

    // MARK: - Push Button

    @Test func aPushButtonCountsPresses() throws {
        let rig = try InputRig(.pushButton, debounce: .milliseconds(5), edgeSelection: .falling, applicationType: "Reset")
        #expect(rig.object.definition.id == 3347)
        #expect(rig.object.resourceIDs(in: 0) == [5500, 5501, 5750])
        for press in 0..<3 {
            let start = Double(press) * 100
            rig.chip.bounce(0, to: true, edges: 3, from: rig.at(start))
            rig.deliver()
            rig.advance(to: start + 10)
            #expect(rig.value("/3347/0/5500") == "1")
            rig.chip.bounce(0, to: false, edges: 5, from: rig.at(start + 50))
            rig.deliver()
            rig.advance(to: start + 60)
            #expect(rig.value("/3347/0/5500") == "0")
        }
        #expect(rig.value("/3347/0/5501") == "3")  // presses, whatever the edge selection given
        #expect(rig.value("/3347/0/5750") == "Reset")
        #expect(rig.handle(.put, "/3347/0/5500", "1").code == .methodNotAllowed)
        #expect(rig.handle(.put, "/3347/0/5501", "0").code == .methodNotAllowed)
        #expect(rig.handle(.put, "/3347/0/5502", "1").code == .notFound)  // not in 3347
        #expect(rig.handle(.post, "/3347/0/5505").code == .notFound)
        #expect(rig.handle(.put, "/3347/0/5750", "Doorbell").code == .changed)
        #expect(throws: LwM2MError.notFound) { try rig.object.write(LwM2MPath(3347, 0, 5503), .single(.integer(1))) }
        #expect(throws: LwM2MError.methodNotAllowed) { try rig.object.execute(LwM2MPath(3347, 0, 5505), arguments: []) }
    }

    // MARK: - Observation

    @Test func anEdgeNotifiesAnObserverOfTheStateAndTheCounter() throws {
        var rig = try ReportingRig()
        let chip = FakeGPIOChip(lines: 1)
        let object = DigitalInputObject(kind: .digitalInput,
                                        inputs: [.init(line: try chip.requestInput(0), debounce: .milliseconds(10))],
                                        now: rig.at(0))
        rig.registry.register(object)
        _ = rig.registry.takeChanges()
        let state = rig.observe(LwM2MPath(3200, 0, 5500))
        let counter = rig.observe(LwM2MPath(3200, 0, 5501))
        #expect(rig.update(at: 0.5).isEmpty)

        chip.setInput(0, physical: true, at: rig.at(1))
        object.deliver(chip, instances: [0: 0])
        #expect(rig.update(at: 1).isEmpty)  // debouncing: nothing yet
        #expect(object.nextDeadline == rig.at(1.01))
        object.advance(to: rig.at(1.01))
        let sent = rig.update(at: 1.01)
        #expect(sent.map(\.observation) == [state, counter])
        #expect(sent.map(\.response.text) == ["1", "1"])

        // A pulse shorter than the period notifies nobody.
        chip.setInput(0, physical: false, at: rig.at(2))
        chip.setInput(0, physical: true, at: rig.at(2.004))
        object.deliver(chip, instances: [0: 0])
        object.advance(to: rig.at(2.014))
        #expect(rig.update(at: 2.014).isEmpty)

        // Falling: the State is notified, the Counter (rising) is not.
        chip.setInput(0, physical: false, at: rig.at(3))
        object.deliver(chip, instances: [0: 0])
        object.advance(to: rig.at(3.01))
        let falling = rig.update(at: 3.01)
        #expect(falling.map(\.observation) == [state])
        #expect(falling.map(\.response.text) == ["0"])
    }
}
