import AgentDaemon
import TestSupport
import Testing

/// The saved states of `persist = yes` outputs (`<state-dir>/gpio-outputs`).
@Suite struct OutputStatesTests {
    @Test func savedStatesComeBackAfterARestart() throws {
        let directory = try TemporaryDirectory(prefix: "outputs")
        var states = OutputStates(stateDirectory: directory.path)
        #expect(states.saved.isEmpty && states.problems.isEmpty)
        try states.save("relay1", .init(state: true, polarity: false))
        try states.save("pump", .init(state: false, polarity: true))
        #expect(try readTextFile(directory.file("gpio-outputs")) == "pump 0 1\nrelay1 1 0\n")
        let reloaded = OutputStates(stateDirectory: directory.path)
        #expect(reloaded.saved == ["relay1": .init(state: true, polarity: false), "pump": .init(state: false, polarity: true)])
        #expect(reloaded.problems.isEmpty)
    }

    @Test func damagedLinesAreNamedAndTheOthersKept() {
        let states = OutputStates(path: "/state/gpio-outputs", parsing: "relay1 1 0\nrelay2 2 0\ngarbage\n\npump 0 1 extra\nfan 1 1")
        #expect(states.saved == ["relay1": .init(state: true, polarity: false), "fan": .init(state: true, polarity: true)])
        #expect(states.problems == [
            "/state/gpio-outputs: line 2: expected NAME STATE POLARITY (0 or 1 each)",
            "/state/gpio-outputs: line 3: expected NAME STATE POLARITY (0 or 1 each)",
            "/state/gpio-outputs: line 5: expected NAME STATE POLARITY (0 or 1 each)",
        ])
    }

    @Test func anUnreadableFileIsAProblemNotAFailure() throws {
        let directory = try TemporaryDirectory(prefix: "outputs")
        try writeFile(directory.file("gpio-outputs/x"), [])  // a directory where the file should be
        let states = OutputStates(stateDirectory: directory.path)
        #expect(states.saved.isEmpty)
        #expect(states.problems.count == 1 && states.problems[0].hasPrefix(directory.file("gpio-outputs")))
    }
}
