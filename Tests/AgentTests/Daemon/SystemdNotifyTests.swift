// Issue 15: systemd notifications without libsystemd (message text, socket addressing, the
// watchdog setting, the STATUS line kept from the client's events).
import AgentDaemon
import Glibc
import LwM2M
import Testing

@Suite struct SystemdNotifyTests {
    // MARK: - Messages

    @Test func messageTexts() {
        #expect(NotifyMessage.ready.text == "READY=1")
        #expect(NotifyMessage.stopping.text == "STOPPING=1")
        #expect(NotifyMessage.watchdog.text == "WATCHDOG=1")
        #expect(NotifyMessage.reloading(monotonicMicroseconds: 1_234_567_890_123).text
                == "RELOADING=1\nMONOTONIC_USEC=1234567890123")
        #expect(NotifyMessage.status("registered at coap://10.0.0.1:5683 as gw-42").text
                == "STATUS=registered at coap://10.0.0.1:5683 as gw-42")
    }

    @Test func statusIsOneLineWhateverTheReasonHolds() {
        // A server's reason with a newline must not become a second assignment (READY=1 …).
        let text = NotifyMessage.status("registration failing: 4.00\nREADY=1\r\tx\u{7f}").text  // \r\t: two characters
        #expect(text == "STATUS=registration failing: 4.00 READY=1  x ")
        #expect(!text.contains("\n"))
        let long = NotifyMessage.status(String(repeating: "é", count: 5000)).text
        #expect(long.count == "STATUS=".count + NotifyMessage.maximumStatusLength)
        #expect(long.hasSuffix("…"))
    }

    // MARK: - Addresses

    @Test func pathAndAbstractAddresses() throws {
        let path = try #require(NotifySocketAddress("/run/systemd/notify"))
        #expect(!path.isAbstract && path.pathBytes == Array("/run/systemd/notify".utf8))
        #expect(Int(path.length) == 2 + 19 + 1)  // family, path, NUL
        #expect(path.description == "/run/systemd/notify")
        let abstract = try #require(NotifySocketAddress("@sd-notify/42"))
        #expect(abstract.isAbstract && abstract.pathBytes == [0] + Array("sd-notify/42".utf8))
        #expect(Int(abstract.length) == 2 + 1 + 12)  // family, NUL, name: no trailing NUL
        #expect(abstract.description == "@sd-notify/42")
    }

    @Test func unusableAddressesAreRefused() {
        for value in ["", "@", "relative/notify", "vsock:2:1234", "/run/\u{0}x", String(repeating: "a", count: 200)] {
            #expect(NotifySocketAddress(value) == nil, "\(value.prefix(20))")
        }
        // sun_path is 108 bytes: a path needs its NUL inside, an abstract name does not.
        #expect(NotifySocketAddress("/" + String(repeating: "p", count: 106)) != nil)
        #expect(NotifySocketAddress("/" + String(repeating: "p", count: 107)) == nil)
        #expect(NotifySocketAddress("@" + String(repeating: "p", count: 107)) != nil)
        #expect(NotifySocketAddress("@" + String(repeating: "p", count: 108)) == nil)
    }

    // MARK: - Watchdog setting

    @Test func watchdogIntervalIsHalfTheTimeoutForUsOnly() {
        #expect(SystemdNotifier.watchdogInterval(usec: "200000", pid: nil, ourPID: 7) == .milliseconds(100))
        #expect(SystemdNotifier.watchdogInterval(usec: "30000000", pid: "7", ourPID: 7) == .seconds(15))
        #expect(SystemdNotifier.watchdogInterval(usec: "30000000", pid: "", ourPID: 7) == .seconds(15))
        #expect(SystemdNotifier.watchdogInterval(usec: "30000000", pid: "8", ourPID: 7) == nil)
        #expect(SystemdNotifier.watchdogInterval(usec: "30000000", pid: "x", ourPID: 7) == nil)
        // More than 2^32 µs (71 min): no 32-bit overflow on armv7.
        #expect(SystemdNotifier.watchdogInterval(usec: "7200000000", pid: nil, ourPID: 7) == .seconds(3600))
        for bad in [nil, "", "0", "-5", "12s", "99999999999999999999999"] as [String?] {
            #expect(SystemdNotifier.watchdogInterval(usec: bad, pid: nil, ourPID: 7) == nil, "\(bad ?? "nil")")
        }
    }

    // MARK: - Sending, over real sockets

    @Test(arguments: [false, true]) func sendsOneDatagramPerMessage(abstract: Bool) throws {
        let name = abstract ? "@lwm2m-notify-test-\(getpid())" : "/tmp/lwm2m-notify-test-\(getpid())"
        let address = try #require(NotifySocketAddress(name))
        let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        #expect(receiver >= 0)
        defer { close(receiver); if !abstract { unlink(name) } }
        if !abstract { unlink(name) }
        var bound: Int32 = -1
        address.withSockaddr { bound = bind(receiver, $0, $1) }
        #expect(bound == 0, "bind: \(errno)")

        let notifier = try SystemdNotifier(address: address)
        #expect(notifier.send(.ready) == nil)
        #expect(notifier.send(.reloading(monotonicMicroseconds: 5)) == nil)
        #expect(receive(receiver) == "READY=1")
        #expect(receive(receiver) == "RELOADING=1\nMONOTONIC_USEC=5")
    }

    @Test func aMissingReceiverIsAnErrorNotACrashOrAStall() throws {
        let notifier = try SystemdNotifier(address: try #require(NotifySocketAddress("/tmp/lwm2m-notify-nobody-\(getpid())")))
        #expect(notifier.send(.watchdog) == ENOENT)
        let abstract = try SystemdNotifier(address: try #require(NotifySocketAddress("@lwm2m-notify-nobody-\(getpid())")))
        #expect(abstract.send(.watchdog) == ECONNREFUSED)
    }

    private func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count < 0 ? "<errno \(errno)>" : String(decoding: buffer[..<count], as: UTF8.self)
    }

    // MARK: - The STATUS line

    @Test func statusFollowsBootstrapAndRegistration() {
        var status = ServiceStatus(endpoint: "gw-42")
        #expect(status.line == "starting")
        #expect(status.apply(.bootstrapPending(uri: "coaps://bs.example:5684")) == "bootstrapping at coaps://bs.example:5684")
        #expect(status.apply(.bootstrapFailed(reason: "DTLS: wrong PSK", retryIn: .milliseconds(4200)))
                == "bootstrap failed: DTLS: wrong PSK, next attempt in 5 s")
        #expect(status.apply(.bootstrapPending(uri: "coaps://bs.example:5684")) == "bootstrapping at coaps://bs.example:5684")
        #expect(status.apply(.bootstrapFinished) == "starting")
        #expect(status.apply(.registering(ssid: 101, uri: "coap://10.0.0.1:5683")) == "registering at coap://10.0.0.1:5683")
        #expect(status.apply(.registered(ssid: 101, location: "rd/5", lifetime: 60)) == "registered at coap://10.0.0.1:5683 as gw-42")
        // An Update changes nothing worth a datagram.
        #expect(status.apply(.updating(ssid: 101)) == nil)
        #expect(status.apply(.updated(ssid: 101)) == nil)
        #expect(status.apply(.registrationFailed(ssid: 101, reason: "timeout", retryIn: .seconds(30)))
                == "registration failing: timeout, next attempt in 30 s")
        #expect(status.apply(.registrationFailed(ssid: 101, reason: "timeout", retryIn: .seconds(30))) == nil)
        #expect(status.apply(.registrationFailed(ssid: 101, reason: "4.03", retryIn: nil)) == "registration failing: 4.03")
    }

    @Test func statusNamesTheFallbackAndEachServerWhenThereAreSeveral() {
        var status = ServiceStatus(endpoint: "gw-42")
        _ = status.apply(.bootstrapPending(uri: "coaps://bs:5684"))
        _ = status.apply(.bootstrapFailed(reason: "refused", retryIn: .seconds(20)))
        #expect(status.apply(.fallbackEngaged(servers: [1])) == "bootstrap failed: refused, next attempt in 20 s; factory fallback (server 1)")
        _ = status.apply(.registering(ssid: 1, uri: "coap://a:5683"))
        #expect(status.apply(.registered(ssid: 1, location: "rd/1", lifetime: 60))
                == "bootstrap failed: refused, next attempt in 20 s; factory fallback (server 1); registered at coap://a:5683 as gw-42")
        // Bootstrap is retried while the fallback server stays registered.
        #expect(status.apply(.bootstrapPending(uri: "coaps://bs:5684"))
                == "bootstrapping at coaps://bs:5684; factory fallback (server 1); registered at coap://a:5683 as gw-42")
        _ = status.apply(.registering(ssid: 2, uri: "coap://b:5683"))
        #expect(status.line == "bootstrapping at coaps://bs:5684; factory fallback (server 1); "
                + "server 1: registered at coap://a:5683 as gw-42; server 2: registering at coap://b:5683")
        // Bootstrap done: the new configuration's servers start afresh.
        #expect(status.apply(.bootstrapFinished) == "starting")
        _ = status.apply(.registering(ssid: 2, uri: "coap://b:5683"))
        _ = status.apply(.accountDeleted(ssid: 2))
        #expect(status.line == "starting")
        _ = status.apply(.registering(ssid: 3, uri: "coap://c:5683"))
        #expect(status.apply(.factoryReset) == "factory reset")
        #expect(status.apply(.disabled(ssid: 3, for: .seconds(86400))) == "disabled for 86400 s")
        // A "never" retry a server wrote saturates instead of overflowing.
        #expect(status.apply(.registrationFailed(ssid: 3, reason: "x", retryIn: .seconds(Int64.max)))
                == "registration failing: x, next attempt in \(Int64.max) s")
        #expect(status.apply(.noAccounts) == "no bootstrap or server account configured: nothing to do; registration failing: x, next attempt in \(Int64.max) s")
    }
}
