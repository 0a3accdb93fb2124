// RFC 7641 Observe, server role: registration, notifications, confirmable notifications,
// cancellation by Reset / deregistration / time-out, replacement of in-flight notifications,
// and block-wise notifications.
import Testing
@testable import CoAP

@Suite struct EndpointObserveTests {
    static let token: [UInt8] = [0x0B, 0x5E]

    /// CON GET /temp with Observe `observe` (nil: none).
    static func get(mid: UInt16, observe: UInt32?, token: [UInt8] = token, type: UInt8 = EP.CON, block2: EP.Opt? = nil) -> [UInt8] {
        var options: [EP.Opt] = []
        if let observe { options.append(.observe(observe)) }
        options.append(.path("temp"))
        if let block2 { options.append(block2) }
        return EP.datagram(type, EP.GET, mid: mid, token: token, options: options)
    }

    /// Registers an observation of /temp; returns the driver, the observation and the first response.
    static func register(
        configuration: EndpointConfiguration = EndpointConfiguration(), start: Instant = EP.at(1000)
    ) throws -> (EndpointDriver, ObservationID, CoAPMessage) {
        let d = EndpointDriver(configuration: configuration, start: start)
        d.receive(get(mid: 0x3000, observe: 0))
        let request = try #require(d.takeRequest())
        #expect(request.observe == .register)
        let id = try #require(d.respond(request.exchange, CoAPResponse(.content, contentFormat: 0, payload: Array("21".utf8))))
        let first = try #require(d.takeOne())
        return (d, id, first)
    }

    @Test func registrationResponseCarriesObserve() throws {
        let (d, id, first) = try Self.register()
        // ACK 2.05, MID 3000, token, Observe (delta 6, empty value = 0), Content-Format 0 (delta 6).
        let bytes = d.allSent.last?.datagram.bytes
        #expect(bytes == [0x62, 0x45, 0x30, 0x00, 0x0B, 0x5E, 0x60, 0x60, 0xFF, 0x32, 0x31])
        #expect(first.observe == 0)
        #expect(d.endpoint.observationIDs == [id])
        let info = try #require(d.endpoint.observationInfo(id))
        #expect(info.peer == .b)
        #expect(info.token.bytes == Self.token)
        #expect(info.request.path == "/temp")
    }

