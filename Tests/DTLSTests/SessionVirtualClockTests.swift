import CoAP
import Credentials
@testable import DTLS
import Testing
import TestSupport

/// The session without any network: a virtual clock and datagrams that go nowhere.
@Suite("DTLS session on a virtual clock")
struct SessionVirtualClockTests {
    static func pskConfiguration(min: Duration, max: Duration) -> DTLSConfiguration {
        var configuration = DTLSConfiguration(
            authentication: .psk(identity: Array("device".utf8), key: SecretBytes(Array("secretPSK".utf8))))
        configuration.handshakeTimeoutMin = min
        configuration.handshakeTimeoutMax = max
        return configuration
    }

    static func drain(_ session: DTLSClientSession) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        while let datagram = session.nextDatagram() { datagrams.append(datagram) }
        return datagrams
    }

    @Test("the ClientHello goes out at once and is retransmitted with doubling timeouts, min to max, then the handshake times out")
    func retransmissionDoubling() throws {
        let start = Instant(nanoseconds: 5_000_000_000)
        let session = try DTLSClientSession(
            configuration: Self.pskConfiguration(min: .milliseconds(100), max: .milliseconds(800)),
            random: testRandom, now: start)
        let first = Self.drain(session)
        #expect(first.count == 1)
        #expect(first.first?.first == 22, "a handshake record")  // content type handshake
        #expect(first.first.map { $0[1] == 0xFE && $0[2] == 0xFD } == true, "DTLS 1.2 record version")
        #expect(session.state == .handshaking)

        var expectedDeadline = start + .milliseconds(100)
        for interval in [200, 400, 800] {
            #expect(session.nextDeadline == expectedDeadline)
            session.advance(to: expectedDeadline + .milliseconds(-1))
            #expect(Self.drain(session).isEmpty, "nothing before the deadline")
            session.advance(to: expectedDeadline)
            let retransmitted = Self.drain(session)
            #expect(retransmitted.count == 1, "one retransmitted ClientHello at \(expectedDeadline)")
            #expect(retransmitted.first?.count == first.first?.count)
            expectedDeadline = expectedDeadline + .milliseconds(interval)
        }
        #expect(session.nextDeadline == start + .milliseconds(1500))
        session.advance(to: start + .milliseconds(1500))
        #expect(Self.drain(session).isEmpty)
        #expect(session.state == .failed)
        #expect(session.nextEvent() == .failed(.handshakeTimeout))
        #expect(session.nextDeadline == nil)
        #expect(throws: DTLSError.notConnected) { try session.send([1, 2, 3]) }
    }

    @Test("default timers suit cellular links: 2 s first retransmission, 60 s maximum")
    func defaultTimers() throws {
        let configuration = DTLSConfiguration(authentication: .psk(identity: [1], key: SecretBytes([2])))
        #expect(configuration.handshakeTimeoutMin == .seconds(2))
        #expect(configuration.handshakeTimeoutMax == .seconds(60))
        let session = try DTLSClientSession(configuration: configuration, random: testRandom, now: .zero)
        #expect(session.nextDeadline == .zero + .seconds(2))
    }

    @Test("garbage datagrams are dropped without failing the handshake or moving its timer")
    func garbageIgnored() throws {
        let session = try DTLSClientSession(
            configuration: Self.pskConfiguration(min: .milliseconds(100), max: .milliseconds(800)),
            random: testRandom, now: .zero)
        _ = Self.drain(session)
        var generator = SplitMix64(seed: 7)
        var samples: [[UInt8]] = [[], [0], [22], [22, 0xFE, 0xFD], [21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 2, 40]]
        for length in [1, 13, 14, 60, 300, 1500] {
            samples.append((0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            var record = samples.last!
            if record.count >= 13 { record[0] = 22; record[1] = 0xFE; record[2] = 0xFD }
            samples.append(record)
        }
        for (index, sample) in samples.enumerated() {
            session.receive(datagram: sample, now: .zero + .milliseconds(index))
        }
        #expect(session.state == .handshaking)
        #expect(session.nextEvent() == nil)
        #expect(session.nextDeadline == .zero + .milliseconds(100))
    }

    @Test("a fatal alert from the server fails the handshake at once, named")
    func fatalAlert() throws {
        let session = try DTLSClientSession(
            configuration: Self.pskConfiguration(min: .seconds(1), max: .seconds(4)), random: testRandom, now: .zero)
        _ = Self.drain(session)
        // An epoch-0 alert record: fatal (2), unknown_psk_identity (115).
        session.receive(datagram: [21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 115], now: .zero + .milliseconds(5))
        #expect(session.state == .failed)
        let event = try #require(session.nextEvent())
        #expect(event == .failed(.pskRejected(reason: "server sent unknown_psk_identity")))
        #expect("\(event.failure!)".contains("wrong PSK"))
    }

    @Test("data sent during the handshake is queued, within a bound")
    func queueDuringHandshake() throws {
        var configuration = Self.pskConfiguration(min: .seconds(1), max: .seconds(4))
        configuration.maxQueuedDatagrams = 2
        let session = try DTLSClientSession(configuration: configuration, random: testRandom, now: .zero)
        try session.send([1])
        try session.send([2])
        #expect(throws: DTLSError.notConnected) { try session.send([3]) }
        session.close()
        #expect(session.state == .closed)
        #expect(session.nextEvent() == .closed)
    }

    @Test("configuration errors are reported before any datagram is made")
    func configurationErrors() throws {
        var configuration = Self.pskConfiguration(min: .seconds(1), max: .seconds(4))
        configuration.cipherSuites = [DTLSCipherSuite.ecdheECDSAAES128CCM8, 0x1234]
        #expect(throws: DTLSError.self) { try DTLSClientSession(configuration: configuration, random: testRandom, now: .zero) }
        let signer = try SoftwareSigner(generatingWith: testRandom)
        let certificateMode = DTLSConfiguration(authentication: .certificate(chain: [[0x30, 0x03, 0x02, 0x01, 0x01]], key: signer))
        #expect {
            try DTLSClientSession(configuration: certificateMode, random: testRandom, now: .zero)
        } throws: { error in
            guard case .invalidConfiguration(let reason) = error as? DTLSError else { return false }
            return reason.contains("client certificate")
        }
    }
}

