import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import Testing

private let valueOptions: Set<String> = ["listen", "tick", "timeout", "accept", "payload"]
private let flagOptions: Set<String> = ["demo", "verbose", "non"]

private func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
    try ParsedArguments(arguments, valueOptions: valueOptions, flagOptions: flagOptions)
}

/// The UsageError `body` throws, or nil (recording an issue) when it throws nothing or something else.
private func usageError<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(UsageError) -> T
) -> UsageError? {
    do {
        let value = try body()
        Issue.record("expected a UsageError, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite struct CommandLineTests {
    @Test func separateValue() throws {
        let parsed = try parse(["--listen", "coap://[::]:5683"])
        #expect(parsed.value("listen") == "coap://[::]:5683")
        #expect(parsed.allValues("listen") == ["coap://[::]:5683"])
        #expect(parsed.positional.isEmpty)
    }

    @Test func inlineValue() throws {
        let parsed = try parse(["--tick=0.25", "--payload=a=b"])
        #expect(parsed.value("tick") == "0.25")
        // Only the first "=" separates name and value.
        #expect(parsed.value("payload") == "a=b")
    }

    @Test func emptyInlineValueIsAValue() throws {
        let parsed = try parse(["--payload="])
        #expect(parsed.value("payload") == "")
        #expect(parsed.allValues("payload") == [""])
    }

    @Test func valueMayLookLikeAnOption() throws {
        // A value option always consumes the next argument.
        let parsed = try parse(["--payload", "--demo"])
        #expect(parsed.value("payload") == "--demo")
        #expect(parsed.flag("demo") == false)
    }

    @Test func flags() throws {
        let parsed = try parse(["--demo", "--verbose"])
        #expect(parsed.flag("demo"))
        #expect(parsed.flag("verbose"))
        #expect(parsed.flag("non") == false)
        #expect(parsed.flag("listen") == false)
        #expect(parsed.value("demo") == nil)
    }

    @Test func positionalArgumentsKeepTheirOrder() throws {
        let parsed = try parse(["get", "--verbose", "coap://127.0.0.1/x", "-v", "--", "--accept", "0", "last"])
        // "-v" and a bare "--" are positional; options may be interleaved.
        #expect(parsed.positional == ["get", "coap://127.0.0.1/x", "-v", "--", "last"])
        #expect(parsed.flag("verbose"))
        #expect(parsed.value("accept") == "0")
    }

    @Test func absentValuesAreNilAndEmpty() throws {
        let parsed = try parse([])
        #expect(parsed.value("listen") == nil)
        #expect(parsed.allValues("listen") == [])
        #expect(parsed.positional == [])
    }

    @Test func unknownOption() {
        #expect(usageError { () throws(UsageError) in try parse(["--demo", "--bogus", "1"]) } == .unknownOption("bogus"))
        #expect(usageError { () throws(UsageError) in try parse(["--bogus=1"]) } == .unknownOption("bogus"))
        #expect(UsageError.unknownOption("bogus").description == "unknown option --bogus")
    }

    @Test func flagWithInlineValueIsRejected() {
        #expect(usageError { () throws(UsageError) in try parse(["--demo=yes"]) } != nil)
    }

    @Test func missingValue() {
        #expect(usageError { () throws(UsageError) in try parse(["--demo", "--listen"]) } == .missingValue("listen"))
        #expect(UsageError.missingValue("listen").description == "option --listen needs a value")
    }

    @Test func integerWithinRange() throws {
        let parsed = try parse(["--accept", "65535"])
        #expect(try parsed.integer("accept", in: 0...65535, default: -1) == 65535)
        #expect(try parse([]).integer("accept", in: 0...65535, default: -1) == -1)
        #expect(try parse(["--accept=0"]).integer("accept", in: 0...65535, default: -1) == 0)
    }

    @Test(arguments: ["65536", "-1", "12x", "", " 5", "1.5"])
    func integerOutOfRangeOrMalformed(text: String) throws {
        let parsed = try parse(["--accept", text])
        let error = usageError { () throws(UsageError) in try parsed.integer("accept", in: 0...65535, default: 7) }
        #expect(error == .invalidValue("accept", text, "expected an integer in 0...65535"))
    }

    @Test func integerErrorDescription() {
        let error = UsageError.invalidValue("accept", "70000", "expected an integer in 0...65535")
        #expect(error.description == "invalid value \"70000\" for --accept: expected an integer in 0...65535")
    }

    @Test(arguments: [("0.5", 500), ("2", 2000), ("0", 0), ("1.25", 1250), ("15", 15_000)] as [(String, Int64)])
    func secondsParsing(text: String, milliseconds: Int64) throws {
        let parsed = try parse(["--tick", text])
        #expect(try parsed.seconds("tick", default: nil) == .milliseconds(milliseconds))
    }

    @Test func secondsDefault() throws {
        let parsed = try parse([])
        #expect(try parsed.seconds("tick", default: .seconds(1)) == .seconds(1))
        #expect(try parsed.seconds("tick", default: nil) == nil)
    }

    @Test(arguments: ["-1", "abc", "", "1e9", "nan", "inf"])
    func secondsRejectsBadValues(text: String) throws {
        let parsed = try parse(["--timeout=\(text)"])
        let error = usageError { () throws(UsageError) in try parsed.seconds("timeout", default: nil) }
        #expect(error == .invalidValue("timeout", text, "expected a number of seconds"))
    }

    @Test func repeatedValues() throws {
        let parsed = try parse(["--listen", "coap://a", "--listen=coap://b", "x", "--listen", "coap://c"])
        #expect(parsed.allValues("listen") == ["coap://a", "coap://b", "coap://c"])
        #expect(parsed.value("listen") == "coap://c")  // the last one wins
        #expect(parsed.positional == ["x"])
    }

    @Test func otherUsageErrorDescriptions() {
        #expect(UsageError.missingArgument("METHOD and URI").description == "missing METHOD and URI")
        #expect(UsageError.unexpectedArgument("extra").description == "unexpected argument \"extra\"")
    }
}
