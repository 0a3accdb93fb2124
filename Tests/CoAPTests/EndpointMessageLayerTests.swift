// RFC 7252 §4 message layer, server role: hand-crafted datagrams in, exact bytes out.
import Testing
@testable import CoAP

@Suite struct EndpointMessageLayerTests {
    /// "test" as a Uri-Path option: delta 11, length 4.
    static let uriPathTest: [UInt8] = [0xB4, 0x74, 0x65, 0x73, 0x74]

    @Test func piggybackedResponseEchoesMessageIDAndToken() throws {
        let d = EndpointDriver()
        // CON GET, TKL 1, MID 0x1234, token AB, Uri-Path "test".
        d.receive([0x41, 0x01, 0x12, 0x34, 0xAB] + Self.uriPathTest)
        #expect(d.take().isEmpty, "nothing is sent before the application answers")
        let request = try #require(d.takeRequest())
        #expect(request.peer == .b)
        #expect(request.message.type == .confirmable)
        #expect(request.message.code == .get)
        #expect(request.message.messageID == 0x1234)
        #expect(request.message.token.bytes == [0xAB])
        #expect(request.message.path == "/test")
        #expect(request.observe == nil)

        d.respond(request.exchange, CoAPResponse(.content, contentFormat: 0, payload: Array("hi".utf8)))
        let sent = d.take()
        #expect(sent.count == 1)
        #expect(sent.first?.peer == .b)
        // ACK (T=2), TKL 1, 2.05, MID 0x1234, token AB, Content-Format 0 (delta 12, len 0), payload "hi".
        #expect(sent.first?.bytes == [0x61, 0x45, 0x12, 0x34, 0xAB, 0xC0, 0xFF, 0x68, 0x69])
        #expect(d.endpoint.pendingExchangeCount == 0)
        // Answering twice is a no-op.
        #expect(d.respond(request.exchange, CoAPResponse(.content)) == nil)
        #expect(d.take().isEmpty)
    }

    @Test func nonRequestGetsNonResponseWithSameTokenAndNewMessageID() throws {
        let d = EndpointDriver()
        // NON GET, TKL 2, MID 0x0007, token CA FE, Uri-Path "test".
        d.receive([0x52, 0x01, 0x00, 0x07, 0xCA, 0xFE] + Self.uriPathTest)
        let request = try #require(d.takeRequest())
        #expect(request.message.type == .nonConfirmable)
        d.respond(request.exchange, CoAPResponse(.content, payload: [0x31]))
        let bytes = try #require(d.takeBytes().first)
        #expect(bytes[0] == 0x52, "version 1, NON, TKL 2")
        #expect(bytes[1] == EP.c205)
        #expect(EP.mid(bytes) != 0x0007)
        #expect(Array(bytes[4..<6]) == [0xCA, 0xFE])
        #expect(Array(bytes[6...]) == [0xFF, 0x31])

        // A second NON request gets yet another message ID.
        d.receive([0x52, 0x01, 0x00, 0x08, 0xCA, 0xFF] + Self.uriPathTest)
        let second = try #require(d.takeRequest())
        d.respond(second.exchange, CoAPResponse(.content, payload: [0x32]))
        let bytes2 = try #require(d.takeBytes().first)
        #expect(EP.mid(bytes2) != EP.mid(bytes))
        #expect(EP.mid(bytes2) != 0x0008)
        #expect(EP.type(bytes2) == EP.NON)
    }

    @Test func emptyConfirmableIsAPingAnsweredWithReset() {
        let d = EndpointDriver()
        d.receive([0x40, 0x00, 0xBE, 0xEF])
        #expect(d.takeBytes() == [[0x70, 0x00, 0xBE, 0xEF]])
        #expect(d.takeEvents().isEmpty)
    }

