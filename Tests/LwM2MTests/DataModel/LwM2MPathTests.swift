import Testing
@testable import LwM2M

@Suite struct LwM2MPathTests {
    @Test(arguments: [
        ("/", 0), ("/3", 1), ("/3/0", 2), ("/3/0/1", 3), ("/3/0/7/1", 4), ("3/0", 2), ("/65534", 1),
    ])
    func parsesDepth(text: String, depth: Int) throws {
        let path = try #require(LwM2MPath(text))
        #expect(path.depth == depth)
    }

    @Test(arguments: ["/a", "/3/x", "/65535", "/70000", "/1/2/3/4/5", "/-1", "/+3", "/ 3", "/3//0", "/03", "/3/00", "//"])
    func rejectsInvalid(text: String) {
        #expect(LwM2MPath(text) == nil)
    }

    @Test func containment() throws {
        let object = try #require(LwM2MPath("/3"))
        let resource = try #require(LwM2MPath("/3/0/1"))
        #expect(object.contains(resource))
        #expect(!resource.contains(object))
        #expect(LwM2MPath.root.contains(resource))
        #expect(!(try #require(LwM2MPath("/30"))).contains(resource))
        #expect(resource.parent == LwM2MPath(3, 0))
        #expect(LwM2MPath(3, 0).appending(7).appending(2).description == "/3/0/7/2")
        #expect(LwM2MPath(3, 0, 1) < LwM2MPath(3, 1))
    }

    @Test func floatValuesCompareByBitPattern() {
        #expect(ResourceValue.float(.nan) == .float(.nan))
        #expect(Set([ResourceValue.float(.nan), .float(.nan)]).count == 1)
        #expect(ResourceValue.float(0.0) != .float(-0.0))
        #expect(ResourceValue.integer(1) != .time(1))
    }

    @Test func objectLinkParsing() {
        #expect(ObjectLink("3:0") == ObjectLink(objectID: 3, instanceID: 0))
        #expect(ObjectLink("65535:65535") == .null)
        #expect(ObjectLink("3") == nil)
        #expect(ObjectLink("3:70000") == nil)
        #expect(ObjectLink("+3:0") == nil)
    }
}
