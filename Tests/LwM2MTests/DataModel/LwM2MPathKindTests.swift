import Testing
@testable import LwM2M

/// The typed form of `LwM2MPath` (its `kind`, `InstancePath`, `ResourcePath`) and the
/// relations (`contains`, `<`, hashing, `parent`, `appending`) at every depth, checked against
/// a reference written on the ID arrays.
@Suite struct LwM2MPathKindTests {
    /// Paths of every depth, with IDs at the edges of the one- and two-byte ranges and the
    /// highest legal ID.
    static let samples: [LwM2MPath] = {
        let ids: [UInt16] = [0, 1, 255, 256, 65534]
        var paths: [LwM2MPath] = [.root]
        for o in ids {
            paths.append(LwM2MPath(o))
            for i in [ids[0], ids[2], ids[4]] {
                paths.append(LwM2MPath(o, i))
                for r in [ids[1], ids[3]] {
                    paths.append(LwM2MPath(o, i, r))
                    for ri in [ids[0], ids[4]] { paths.append(LwM2MPath(o, i, r, ri)) }
                }
            }
        }
        return paths
    }()

    // MARK: - Parsing and construction

    @Test func parsesEachDepthIntoItsKind() throws {
        #expect(try #require(LwM2MPath("/")).kind == .root)
        #expect(try #require(LwM2MPath("/3")).kind == .object(3))
        #expect(try #require(LwM2MPath("/3/0")).kind == .instance(InstancePath(3, 0)))
        #expect(try #require(LwM2MPath("/3/0/13")).kind == .resource(ResourcePath(3, 0, 13)))
        #expect(try #require(LwM2MPath("/3/0/7/1")).kind == .resourceInstance(ResourcePath(3, 0, 7), 1))
        #expect(try #require(LwM2MPath("/65534/65534/65534/65534")).kind
                == .resourceInstance(ResourcePath(65534, 65534, 65534), 65534))
        #expect(try #require(LwM2MPath(segments: [])).kind == .root)
        #expect(try #require(LwM2MPath(segments: ["1", "2"])).kind == .instance(InstancePath(1, 2)))
    }

    @Test func initialisersFromIDsAgreeWithParsing() throws {
        for path in Self.samples {
            #expect(LwM2MPath(path.description) == path, "\(path)")
            #expect(LwM2MPath(path.kind) == path)
            #expect(LwM2MPath(segments: path.ids.map(String.init)) == path)
        }
        #expect(LwM2MPath(3, 0, 13) == ResourcePath(3, 0, 13).path)
        #expect(LwM2MPath(3, 0) == InstancePath(3, 0).path)
        #expect(LwM2MPath() == .root)
    }

    @Test(arguments: [
        [""], ["3", ""], ["", "0"], ["3", "0", "", "1"], ["65535"], ["3", "65535"], ["3", "0", "65535"],
        ["3", "0", "1", "65535"], ["65536"], ["99999"], ["100000"], ["3", "0", "1", "2", "3"], ["-0"], ["+1"],
        ["03"], ["3", "00"], ["0x1"], ["1e3"], ["3 "], [" 3"], ["３"], ["٣"], ["3/0"], ["3", "0\u{0}"],
    ])
    func rejectsMalformedSegments(segments: [String]) {
        #expect(LwM2MPath(segments: segments) == nil)
    }

    @Test(arguments: ["/65535", "/3/65535", "/3/0/65535", "/3/0/1/65535", "/3/0/1/2/3", "3//", "/3/0//"])
    func rejectsReservedIDAndMalformedText(text: String) {
        #expect(LwM2MPath(text) == nil)
    }

    @Test func reservedIDIsDetectedAtEveryLevel() {
        #expect(LwM2MPath(65535).hasReservedID)
        #expect(LwM2MPath(3, 65535).hasReservedID)
        #expect(LwM2MPath(3, 0, 65535).hasReservedID)
        #expect(LwM2MPath(3, 0, 1, 65535).hasReservedID)
        #expect(!LwM2MPath.root.hasReservedID)
        for path in Self.samples { #expect(!path.hasReservedID, "\(path)") }
        // The highest legal ID next to an all-ones neighbour does not count as reserved.
        #expect(!LwM2MPath(65534, 65534, 65534, 65534).hasReservedID)
    }

    // MARK: - Typed views and accessors

    @Test func typedViewsAtEachDepth() {
        let object = LwM2MPath(3), instance = LwM2MPath(3, 1), resource = LwM2MPath(3, 1, 7)
        let resourceInstance = LwM2MPath(3, 1, 7, 2)
        #expect(LwM2MPath.root.instancePath == nil && LwM2MPath.root.resourcePath == nil)
        #expect(object.instancePath == nil && object.resourcePath == nil)
        #expect(instance.instancePath == InstancePath(3, 1) && instance.resourcePath == nil)
        #expect(resource.instancePath == InstancePath(3, 1) && resource.resourcePath == ResourcePath(3, 1, 7))
        #expect(resourceInstance.instancePath == InstancePath(3, 1))
        #expect(resourceInstance.resourcePath == ResourcePath(3, 1, 7))
        #expect(ResourcePath(3, 1, 7).instance == InstancePath(3, 1))
        #expect(InstancePath(3, 1).appending(7) == ResourcePath(3, 1, 7))
        #expect(ResourcePath(3, 1, 7).appending(2) == resourceInstance)
        #expect(InstancePath(3, 1).description == "/3/1" && ResourcePath(3, 1, 7).description == "/3/1/7")
    }

    @Test func optionalAccessorsFollowTheDepth() {
        for path in Self.samples {
            let ids = path.ids
            #expect(ids.count == path.depth)
            #expect(path.objectID == (ids.count > 0 ? ids[0] : nil))
            #expect(path.instanceID == (ids.count > 1 ? ids[1] : nil))
            #expect(path.resourceID == (ids.count > 2 ? ids[2] : nil))
            #expect(path.resourceInstanceID == (ids.count > 3 ? ids[3] : nil))
            for level in -1...4 {
                #expect(path.id(at: level) == (level >= 0 && level < ids.count ? ids[level] : nil))
            }
            #expect([path.isRoot, path.isObject, path.isObjectInstance, path.isResource, path.isResourceInstance]
                    == (0...4).map { $0 == path.depth })
        }
    }

    // MARK: - Relations against a reference on the ID arrays

    @Test func containsMatchesThePrefixRelation() {
        for a in Self.samples {
            for b in Self.samples {
                let reference = a.ids.count <= b.ids.count && Array(b.ids.prefix(a.ids.count)) == a.ids
                #expect(a.contains(b) == reference, "\(a) contains \(b)")
            }
        }
        #expect(!LwM2MPath(3).contains(LwM2MPath(30, 0)))
        #expect(!LwM2MPath(3, 0, 1).contains(LwM2MPath(3, 0, 256, 1)))
        #expect(!LwM2MPath(3, 0, 1, 0).contains(LwM2MPath(3, 0, 1, 65534)))
        #expect(LwM2MPath(3, 0, 1, 0).contains(LwM2MPath(3, 0, 1, 0)))
    }

    @Test func orderIsLexicographicOnTheIDs() {
        for a in Self.samples {
            for b in Self.samples {
                #expect((a < b) == a.ids.lexicographicallyPrecedes(b.ids), "\(a) < \(b)")
                #expect((a == b) == (a.ids == b.ids))
            }
        }
        let expected = ["/", "/3", "/3/0", "/3/0/1", "/3/0/1/0", "/3/0/1/1", "/3/0/2", "/3/1", "/4", "/256"]
        let paths = expected.reversed().compactMap { LwM2MPath($0) }
        #expect(paths.sorted().map(\.description) == expected)
        let instances = [InstancePath(3, 1), InstancePath(1, 65534), InstancePath(3, 0)]
        #expect(instances.sorted() == [InstancePath(1, 65534), InstancePath(3, 0), InstancePath(3, 1)])
        #expect(ResourcePath(3, 0, 65534) < ResourcePath(3, 1, 0))
    }

    @Test func equalPathsHashAlikeAndDistinctPathsStayDistinct() {
        let set = Set(Self.samples + Self.samples.map { LwM2MPath($0.description)! })
        #expect(set.count == Self.samples.count)
        for path in Self.samples { #expect(set.contains(LwM2MPath(segments: path.ids.map(String.init))!)) }
        // Same IDs at different depths are different paths.
        #expect(LwM2MPath(3, 0) != LwM2MPath(3, 0, 0))
        #expect(Set([LwM2MPath(0), LwM2MPath(0, 0), LwM2MPath(0, 0, 0), LwM2MPath(0, 0, 0, 0), .root]).count == 5)
    }

    @Test func parentAndAppendingAtEachLevel() {
        #expect(LwM2MPath.root.parent == .root)
        #expect(LwM2MPath.root.appending(3) == LwM2MPath(3))
        #expect(LwM2MPath(3).parent == .root)
        #expect(LwM2MPath(3).appending(0) == LwM2MPath(3, 0))
        #expect(LwM2MPath(3, 0).parent == LwM2MPath(3))
        #expect(LwM2MPath(3, 0).appending(7) == LwM2MPath(3, 0, 7))
        #expect(LwM2MPath(3, 0, 7).parent == LwM2MPath(3, 0))
        #expect(LwM2MPath(3, 0, 7).appending(1) == LwM2MPath(3, 0, 7, 1))
        #expect(LwM2MPath(3, 0, 7, 1).parent == LwM2MPath(3, 0, 7))
        for path in Self.samples where !path.isResourceInstance {
            #expect(path.appending(65534).parent == path)
            #expect(path.appending(65534).depth == path.depth + 1)
            #expect(path.contains(path.appending(0)))
        }
        for path in Self.samples where !path.isRoot {
            #expect(path.parent.appending(path.ids.last!) == path)
            #expect(path.parent < path)
        }
    }

    @Test func descriptions() {
        #expect(LwM2MPath.root.description == "/")
        #expect(LwM2MPath(3).description == "/3")
        #expect(LwM2MPath(3, 0).description == "/3/0")
        #expect(LwM2MPath(3, 0, 13).description == "/3/0/13")
        #expect(LwM2MPath(65534, 0, 7, 256).description == "/65534/0/7/256")
    }

    // MARK: - Callers that now take the typed form

    @Test func tlvRefusesTheReservedIDAtEveryLevel() {
        let records = [
            LwM2MRecord(LwM2MPath(3, 0, 65535), .integer(1)),
            LwM2MRecord(LwM2MPath(3, 0, 7, 65535), .integer(1)),
        ]
        for record in records {
            #expect(throws: ContentFormatError.self) { try TLV.encode([record], base: LwM2MPath(3, 0)) }
        }
        #expect(throws: ContentFormatError.self) {
            try TLV.encode([LwM2MRecord(LwM2MPath(3, 65535, 1), .integer(1))], base: LwM2MPath(3))
        }
        #expect(throws: ContentFormatError.self) {
            try TLV.encode([LwM2MRecord(LwM2MPath(65535, 0, 1), .integer(1))], base: LwM2MPath(65535))
        }
    }
}