    @Test func emptyNonConfirmableIsIgnored() {
        let d = EndpointDriver()
        d.receive([0x50, 0x00, 0x12, 0x34])
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func malformedConfirmableWithTokenLength9IsReset() throws {
        let d = EndpointDriver()
        d.receive([0x49, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(d.takeBytes() == [[0x70, 0x00, 0x00, 0x01]])
        let events = d.takeEvents()
        #expect(events.count == 1)
        let malformed = try #require(events.first?.asMalformed)
        #expect(malformed.peer == .b)
        #expect(malformed.error == .invalidTokenLength(9))
    }

    @Test func malformedConfirmableWithOptionDelta15IsReset() throws {
        let d = EndpointDriver()
        // Option byte 0xF1: delta nibble 15 (reserved) that is not the 0xFF payload marker.
        d.receive([0x40, 0x01, 0xA0, 0x02, 0xF1, 0x00])
        #expect(d.takeBytes() == [[0x70, 0x00, 0xA0, 0x02]])
        let malformed = try #require(d.takeEvents().first?.asMalformed)
        #expect(malformed.error == .reservedOptionDelta)
    }

    @Test func malformedConfirmableVariantsAreReset() {
        let cases: [(bytes: [UInt8], error: CoAPDecodingError)] = [
            ([0x40, 0x01, 0x00, 0x03, 0x1F], .reservedOptionLength),            // length nibble 15
            ([0x40, 0x01, 0x00, 0x03, 0xB4, 0x74, 0x65], .truncatedOption),       // value cut short
            ([0x40, 0x01, 0x00, 0x03, 0xFF], .emptyPayloadAfterMarker),          // marker, no payload
            ([0x41, 0x00, 0x00, 0x03, 0xAA], .nonEmptyEmptyMessage),             // 0.00 with a token
            ([0x40, 0xE5, 0x00, 0x03], .reservedCodeClass(7)),                   // code 7.05
            ([0x42, 0x01, 0x00, 0x03, 0xAA], .truncatedToken),                   // TKL 2, 1 byte
        ]
        for c in cases {
            let d = EndpointDriver()
            d.receive(c.bytes)
            #expect(d.takeBytes() == [[0x70, 0x00, 0x00, 0x03]], "RST for \(c.error)")
            let events = d.takeEvents()
            #expect(events.count == 1)
            #expect(events.first?.asMalformed?.error == c.error)
        }
    }

    @Test func malformedNonAndAckAreDroppedWithoutReply() {
        let d = EndpointDriver()
        d.receive([0x59, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9])  // NON, TKL 9
        d.receive([0x50, 0x01, 0x00, 0x02, 0xF1, 0x00])                  // NON, delta 15
        d.receive([0x69, 0x45, 0x00, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9])  // ACK, TKL 9
        d.receive([0x60, 0x45, 0x00, 0x04, 0xF1, 0x00])                  // ACK, delta 15
        d.receive([0x79, 0x00, 0x00, 0x05])                              // RST, TKL 9
        #expect(d.take().isEmpty)
        let events = d.takeEvents()
        #expect(events.count == 5)
        #expect(events.allSatisfy { $0.asMalformed != nil })
        #expect(events.compactMap(\.asRequest).isEmpty)
    }

    @Test func unsupportedVersionIsDroppedSilently() {
        let d = EndpointDriver()
        // Version 2 CON GET: must not be answered, not even with a Reset.
        d.receive([0x81, 0x01, 0x00, 0x05, 0xAA] + Self.uriPathTest)
        // Version 0 CON ping, version 3 NON.
        d.receive([0x00, 0x00, 0x00, 0x06])
        d.receive([0xD0, 0x01, 0x00, 0x07])
        // Shorter than the header.
        d.receive([0x40, 0x01, 0x00])
        d.receive([])
        #expect(d.take().isEmpty)
        let events = d.takeEvents()
        #expect(events.compactMap(\.asRequest).isEmpty)
        #expect(events.first?.asMalformed?.error == .unsupportedVersion(2))
    }

    @Test func unknownCriticalOptionInConfirmableRequestIsBadOption() throws {
        let d = EndpointDriver()
        // CON GET MID 0x0010 token AA, option 9 (critical, unknown), value 01.
        d.receive([0x41, 0x01, 0x00, 0x10, 0xAA, 0x91, 0x01])
        #expect(d.takeEvents().isEmpty, "no .request for a request with an unrecognised critical option")
        let bytes = try #require(d.takeBytes().first)
        #expect(Array(bytes[0..<5]) == [0x61, EP.c402, 0x00, 0x10, 0xAA])
        let message = try #require(EP.decode(bytes))
        #expect(message.code == .badOption)
        #expect(!message.payload.isEmpty, "diagnostic payload")
        #expect(message.payload.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "diagnostic payload is text")
        #expect(String(decoding: message.payload, as: UTF8.self).contains("9"))
    }

    @Test func unknownCriticalOptionInNonRequestIsIgnored() {
        let d = EndpointDriver()
        d.receive([0x51, 0x01, 0x00, 0x11, 0xAA, 0x91, 0x01])
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func largeUnknownCriticalOptionNumberIsBadOption() throws {
        let d = EndpointDriver()
        // Option 2049 (odd: critical): delta 2049 = 14-nibble + 2 bytes (2049 - 269 = 0x06F4).
        d.receive([0x41, 0x01, 0x00, 0x12, 0xAA, 0xE0, 0x06, 0xF4])
        #expect(d.takeEvents().isEmpty)
        #expect(d.takeBytes().first.map { Array($0[0..<2]) } == [0x61, EP.c402])
    }

    @Test func unknownElectiveOptionIsAccepted() throws {
        let d = EndpointDriver()
        // Option 10 (even: elective, unknown), then Uri-Path "test" (delta 1).
        d.receive([0x41, 0x01, 0x00, 0x13, 0xAA, 0xA1, 0x01, 0x14, 0x74, 0x65, 0x73, 0x74])
        let request = try #require(d.takeRequest())
        #expect(request.message.path == "/test")
        #expect(request.message.firstValue(OptionNumber(10)) == [0x01])
        #expect(d.take().isEmpty)
        d.respond(request.exchange, CoAPResponse(.content))
        #expect(d.takeBytes() == [[0x61, 0x45, 0x00, 0x13, 0xAA]])
    }

    @Test func repeatedNonRepeatableCriticalOptionIsBadOption() throws {
        // Two Uri-Port options (7): delta 7 len 2, delta 0 len 2.
        let twoPorts: [UInt8] = [0x41, 0x01, 0x00, 0x20, 0xAA, 0x72, 0x16, 0x33, 0x02, 0x16, 0x34]
        // Two Block2 options (23): delta 13+10, len 1; delta 0 len 1.
        let twoBlock2: [UInt8] = [0x41, 0x01, 0x00, 0x21, 0xAA, 0xD1, 0x0A, 0x02, 0x01, 0x12]
        // Two Uri-Host options (3).
        let twoHosts: [UInt8] = [0x41, 0x01, 0x00, 0x22, 0xAA, 0x31, 0x61, 0x01, 0x62]
        for bytes in [twoPorts, twoBlock2, twoHosts] {
            let d = EndpointDriver()
            d.receive(bytes)
            #expect(d.takeEvents().isEmpty)
            let reply = try #require(d.takeBytes().first)
            #expect(Array(reply[0..<5]) == [0x61, EP.c402, bytes[2], bytes[3], 0xAA])
        }
        // Repeated Uri-Path (repeatable) is fine.
        let d = EndpointDriver()
        d.receive([0x41, 0x01, 0x00, 0x23, 0xAA, 0xB1, 0x61, 0x01, 0x62])
        #expect(d.takeRequest()?.message.uriPath == ["a", "b"])
    }

    @Test func criticalOptionWithBadLengthIsBadOption() throws {
        let d = EndpointDriver()
        // Uri-Port (0...2 bytes) with 3 bytes; Block2 (0...3 bytes) with 4.
        d.receive([0x41, 0x01, 0x00, 0x24, 0xAA, 0x73, 0x01, 0x02, 0x03])
        d.receive([0x41, 0x01, 0x00, 0x25, 0xAA, 0xD4, 0x0A, 0x00, 0x00, 0x00, 0x16])
        #expect(d.takeEvents().isEmpty)
        let replies = d.takeBytes()
        #expect(replies.count == 2)
        #expect(replies.map { $0[1] } == [EP.c402, EP.c402])
    }

    @Test func reservedBlockSizeIsBadRequest() throws {
        // RFC 7959 §2.2: SZX 7 in a request MUST lead to 4.00 Bad Request.
        let d = EndpointDriver()
        d.receive([0x41, 0x01, 0x00, 0x26, 0xAA, 0xD1, 0x0A, 0x07])   // Block2 0/0/SZX 7
        d.receive([0x41, 0x03, 0x00, 0x27, 0xAA, 0xD1, 0x0E, 0x0F, 0xFF, 0x01])  // Block1 0/1/SZX 7
        #expect(d.takeEvents().isEmpty)
        let replies = d.takeBytes()
        #expect(replies.map { Array($0[0..<5]) } == [[0x61, 0x80, 0x00, 0x26, 0xAA], [0x61, 0x80, 0x00, 0x27, 0xAA]])
    }

    @Test func proxyUriIsProxyingNotSupported() throws {
        let d = EndpointDriver()
        let uri = Array("coap://example.org/x".utf8)
        // Proxy-Uri (35): delta 13+22, length 20.
        d.receive([0x41, 0x01, 0x00, 0x30, 0xAA, 0xDD, 22, UInt8(uri.count - 13)] + uri)
        #expect(d.takeEvents().isEmpty)
        let reply = try #require(d.takeBytes().first)
        #expect(Array(reply[0..<5]) == [0x61, EP.c505, 0x00, 0x30, 0xAA])
        // Proxy-Scheme (39) too.
        d.receive([0x41, 0x01, 0x00, 0x31, 0xAA, 0xD4, 26, 0x63, 0x6F, 0x61, 0x70])
        #expect(d.takeEvents().isEmpty)
        #expect(d.takeBytes().first.map { Array($0[0..<2]) } == [0x61, EP.c505])
    }

    @Test func unknownMethodIsMethodNotAllowed() throws {
        let d = EndpointDriver()
        // Code 0.08 (unassigned method).
        d.receive([0x41, 0x08, 0x00, 0x40, 0xAA] + Self.uriPathTest)
        #expect(d.takeEvents().isEmpty)
        let reply = try #require(d.takeBytes().first)
        #expect(Array(reply[0..<5]) == [0x61, EP.c405, 0x00, 0x40, 0xAA])
        // 0.31 as a NON: a NON 4.05 with the same token.
        d.receive([0x51, 0x1F, 0x00, 0x41, 0xAB] + Self.uriPathTest)
        #expect(d.takeEvents().isEmpty)
        let nonReply = try #require(d.takeBytes().first)
        #expect(nonReply[0] == 0x51)
        #expect(nonReply[1] == EP.c405)
        #expect(nonReply[4] == 0xAB)
    }

    @Test func knownMethodsReachTheApplication() {
        let d = EndpointDriver()
        for (i, code) in ([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07] as [UInt8]).enumerated() {
            d.receive([0x41, code, 0x01, UInt8(i), 0xAA] + Self.uriPathTest)
        }
        let requests = d.takeEvents().compactMap(\.asRequest)
        #expect(requests.map(\.message.code.rawValue) == [1, 2, 3, 4, 5, 6, 7])
        #expect(d.take().isEmpty)
    }

    @Test func unmatchedConfirmableResponseIsResetAndNonIgnored() {
        let d = EndpointDriver()
        // A CON 2.05 with a token we never used.
        d.receive([0x41, 0x45, 0x33, 0x44, 0x99, 0xFF, 0x01])
        #expect(d.takeBytes() == [[0x70, 0x00, 0x33, 0x44]])
        // The same as NON: ignored.
        d.receive([0x51, 0x45, 0x33, 0x45, 0x99, 0xFF, 0x01])
        #expect(d.take().isEmpty)
        // A stray ACK or RST: ignored.
        d.receive([0x60, 0x00, 0x33, 0x46])
        d.receive([0x70, 0x00, 0x33, 0x47])
        d.receive([0x61, 0x45, 0x33, 0x48, 0x99])
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func requestCodeInAcknowledgementIsIgnored() {
        let d = EndpointDriver()
        d.receive([0x61, 0x01, 0x00, 0x50, 0xAA] + Self.uriPathTest)
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func requestsFromDifferentPeersAreAnsweredToTheirSender() throws {
        let d = EndpointDriver()
        d.receive([0x41, 0x01, 0x00, 0x60, 0x01] + Self.uriPathTest, from: .a)
        d.receive([0x41, 0x01, 0x00, 0x60, 0x02] + Self.uriPathTest, from: .b)
        let requests = d.takeEvents().compactMap(\.asRequest)
        #expect(requests.map(\.peer) == [.a, .b])
        for r in requests.reversed() { d.respond(r.exchange, CoAPResponse(.content)) }
        let sent = d.take()
        #expect(sent.map(\.peer) == [.b, .a])
        #expect(sent.map(\.bytes) == [[0x61, 0x45, 0x00, 0x60, 0x02], [0x61, 0x45, 0x00, 0x60, 0x01]])
    }
}
