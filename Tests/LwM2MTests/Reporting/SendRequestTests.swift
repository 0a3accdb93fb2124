import CoAP
import Testing
@testable import LwM2M

/// The Send operation (TS 1.1 §6.4.6): `POST /dp` with SenML, built for the client layer.
@Suite struct SendRequestTests {
    let server = ServerContext(shortServerID: 101)

    @Test func senmlCBORGoldenVector() throws {
        let rig = try MultiServer([101])
        let send = try SendRequest(paths: [LwM2MPath(3, 0, 9)], registry: rig.registry, server: server,
                                   timestamp: 1_700_000_000)
        #expect(send.method == .post)
        #expect(send.uriPath == ["dp"])
        #expect(send.contentFormat == ContentFormat.senmlCBOR)
        // Hand-encoded (RFC 8949 preferred serialization, RFC 8428 labels n 0, v 2, bt -3):
        // [{0: "/3/0/9", 2: 95, -3: 1700000000}]
        let golden: [UInt8] = [0x81, 0xA3, 0x00, 0x66] + utf8("/3/0/9") + [0x02, 0x18, 0x5F,
                                                                                0x22, 0x1A, 0x65, 0x53, 0xF1, 0x00]
        #expect(send.payload == golden)
        let message = send.message(messageID: 9, token: try #require(Token([1, 2])))
        #expect(message.type == .confirmable && message.code == .post && message.uriPath == ["dp"])
        #expect(message.contentFormat == ContentFormat.senmlCBOR && message.payload == golden)
    }

    @Test func senmlJSONWithSeveralPaths() throws {
        let rig = try MultiServer([101])
        let send = try makeSendRequest(paths: [LwM2MPath(3, 0, 9), LwM2MPath(32769, 0, 1), LwM2MPath(3, 0, 9)],
                                       registry: rig.registry, server: server, format: ContentFormat.senmlJSON)
        #expect(send.contentFormat == ContentFormat.senmlJSON)
        #expect(String(decoding: send.payload, as: UTF8.self)
                == #"[{"bn":"/3/0/","n":"9","v":95},{"bn":"/32769/0/","n":"1/0","v":10},{"n":"1/1","v":20}]"#)
        #expect(send.records.count == 3)
    }

    @Test func muteSendAndErrors() throws {
        let rig = try MultiServer([101])
        try rig.servers.set(LwM2MPath(1, 0, 23), .boolean(true))
        #expect(throws: SendError.muted) {
            try SendRequest(paths: [LwM2MPath(3, 0, 9)], registry: rig.registry, server: server)
        }
        try rig.servers.set(LwM2MPath(1, 0, 23), .boolean(false))
        #expect(throws: SendError.unsupportedFormat(ContentFormat.lwm2mTLV)) {
            try SendRequest(paths: [LwM2MPath(3, 0, 9)], registry: rig.registry, server: server,
                            format: ContentFormat.lwm2mTLV)
        }
        #expect(throws: SendError.nothingToSend) { try SendRequest(paths: [], registry: rig.registry, server: server) }
        #expect(throws: SendError.unreadable(LwM2MPath(3, 9), .notFound)) {
            try SendRequest(paths: [LwM2MPath(3, 9)], registry: rig.registry, server: server)
        }
        #expect(throws: SendError.unreadable(LwM2MPath(0, 0, 5), .unauthorized)) {
            try SendRequest(paths: [LwM2MPath(0, 0, 5)], registry: rig.registry, server: server)
        }
    }

    @Test func accessControlLimitsWhatIsSent() throws {
        let rig = try MultiServer()
        try rig.addACL(0, object: 3, objectInstance: 0, rights: [101: .read], owner: 65535)
        #expect(try SendRequest(paths: [LwM2MPath(3, 0, 9)], registry: rig.registry, server: server).records.count == 1)
        #expect(throws: SendError.unreadable(LwM2MPath(3, 0, 9), .unauthorized)) {
            try SendRequest(paths: [LwM2MPath(3, 0, 9)], registry: rig.registry, server: ServerContext(shortServerID: 102))
        }
    }
}
