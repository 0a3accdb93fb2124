import CoAP
import Testing
@testable import LwM2M

/// Execute arguments, TS 1.1 §5.4.5: `arglist = arg *("," arg)`, `arg = DIGIT ["=" "'" *CHAR "'"]`.
@Suite struct ExecuteArgumentsTests {
    @Test func validArgumentLists() throws {
        #expect(try ExecuteArgument.parse([]) == [])
        #expect(try ExecuteArgument.parse(utf8("5")) == [ExecuteArgument(id: 5)])
        // The specification's example.
        #expect(try ExecuteArgument.parse(utf8("0='ab',1")) == [ExecuteArgument(id: 0, value: "ab"), ExecuteArgument(id: 1)])
        #expect(try ExecuteArgument.parse(utf8("2='',9='http://x.example/a?b=c'"))
                == [ExecuteArgument(id: 2, value: ""), ExecuteArgument(id: 9, value: "http://x.example/a?b=c")])
    }

    @Test(arguments: ["a", "10", "0=ab", "0='ab", "0='a b'", "0='a\"b'", "0='a\\b'", "0,", ",0", "0;1", "0='x'1",
                      "0 ", "0=", "0=''x", "0,,1"])
    func invalidArgumentListsAre400(payload: String) {
        #expect(throws: LwM2MError.self) { try ExecuteArgument.parse(utf8(payload)) }
    }

    @Test func handlerRefusesBadArgumentsWithoutExecuting() throws {
        let responder = try Responder()
        #expect(responder.handle(request(.post, "/32769/0/3", payload: utf8("0='abc',1"))).code == .changed)
        #expect(responder.triggers.count == 1)
        let bad = responder.handle(request(.post, "/32769/0/3", payload: utf8("0=abc")))
        #expect(bad.code == .badRequest)
        #expect(responder.triggers.count == 1)
    }
}
