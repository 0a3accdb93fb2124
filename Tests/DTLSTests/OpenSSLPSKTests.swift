import CoAP
import DTLS
import Testing
import Transport
import TestSupport

@Suite("DTLS PSK against openssl s_server", .serialized)
struct OpenSSLPSKTests {
    @Test("PSK handshake with AES-128-CCM_8, data both ways, close_notify, then resumption")
    func handshakeExchangeResume() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.psk(identity: TestPSK.identity, keyHex: TestPSK.keyHex, directory: pki.directory)
        let driver = try SocketDriver(serverPort: server.port)
        let session = try DTLSClientSession(configuration: TestPSK.configuration(), random: testRandom, now: MonotonicClock.now())
        let event = try driver.handshake(session)
        #expect(event == .connected(resumed: false, cipherSuite: "TLS-PSK-WITH-AES-128-CCM-8"))
        #expect(session.state == .connected)
        #expect(driver.clientHelloCount == 2, "ClientHello, HelloVerifyRequest with a cookie, ClientHello with the cookie")
        #expect(session.nextDeadline == nil, "no timer runs on an established session")

        // Forged or corrupted records on an established session are dropped, not fatal.
        for garbage: [UInt8] in [[23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 20] + Array(repeating: 0xAA, count: 20), [1, 2, 3], [21]] {
            session.receive(datagram: garbage, now: MonotonicClock.now())
        }
        #expect(session.state == .connected)
        #expect(session.nextApplicationData() == nil)

        try session.send(Array("hello from the agent\n".utf8))
        try driver.flush(session)
        #expect(server.process.waitForOutput("hello from the agent"), "s_server printed our data")
        server.process.writeInput("hello from openssl\n")
        var reply: [UInt8]?
        try driver.run(session, timeout: .seconds(5)) {
            if reply == nil { reply = session.nextApplicationData() }
            return reply != nil
        }
        #expect(reply.map { String(decoding: $0, as: UTF8.self) } == "hello from openssl\n")

        let saved = try #require(session.savedSession)
        session.close()
        try driver.flush(session)
        #expect(driver.events.last == .closed)
        #expect(session.state == .closed)
        #expect(server.process.waitForOutput("DONE", timeout: .seconds(2)), "s_server saw our close_notify")

        // A fresh session object resumes the saved session: abbreviated handshake.
        let resumedDriver = try SocketDriver(serverPort: server.port)
        let start = MonotonicClock.now()
        let resumedSession = try DTLSClientSession(
            configuration: TestPSK.configuration(), resuming: saved, random: testRandom, now: start)
        let resumedEvent = try resumedDriver.handshake(resumedSession)
        #expect(resumedEvent == .connected(resumed: true, cipherSuite: "TLS-PSK-WITH-AES-128-CCM-8"))
        #expect(resumedSession.state == .connected)
        let serialized = try saved.serialized()
        #expect(serialized.count > 48)
        #expect(try DTLSSavedSession(serialized: serialized).hasTicket == saved.hasTicket)
        resumedSession.close()
        try resumedDriver.flush(resumedSession)
    }

    @Test("a server that lost the session answers with a full handshake, which succeeds")
    func serverLostSession() throws {
        let pki = try TestPKI()
        var server = try OpenSSLServer.psk(identity: TestPSK.identity, keyHex: TestPSK.keyHex, directory: pki.directory)
        let driver = try SocketDriver(serverPort: server.port)
        let first = try DTLSClientSession(configuration: TestPSK.configuration(), random: testRandom, now: MonotonicClock.now())
        #expect(try driver.handshake(first)?.isConnected == true)
        let saved = try #require(first.savedSession)
        first.close()
        try driver.flush(first)
        server.process.stop()

        server = try OpenSSLServer.psk(identity: TestPSK.identity, keyHex: TestPSK.keyHex, directory: pki.directory)
        let secondDriver = try SocketDriver(serverPort: server.port)
        let second = try DTLSClientSession(
            configuration: TestPSK.configuration(), resuming: saved, random: testRandom, now: MonotonicClock.now())
        #expect(try secondDriver.handshake(second) == .connected(resumed: false, cipherSuite: "TLS-PSK-WITH-AES-128-CCM-8"))
        #expect(second.resumed == false)
        let fresh = try #require(second.savedSession)
        #expect(try fresh.serialized() != (try saved.serialized()), "a new session replaced the lost one")
        second.close()
        try secondDriver.flush(second)
    }

    @Test("cipher suites from /0/x/16 are offered as given", arguments: [
        (DTLSCipherSuite.pskAES128CCM, "PSK-AES128-CCM", "TLS-PSK-WITH-AES-128-CCM"),
        (DTLSCipherSuite.pskAES128GCMSHA256, "PSK-AES128-GCM-SHA256", "TLS-PSK-WITH-AES-128-GCM-SHA256"),
    ])
    func configuredSuites(suite: UInt16, opensslName: String, mbedtlsName: String) throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.psk(identity: TestPSK.identity, keyHex: TestPSK.keyHex, cipher: opensslName, directory: pki.directory)
        let driver = try SocketDriver(serverPort: server.port)
        var configuration = TestPSK.configuration()
        configuration.cipherSuites = [0xFFFF, suite]  // unknown numbers are dropped
        let session = try DTLSClientSession(configuration: configuration, random: testRandom, now: MonotonicClock.now())
        #expect(try driver.handshake(session) == .connected(resumed: false, cipherSuite: mbedtlsName))
        session.close()
        try driver.flush(session)
    }

    @Test("a wrong PSK fails fast with a wrong-PSK error")
    func wrongPSK() throws {
        let pki = try TestPKI()
        let server = try OpenSSLServer.psk(identity: TestPSK.identity, keyHex: TestPSK.keyHex, directory: pki.directory)
        let driver = try SocketDriver(serverPort: server.port)
        let clock = ContinuousClock()
        let started = clock.now
        let session = try DTLSClientSession(
            configuration: TestPSK.configuration(key: Array(repeating: 0x55, count: 16), min: .milliseconds(100), max: .milliseconds(400)),
            random: testRandom, now: MonotonicClock.now())
        let event = try driver.handshake(session, timeout: .seconds(5))
        let elapsed = clock.now - started
        guard case .failed(.pskRejected) = event else {
            Issue.record("expected a wrong-PSK failure, got \(String(describing: event))")
            return
        }
        #expect("\(event!.failure!)".contains("wrong PSK"))
        #expect(elapsed < .seconds(2), "failed in \(elapsed)")
        #expect(session.nextDeadline == nil)
    }

    @Test("no server at all: handshake timeout after min+2min+4min+max")
    func noServer() throws {
        let port = try freeUDPPort()
        let driver = try SocketDriver(serverPort: port)
        let clock = ContinuousClock()
        let started = clock.now
        let session = try DTLSClientSession(
            configuration: TestPSK.configuration(min: .milliseconds(50), max: .milliseconds(200)), random: testRandom, now: MonotonicClock.now())
        let event = try driver.handshake(session, timeout: .seconds(5))
        let elapsed = clock.now - started
        #expect(event == .failed(.handshakeTimeout))
        #expect(elapsed >= .milliseconds(340) && elapsed < .seconds(2), "50+100+200 ms of retransmissions, took \(elapsed)")
    }
}