    @Test func notificationsHaveIncreasingSequenceNumbersAndTheToken() throws {
        let (d, id, _) = try Self.register()
        var sequence: [UInt32] = []
        var mids: Set<UInt16> = [0x3000]
        for value in 22...26 {
            d.advance(by: .seconds(5))
            #expect(d.notify(id, CoAPResponse(.content, payload: Array("\(value)".utf8))))
            let notification = try #require(d.takeOne())
            #expect(notification.type == .nonConfirmable, "NON by default")
            #expect(notification.code == .content)
            #expect(notification.token.bytes == Self.token)
            #expect(notification.payload == Array("\(value)".utf8))
            sequence.append(try #require(notification.observe))
            mids.insert(notification.messageID)
        }
        #expect(sequence == [1, 2, 3, 4, 5])
        #expect(mids.count == 6, "each notification has a fresh MID")
        d.advance(by: .seconds(500))
        #expect(d.take().isEmpty, "NON notifications are not retransmitted")
        #expect(d.takeEvents().isEmpty)
    }

    @Test func confirmableNotificationOnRequest() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]), confirmable: true)
        let con = try #require(d.takeOne())
        #expect(con.type == .confirmable)
        #expect(con.observe == 1)
        d.receive(EP.empty(EP.ACK, mid: con.messageID))
        d.advance(by: .seconds(100))
        #expect(d.take().isEmpty, "acknowledged: not retransmitted")
        d.notify(id, CoAPResponse(.content, payload: [2]))
        #expect(d.takeOne()?.type == .nonConfirmable)
        #expect(d.takeEvents().isEmpty)
    }

    @Test func notificationBecomesConfirmableAfter24Hours() throws {
        let (d, id, _) = try Self.register(start: EP.at(0))
        d.advance(to: EP.at(24 * 3600 - 1))
        d.notify(id, CoAPResponse(.content, payload: [1]))
        #expect(d.takeOne()?.type == .nonConfirmable)
        d.advance(to: EP.at(24 * 3600))
        d.notify(id, CoAPResponse(.content, payload: [2]))
        let con = try #require(d.takeOne())
        #expect(con.type == .confirmable, "24 h since the last confirmable")
        d.receive(EP.empty(EP.ACK, mid: con.messageID))
        d.advance(by: .seconds(1))
        d.notify(id, CoAPResponse(.content, payload: [3]))
        #expect(d.takeOne()?.type == .nonConfirmable)
        // 24 h after that confirmable one, again.
        d.advance(to: EP.at(2 * 24 * 3600 - 1))
        d.notify(id, CoAPResponse(.content, payload: [4]))
        #expect(d.takeOne()?.type == .nonConfirmable)
        d.advance(to: EP.at(2 * 24 * 3600))
        d.notify(id, CoAPResponse(.content, payload: [5]))
        #expect(d.takeOne()?.type == .confirmable)
    }

    @Test func confirmableNotificationIntervalIsConfigurable() throws {
        var configuration = EndpointConfiguration()
        configuration.confirmableNotificationInterval = .seconds(60)
        let (d, id, _) = try Self.register(configuration: configuration, start: EP.at(0))
        d.advance(to: EP.at(59))
        d.notify(id, CoAPResponse(.content, payload: [1]))
        #expect(d.takeOne()?.type == .nonConfirmable)
        d.advance(to: EP.at(60))
        d.notify(id, CoAPResponse(.content, payload: [2]))
        #expect(d.takeOne()?.type == .confirmable)
    }

    @Test func resetToNonNotificationEndsTheObservation() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]))
        let notification = try #require(d.takeOne())
        d.receive(EP.empty(EP.RST, mid: notification.messageID))
        let ended = try #require(d.takeEvents().first?.asObservationEnded)
        #expect(ended.id == id)
        #expect(ended.reason == .reset)
        #expect(!d.notify(id, CoAPResponse(.content, payload: [2])))
        #expect(d.take().isEmpty)
        #expect(d.endpoint.observationInfo(id) == nil)
        #expect(d.endpoint.observationIDs.isEmpty)
    }

    @Test func resetToConfirmableNotificationEndsTheObservation() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]), confirmable: true)
        let notification = try #require(d.takeOne())
        d.receive(EP.empty(EP.RST, mid: notification.messageID))
        #expect(d.takeEvents().compactMap(\.asObservationEnded).map(\.reason) == [.reset])
        d.advance(by: .seconds(200))
        #expect(d.take().isEmpty, "no retransmission after the Reset")
        #expect(!d.notify(id, CoAPResponse(.content, payload: [2])))
    }

    @Test func resetWithUnrelatedMessageIDIsIgnored() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]))
        let notification = try #require(d.takeOne())
        d.receive(EP.empty(EP.RST, mid: notification.messageID &+ 100))
        d.receive(EP.empty(EP.RST, mid: notification.messageID), from: .a)
        #expect(d.takeEvents().isEmpty)
        #expect(d.notify(id, CoAPResponse(.content, payload: [2])))
    }

    @Test func deregistrationEndsTheObservation() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]))
        _ = d.take()
        d.receive(Self.get(mid: 0x3001, observe: 1))
        let events = d.takeEvents()
        let ended = try #require(events.compactMap(\.asObservationEnded).first)
        #expect(ended.id == id)
        #expect(ended.reason == .deregistered)
        // The deregistering GET is still a GET to answer.
        let request = try #require(events.compactMap(\.asRequest).first)
        #expect(request.observe == .deregister)
        #expect(d.respond(request.exchange, CoAPResponse(.content, payload: [9])) == nil)
        let reply = try #require(d.takeOne())
        #expect(reply.observe == nil)
        #expect(reply.messageID == 0x3001)
        #expect(!d.notify(id, CoAPResponse(.content, payload: [2])))
        #expect(d.take().isEmpty)
    }

    @Test func deregistrationWithAnotherTokenDoesNotEndIt() throws {
        let (d, id, _) = try Self.register()
        d.receive(Self.get(mid: 0x3002, observe: 1, token: [0x99]))
        #expect(d.takeEvents().compactMap(\.asObservationEnded).isEmpty)
        #expect(d.notify(id, CoAPResponse(.content, payload: [2])))
    }

    @Test func unacknowledgedConfirmableNotificationTimesOut() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]), confirmable: true)
        let first = try #require(d.takeBytes().first)
        d.advance(by: .seconds(200))
        let resent = d.takeTimed()
        #expect(resent.count == 4, "MAX_RETRANSMIT retransmissions")
        #expect(resent.allSatisfy { $0.datagram.bytes == first })
        let ended = try #require(d.takeEvents().compactMap(\.asObservationEnded).first)
        #expect(ended.id == id)
        #expect(ended.reason == .timeout)
        #expect(!d.notify(id, CoAPResponse(.content, payload: [2])))
    }

    @Test func newNotificationReplacesTheOneInFlight() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: Array("old".utf8)), confirmable: true)
        let old = try #require(d.takeOne())
        // Let the old one be retransmitted once.
        let firstDeadline = try #require(d.endpoint.nextDeadline)
        d.advance(to: firstDeadline)
        #expect(d.takeOne() == old)
        let secondDeadline = try #require(d.endpoint.nextDeadline)

        // A new value while the old is unacknowledged: it goes confirmable (even though NON was
        // asked), and takes over the retransmission state.
        d.advance(by: .milliseconds(100))
        #expect(d.notify(id, CoAPResponse(.content, payload: Array("new".utf8))))
        let newBytes = try #require(d.outbox.last?.datagram.bytes)
        let new = try #require(d.takeOne())
        #expect(new.type == .confirmable)
        #expect(new.payload == Array("new".utf8))
        #expect(new.observe == 2)
        #expect(new.messageID != old.messageID)

        d.advance(by: .seconds(300))
        let later = d.takeTimed()
        #expect(later.count == 3, "the remaining 3 retransmissions, of the new payload only")
        #expect(later.allSatisfy { $0.datagram.bytes == newBytes })
        #expect(later.first.map(\.at) == secondDeadline, "the back-off continues where the old one was")
        #expect(d.takeEvents().compactMap(\.asObservationEnded).map(\.reason) == [.timeout])
    }

    @Test func ackOfTheNewNotificationStopsRetransmission() throws {
        let (d, id, _) = try Self.register()
        d.notify(id, CoAPResponse(.content, payload: [1]), confirmable: true)
        let old = try #require(d.takeOne())
        d.notify(id, CoAPResponse(.content, payload: [2]))
        let new = try #require(d.takeOne())
        // A late ACK for the replaced one changes nothing …
        d.receive(EP.empty(EP.ACK, mid: old.messageID))
        d.advance(by: .seconds(4))
        #expect(d.take().compactMap { EP.decode($0.bytes)?.payload } == [[2]])
        // … the ACK for the new one stops it.
        d.receive(EP.empty(EP.ACK, mid: new.messageID))
        d.advance(by: .seconds(300))
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().isEmpty)
        d.notify(id, CoAPResponse(.content, payload: [3]))
        #expect(d.takeOne()?.type == .nonConfirmable)
    }

    @Test func largeNotificationIsSentAsFirstBlock() throws {
        let (d, id, _) = try Self.register()
        let body = EP.body(2500, salt: 8)
        d.notify(id, CoAPResponse(.content, payload: body))
        let notification = try #require(d.takeOne())
        #expect(notification.observe == 1)
        #expect(notification.block2 == BlockValue(number: 0, more: true, szx: 6))
        #expect(notification.size2 == 2500)
        #expect(notification.payload == Array(body[0..<1024]))
        let eTag = try #require(notification.eTag)

        // The observer fetches the rest with plain GETs (new tokens, no Observe).
        var rest: [UInt8] = []
        for (num, mid) in [(UInt32(1), UInt16(0x3101)), (2, 0x3102)] {
            d.receive(Self.get(mid: mid, observe: nil, token: [0xF0, UInt8(num)], block2: .block2(num, more: false, szx: 6)))
            #expect(d.takeEvents().isEmpty, "served from the cache")
            let block = try #require(d.takeOne())
            #expect(block.eTag == eTag)
            #expect(block.observe == nil)
            #expect(block.block2?.number == num)
            rest += block.payload
        }
        #expect(notification.payload + rest == body)
        // The observation is untouched.
        #expect(d.notify(id, CoAPResponse(.content, payload: [1])))
        #expect(d.takeOne()?.observe == 2)
    }

    @Test func largeRegistrationResponseIsBlockwiseWithObserve() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3200, observe: 0))
        let request = try #require(d.takeRequest())
        let body = EP.body(1500)
        let id = d.respond(request.exchange, CoAPResponse(.content, payload: body))
        #expect(id != nil)
        let first = try #require(d.takeOne())
        #expect(first.observe == 0)
        #expect(first.block2 == BlockValue(number: 0, more: true, szx: 6))
        d.receive(Self.get(mid: 0x3201, observe: nil, token: [0xF1], block2: .block2(1, more: false, szx: 6)))
        let block = try #require(d.takeOne())
        #expect(block.payload == Array(body[1024...]))
        #expect(block.observe == nil)
    }

    @Test func registrationCanBeDeclined() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3300, observe: 0))
        let request = try #require(d.takeRequest())
        #expect(d.respond(request.exchange, CoAPResponse(.content, payload: [1]), acceptObservation: false) == nil)
        #expect(d.takeOne()?.observe == nil)
        #expect(d.endpoint.observationIDs.isEmpty)
    }

    @Test func errorResponseDoesNotRegister() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3301, observe: 0))
        let request = try #require(d.takeRequest())
        #expect(d.respond(request.exchange, .error(.notFound, "no such resource")) == nil)
        let reply = try #require(d.takeOne())
        #expect(reply.code == .notFound)
        #expect(reply.observe == nil)
        #expect(d.endpoint.observationIDs.isEmpty)
    }

    @Test func getWithoutObserveDoesNotRegister() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3302, observe: nil))
        let request = try #require(d.takeRequest())
        #expect(request.observe == nil)
        #expect(d.respond(request.exchange, CoAPResponse(.content, payload: [1])) == nil)
        #expect(d.takeOne()?.observe == nil)
    }

    @Test func observeOnPutIsNotARegistration() throws {
        let d = EndpointDriver()
        d.receive(EP.datagram(EP.CON, EP.PUT, mid: 0x3303, token: [1], options: [.observe(0), .path("temp")], payload: [1]))
        let request = try #require(d.takeRequest())
        #expect(request.observe == nil)
        #expect(d.respond(request.exchange, CoAPResponse(.changed)) == nil)
    }

    @Test func registeringAgainOnTheSameTokenReplaces() throws {
        let (d, id, _) = try Self.register()
        d.receive(Self.get(mid: 0x3400, observe: 0))
        let request = try #require(d.takeRequest())
        let newID = try #require(d.respond(request.exchange, CoAPResponse(.content, payload: [1])))
        #expect(newID != id)
        let ended = d.takeEvents().compactMap(\.asObservationEnded)
        #expect(ended.map(\.id) == [id])
        #expect(ended.map(\.reason) == [.replaced])
        #expect(!d.notify(id, CoAPResponse(.content, payload: [2])))
        #expect(d.notify(newID, CoAPResponse(.content, payload: [2])))
        #expect(d.endpoint.observationIDs == [newID])
    }

    @Test func separateRegistrationResponse() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3500, observe: 0))
        let request = try #require(d.takeRequest())
        d.acknowledgeLater(request.exchange)
        #expect(d.takeBytes() == [EP.empty(EP.ACK, mid: 0x3500)])
        let id = try #require(d.respond(request.exchange, CoAPResponse(.content, payload: [1])))
        let separate = try #require(d.takeOne())
        #expect(separate.type == .confirmable)
        #expect(separate.observe == 0)
        #expect(separate.token.bytes == Self.token)
        #expect(d.notify(id, CoAPResponse(.content, payload: [2])))
    }

    @Test func nonRegistrationGetsNonResponse() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3700, observe: 0, type: EP.NON))
        let request = try #require(d.takeRequest())
        let id = try #require(d.respond(request.exchange, CoAPResponse(.content, payload: [1])))
        let first = try #require(d.takeOne())
        #expect(first.type == .nonConfirmable)
        #expect(first.observe == 0)
        #expect(first.messageID != 0x3700)
        #expect(d.notify(id, CoAPResponse(.content, payload: [2])))
        #expect(d.takeOne()?.observe == 1)
    }

    @Test func duplicateRegistrationDoesNotRegisterTwice() throws {
        let (d, id, _) = try Self.register()
        let replay = try #require(d.allSent.last?.datagram.bytes)
        d.receive(Self.get(mid: 0x3000, observe: 0))
        #expect(d.takeBytes() == [replay])
        #expect(d.takeEvents().isEmpty)
        #expect(d.endpoint.observationIDs == [id])
    }

    @Test func cancelObservationEndsItWithoutSending() throws {
        let (d, id, _) = try Self.register()
        d.endpoint.cancelObservation(id)
        d.collect()
        #expect(d.take().isEmpty)
        #expect(d.takeEvents().compactMap(\.asObservationEnded).map(\.reason) == [.cancelled])
        #expect(!d.notify(id, CoAPResponse(.content, payload: [1])))
    }

    @Test func errorNotificationEndsTheObservation() throws {
        let (d, id, _) = try Self.register()
        #expect(d.notify(id, .error(.notFound, "deleted")))
        let last = try #require(d.takeOne())
        #expect(last.code == .notFound)
        #expect(last.observe == nil)
        #expect(last.token.bytes == Self.token)
        #expect(d.takeEvents().compactMap(\.asObservationEnded).map(\.reason) == [.cancelled])
        #expect(!d.notify(id, CoAPResponse(.content, payload: [1])))
    }

    @Test func sequenceNumberWrapsAt24Bits() throws {
        let (d, id, _) = try Self.register()
        d.endpoint.observations[id]?.sequence = 0xFF_FFFE
        d.notify(id, CoAPResponse(.content, payload: [1]))
        d.notify(id, CoAPResponse(.content, payload: [2]))
        let values = d.take().compactMap { EP.decode($0.bytes)?.observe }
        #expect(values == [0xFF_FFFF, 0])
    }

    @Test func observationsOfTwoPeersAreIndependent() throws {
        let d = EndpointDriver()
        d.receive(Self.get(mid: 0x3600, observe: 0), from: .a)
        d.receive(Self.get(mid: 0x3600, observe: 0), from: .b)
        let requests = d.takeEvents().compactMap(\.asRequest)
        #expect(requests.count == 2)
        let ids = requests.compactMap { d.respond($0.exchange, CoAPResponse(.content, payload: [0])) }
        #expect(ids.count == 2)
        _ = d.take()
        for id in ids { d.notify(id, CoAPResponse(.content, payload: [1])) }
        let notifications = d.take()
        #expect(notifications.map(\.peer) == [.a, .b])
        // B deregisters; A's observation lives on.
        d.receive(Self.get(mid: 0x3601, observe: 1), from: .b)
        #expect(d.takeEvents().compactMap(\.asObservationEnded).map(\.id) == [ids[1]])
        #expect(d.notify(ids[0], CoAPResponse(.content, payload: [2])))
        #expect(!d.notify(ids[1], CoAPResponse(.content, payload: [2])))
    }
}