@Suite("DTLS configuration rules")
struct ConfigurationRuleTests {
    @Test("IP literals are recognised and never sent in SNI")
    func ipLiterals() {
        for host in ["127.0.0.1", "10.0.0.255", "::1", "[2001:db8::1]", "fe80::1%eth0"] {
            #expect(HostName.isIPLiteral(host), "\(host)")
        }
        for host in ["localhost", "lwm2m.example.com", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.1.1.1"] {
            #expect(!HostName.isIPLiteral(host), "\(host)")
        }
        var configuration = DTLSConfiguration(authentication: .psk(identity: [1], key: SecretBytes([2])), serverName: "192.0.2.1")
        #expect(configuration.sniHostName == nil)
        configuration.serverNameIndication = "bootstrap.example"
        #expect(configuration.sniHostName == "bootstrap.example")
        #expect(configuration.expectedServerName == "bootstrap.example")
        configuration.serverNameIndication = nil
        configuration.serverName = "server.example"
        #expect(configuration.sniHostName == "server.example")
    }

    @Test("cipher suites map from IANA numbers to mbedTLS names")
    func cipherSuites() {
        #expect(DTLSCipherSuite.name(of: DTLSCipherSuite.pskAES128CCM8) == "TLS-PSK-WITH-AES-128-CCM-8")
        #expect(DTLSCipherSuite.name(of: DTLSCipherSuite.ecdheECDSAAES128CCM8) == "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8")
        #expect(DTLSCipherSuite.name(of: DTLSCipherSuite.ecdheECDSAAES128GCMSHA256) == "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256")
        #expect(DTLSCipherSuite.name(of: 0x1234) == nil)
        #expect(DTLSCipherSuite.defaultPSK.first == 0xC0A8)
        #expect(DTLSCipherSuite.defaultPSK.allSatisfy { DTLSCipherSuite.name(of: $0) != nil })
    }

    @Test("errors name the cause and never carry key bytes")
    func errorMessages() {
        #expect("\(DTLSError.pskRejected(reason: "server sent decrypt_error"))".contains("wrong PSK"))
        #expect("\(DTLSError.unknownCA)".contains("unknown CA"))
        #expect("\(DTLSError.certificateExpired)".contains("expired"))
        #expect("\(DTLSError.hostMismatch(expected: "a.example"))".contains("\"a.example\""))
        #expect("\(DTLSError.unsupportedLibrary("built without MBEDTLS_CCM_C"))".contains("MBEDTLS_CCM_C"))
        #expect("\(SecretBytes([1, 2, 3]))" == "<secret: 3 bytes>")
    }
}
