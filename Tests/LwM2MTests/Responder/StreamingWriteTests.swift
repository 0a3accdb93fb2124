// Streamed Writes (StreamingWritable, RequestHandler.handleBlock): every block is checked as a
// Write (method, path, format, write operation, access control) before it reaches the object;
// the client's endpoint streams exactly the StreamingWritable objects' resources; an abandoned
// upload reaches the object; a whole ManagementSession + CoAPEndpoint run on a virtual clock.
import CoAP
import Testing
@testable import LwM2M

/// A Firmware-Update-like object (/33000/0): Package (0, opaque W) streams; Name (1, string RW)
/// and Blob (2, opaque RW, not streamed) are ordinary; Digest (3, opaque R). Records every call.
final class FakeStreamingObject: StreamingWritable {
    static let id: UInt16 = 33000
    let definition = ObjectDefinition(
        id: FakeStreamingObject.id, name: "Fake Package", version: "1.0", lwm2mVersion: "1.1", isMultiple: false,
        isMandatory: false,
        resources: [
            ResourceDefinition(id: 0, name: "Package", operations: .write, isMultiple: false, isMandatory: true, type: .opaque),
            ResourceDefinition(id: 1, name: "Name", operations: [.read, .write], isMultiple: false, isMandatory: false,
                               type: .string),
            ResourceDefinition(id: 2, name: "Blob", operations: [.read, .write], isMultiple: false, isMandatory: false,
                               type: .opaque),
            ResourceDefinition(id: 3, name: "Digest", operations: .read, isMultiple: false, isMandatory: false, type: .opaque),
        ])
    var changeHandler: ((LwM2MPath) -> Void)?
    struct Block: Equatable {
        var path: LwM2MPath
        var offset: Int64
        var bytes: [UInt8]
        var isLast: Bool
        var format: UInt16?
    }
    var blocks: [Block] = []
    var abandoned: [LwM2MPath] = []
    var writes: [LwM2MPath] = []
    var received: [UInt8] = []
    /// Thrown by the next `receiveBlock`.
    var failure: LwM2MError?

    var instanceIDs: [UInt16] { [0] }
    func resourceIDs(in instance: UInt16) -> [UInt16] { instance == 0 ? [0, 1, 2, 3] : [] }
    func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent { .single(.opaque(received)) }
    func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) { writes.append(path) }
    var streamedResources: [UInt16] { [0] }

    func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?)
        throws(LwM2MError)
    {
        if let failure {
            self.failure = nil
            throw failure
        }
        blocks.append(Block(path: path, offset: offset, bytes: bytes, isLast: isLast, format: format))
        if offset == 0 { received = [] }
        received += bytes
    }

    func abandonBlocks(_ path: LwM2MPath) {
        abandoned.append(path)
        received = []
    }
}

/// A StreamingWritable object keeping the default `streamedResources`.
final class DefaultStreamingObject: StreamingWritable {
    let definition = testObjectDefinition  // /32769: resource 2 is the only writable opaque one
    var changeHandler: ((LwM2MPath) -> Void)?
    var instanceIDs: [UInt16] { [0] }
    func resourceIDs(in instance: UInt16) -> [UInt16] { [] }
    func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent { throw .notFound }
    func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?)
        throws(LwM2MError) {}
    func abandonBlocks(_ path: LwM2MPath) {}
}

private func block(_ number: UInt32, more: Bool) -> StreamedBlock {
    StreamedBlock(block: BlockValue(number: number, more: more, szx: 6), offset: Int64(number) * 1024)
}

private func put(_ path: String, format: UInt16? = ContentFormat.octetStream, payload: [UInt8] = Array(repeating: 7, count: 1024),
                 query: [String] = []) -> CoAPMessage {
    request(.put, path, format: format, payload: payload, query: query)
}

@Suite struct StreamingWriteTests {
    @Test("each block reaches the object with its offset and format; 2.31 until the last, then 2.04")
    func blocksReachTheObject() throws {
        let responder = try Responder()
        let object = FakeStreamingObject()
        responder.registry.register(object)
        let handler = RequestHandler()
        let r0 = handler.handleBlock(put("/33000/0/0", payload: [1, 2]), block: block(0, more: true), registry: responder.registry)
        let r1 = handler.handleBlock(put("/33000/0/0", payload: [3]), block: block(1, more: false), registry: responder.registry)
        #expect(r0.code == .continue && r1.code == .changed)
        #expect(object.blocks == [
            .init(path: LwM2MPath(33000, 0, 0), offset: 0, bytes: [1, 2], isLast: false, format: 42),
            .init(path: LwM2MPath(33000, 0, 0), offset: 1024, bytes: [3], isLast: true, format: 42),
        ])
        #expect(object.writes.isEmpty)
    }

    @Test("every block is checked as a Write; a refused block never reaches the object",
          arguments: [
              (request(.post, "/33000/0/0", format: 42, payload: [1]), CoAPCode.methodNotAllowed),  // POST = Execute
              (put("/33000/0/0", query: ["pmin=1"]), .badRequest),  // Write-Attributes carries no body
              (put("/33000/0"), .methodNotAllowed),  // instance: not a streamed Write
              (put("/33000/1/0"), .notFound),  // no such instance
              (put("/33000/0/9"), .notFound),  // no such resource
              (put("/33000/0/3"), .methodNotAllowed),  // read-only
              (put("/33000/0/1"), .requestEntityTooLarge),  // writable, not streamed
              (put("/32769/0/2"), .requestEntityTooLarge),  // not a StreamingWritable object
              (put("/33000/0/0", format: ContentFormat.lwm2mTLV), .unsupportedContentFormat),
              (put("/33000/0/0", format: nil), .unsupportedContentFormat),
              (put("/0/0/3"), .unauthorized),  // Security object: never a management server's
              (put("/a/b/c"), .badRequest),
          ])
    func checks(message: CoAPMessage, expected: CoAPCode) throws {
        let responder = try Responder()
        let object = FakeStreamingObject()
        responder.registry.register(object)
        let response = RequestHandler().handleBlock(message, block: block(0, more: true), registry: responder.registry)
        #expect(response.code == expected, "\(message.path): \(String(decoding: response.payload, as: UTF8.self))")
        #expect(object.blocks.isEmpty && object.writes.isEmpty)
    }

    @Test("the object's error is the block's answer")
    func objectFails() throws {
        let responder = try Responder()
        let object = FakeStreamingObject()
        responder.registry.register(object)
        object.failure = .internalError("disk full")
        let response = RequestHandler().handleBlock(put("/33000/0/0"), block: block(0, more: true), registry: responder.registry)
        #expect(response.code == .internalServerError)
        #expect(String(decoding: response.payload, as: UTF8.self).contains("disk full"))
    }

    @Test("access control applies to every block: a server without Write gets 4.01, also mid-transfer")
    func accessControl() throws {
        let fixture = try MultiServer()
        let object = FakeStreamingObject()
        fixture.registry.register(object)
        try fixture.addACL(0, object: FakeStreamingObject.id, objectInstance: 0, rights: [101: [.read, .write], 102: .read],
                           owner: 101)
        let handler = RequestHandler()
        func send(_ number: UInt32, from ssid: UInt16) -> CoAPCode {
            handler.handleBlock(put("/33000/0/0"), block: block(number, more: true), registry: fixture.registry,
                                server: ServerContext(shortServerID: ssid)).code
        }
        #expect(send(0, from: 102) == .unauthorized)
        #expect(object.blocks.isEmpty)
        #expect(send(0, from: 101) == .continue)
        // The ACL changes during the transfer: the next block is refused.
        try fixture.addACL(0, object: FakeStreamingObject.id, objectInstance: 0, rights: [101: .read], owner: 102)
        #expect(send(1, from: 101) == .unauthorized)
        #expect(object.blocks.count == 1)
    }

    @Test("the streaming rules name PUT of the streamed resources of StreamingWritable objects only")
    func rules() throws {
        let responder = try Responder()
        #expect(responder.registry.block1StreamRules.isEmpty)
        responder.registry.register(FakeStreamingObject())
        #expect(responder.registry.block1StreamRules == [Block1StreamRule(method: .put, path: ["33000", nil, "0"])])
        #expect(DefaultStreamingObject().streamedResources == [2], "default: the writable opaque resources")
    }

    @Test("an abandoned upload reaches the object of a streamed path, and only that")
    func abandonment() throws {
        let responder = try Responder()
        let object = FakeStreamingObject()
        responder.registry.register(object)
        let handler = RequestHandler()
        handler.abandonBlocks(of: put("/33000/0/1"), registry: responder.registry)
        handler.abandonBlocks(of: put("/33000/0"), registry: responder.registry)
        handler.abandonBlocks(of: put("/3/0/0"), registry: responder.registry)
        #expect(object.abandoned.isEmpty)
        handler.abandonBlocks(of: put("/33000/0/0"), registry: responder.registry)
        #expect(object.abandoned == [LwM2MPath(33000, 0, 0)])
    }

    @Test("the LwM2M client's endpoint streams the registry's streamed resources")
    func clientEndpoint() throws {
        let registry = ObjectRegistry()
        registry.register(FakeStreamingObject())
        let client = LwM2MClient(configuration: ClientConfiguration(endpointName: "t"), registry: registry,
                                 factory: ConfigurationSnapshot(objects: [:]), state: nil, seed: 1,
                                 now: Instant(nanoseconds: 0))
        #expect(client.endpoint.configuration.block1Streaming.rules ==
                [Block1StreamRule(method: .put, path: ["33000", nil, "0"])])
    }

    @Test("end to end on a virtual clock: endpoint + ManagementSession stream 64 KiB, then an abandoned upload expires")
    func session() throws {
        let responder = try Responder()
        let object = FakeStreamingObject()
        responder.registry.register(object)
        var configuration = EndpointConfiguration()
        configuration.block1Streaming.rules = responder.registry.block1StreamRules
        var endpoint = CoAPEndpoint<Int>(configuration: configuration, seed: 3)
        var session = ManagementSession(registry: responder.registry)
        var now = Instant(nanoseconds: 1_000_000_000)
        let body = (0..<(64 << 10) + 10).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        var mid: UInt16 = 100

        func send(_ number: UInt32, of body: [UInt8]) -> [CoAPMessage] {
            let start = Int(number) * 1024, end = min(start + 1024, body.count)
            mid &+= 1
            var message = CoAPMessage(type: .confirmable, code: .put, messageID: mid, token: Token([1])!,
                                      payload: Array(body[start..<end]))
            message.uriPath = ["33000", "0", "0"]
            message.contentFormat = ContentFormat.octetStream
            message.block1 = BlockValue(number: number, more: end < body.count, szx: 6)
            endpoint.receive(try! message.encoded(), from: 9, at: now)
            while let event = endpoint.nextEvent() {
                switch event {
                case .request(let request): session.handle(request, registry: responder.registry, endpoint: &endpoint, at: now)
                case .uploadAbandoned(let upload): session.uploadAbandoned(upload, registry: responder.registry)
                default: break
                }
            }
            var replies: [CoAPMessage] = []
            while let out = endpoint.nextDatagram() { replies.append(try! CoAPMessage(decoding: out.bytes)) }
            return replies
        }

        let blocks = UInt32((body.count + 1023) / 1024)
        for number in 0..<blocks {
            let replies = send(number, of: body)
            #expect(replies.map(\.code) == [number + 1 < blocks ? .continue : .changed], "block \(number)")
        }
        #expect(object.received == body)
        #expect(object.blocks.count == Int(blocks) && object.blocks.last?.isLast == true)
        #expect(endpoint.streamedUploadCount == 0 && endpoint.pendingExchangeCount == 0)

        // Two blocks, then silence: after EXCHANGE_LIFETIME the object is told.
        _ = send(0, of: body)
        _ = send(1, of: body)
        now += .seconds(247)
        endpoint.advance(to: now)
        while let event = endpoint.nextEvent() {
            if case .uploadAbandoned(let upload) = event { session.uploadAbandoned(upload, registry: responder.registry) }
        }
        #expect(object.abandoned == [LwM2MPath(33000, 0, 0)])
    }
}
