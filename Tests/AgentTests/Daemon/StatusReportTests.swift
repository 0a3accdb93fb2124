// Issue 15 / issue 14: what `lwm2m-agent status` prints, from an AgentStatus.
@testable import AgentDaemon
import CoAP
import LwM2M
import Testing

@Suite struct StatusReportTests {
    /// 1 000 000 000 s after the epoch is 01:46:40 UTC.
    private func status(servers: [AgentStatus.Server], bootstrap: AgentStatus.Bootstrap? = nil, fallback: Bool = false,
                        firmware: AgentStatus.Firmware? = nil) -> AgentStatus {
        AgentStatus(
            daemon: .init(version: "1.0", pid: 42, endpoint: "gw-1", uptimeSeconds: 3725, stateDirectory: "/var/lib/lwm2m-agent",
                          now: 1_000_000_000),
            board: .init(name: "generic-linux", file: nil, reason: "no device tree, no DMI match"),
            credentials: .init(store: "tpm", tcti: "device:/dev/tpmrm0",
                               lastOperation: .init(name: "list", error: nil, secondsAgo: 5), succeeded: 4, failed: 0,
                               lastKeyOperation: .init(name: "load", error: nil, secondsAgo: 12), keyOperationsSucceeded: 3),
            bootstrap: bootstrap, fallbackEngaged: fallback, stopping: false, servers: servers, firmware: firmware)
    }

    private let registered = AgentStatus.Server(
        shortServerID: 101, uri: "coap://127.0.0.1:5683", state: "registered", location: "/rd/5a3f", lifetime: 300,
        binding: "U", nextUpdateInSeconds: 45, registeredSecondsAgo: 75, observations: ["/3/0/13", "/5/0/3,/5/0/5"])

    @Test func aRegisteredServerShowsLocationLifetimeNextUpdateAndObservations() throws {
        let report = status(servers: [registered])
        let text = StatusReport.text(report)
        #expect(text.hasPrefix("lwm2m-agentd 1.0 (pid 42), up 1 h 02 min: registered\n"))
        #expect(text.contains("server 101:   coap://127.0.0.1:5683: registered at /rd/5a3f for 1 min 15 s, lifetime 300 s, next Update in 45 s (at 01:47:25 UTC)\n"))
        #expect(text.contains("observing /3/0/13, /5/0/3,/5/0/5\n"))
        #expect(text.contains("credentials:  TPM (device:/dev/tpmrm0): reachable, SRK present (last unseal 12 s ago)\n"))
        #expect(text.contains("board:        generic-linux (compiled in): no device tree, no DMI match\n"))
        #expect(text.contains("bootstrap:    none\n"))

        let json = try JSONParser.parse(StatusReport.json(report))
        #expect(json["status_version"]?.numberValue?.int64Value == 1)
        #expect(json["summary"]?.stringValue == "registered")
        let server = try #require(json["servers"]?.arrayValue?.first)
        #expect(server["state"]?.stringValue == "registered")
        #expect(server["location"]?.stringValue == "/rd/5a3f")
        #expect(server["next_update_in_s"]?.numberValue?.int64Value == 45)
        #expect(server["next_update_at"]?.numberValue?.int64Value == 1_000_000_045)
        #expect(server["failing"]?.boolValue == false)
        #expect(server["observations"]?.arrayValue?.compactMap(\.stringValue) == ["/3/0/13", "/5/0/3,/5/0/5"])
        #expect(json["credentials"]?["tpm_reachable"]?.boolValue == true)
        #expect(json["credentials"]?["srk_present"]?.boolValue == true)
        #expect(json["firmware"] == .null)
    }

    @Test func aFailingServerShowsTheLastErrorEscapedAndTheNextAttempt() throws {
        let failing = AgentStatus.Server(
            shortServerID: 102, uri: "coap://192.0.2.1:5683", state: "waiting", lifetime: 60, binding: "U",
            nextAttemptInSeconds: 7, attempt: 1, lastError: "Register answered 4.03: \u{1B}[31mgo away", lastErrorSecondsAgo: 3)
        let report = status(servers: [failing])
        #expect(report.summary == "failing")
        let text = StatusReport.text(report)
        #expect(text.contains("server 102:   coap://192.0.2.1:5683: failing (waiting); next attempt in 7 s (at 01:46:47 UTC), attempt 2\n"))
        // A server's text never reaches the terminal raw.
        #expect(text.contains("last error (3 s ago): Register answered 4.03: \\x1b[31mgo away\n"))
        #expect(!text.utf8.contains(0x1B))
        let server = try #require(try JSONParser.parse(StatusReport.json(report))["servers"]?.arrayValue?.first)
        #expect(server["failing"]?.boolValue == true)
        #expect(server["last_error"]?.stringValue == "Register answered 4.03: \u{1B}[31mgo away")
        #expect(server["next_attempt_at"]?.numberValue?.int64Value == 1_000_000_007)
    }

    @Test func bootstrapInSessionAndTheFactoryFallback() throws {
        let session = AgentStatus.Bootstrap(uri: "coap://bs:5683", state: "in-session", nextAttemptInSeconds: nil,
                                            failures: 0, lastError: nil, lastErrorSecondsAgo: nil)
        #expect(status(servers: [], bootstrap: session).summary == "bootstrapping")
        #expect(StatusReport.text(status(servers: [], bootstrap: session))
            .contains("bootstrap:    coap://bs:5683: in progress: the bootstrap server is configuring the agent\n"))

        let backingOff = AgentStatus.Bootstrap(uri: "coap://bs:5683", state: "backing-off", nextAttemptInSeconds: 20,
                                               failures: 2, lastError: "cannot connect: refused", lastErrorSecondsAgo: 1)
        let report = status(servers: [registered], bootstrap: backingOff, fallback: true)
        #expect(report.summary == "fallback")
        let text = StatusReport.text(report)
        #expect(text.contains("bootstrap:    coap://bs:5683: failing: 2 failures; next attempt in 20 s (at 01:47:00 UTC)\n"))
        #expect(text.contains("fallback:     engaged: registered with the factory servers while bootstrap retries\n"))
        let json = try JSONParser.parse(StatusReport.json(report))
        #expect(json["fallback"]?.boolValue == true)
        #expect(json["bootstrap"]?["in_progress"]?.boolValue == false)
        #expect(json["bootstrap"]?["last_error"]?.stringValue == "cannot connect: refused")
    }

    @Test func firmwareDownloadProgressWithAndWithoutATotal() throws {
        let pulling = AgentStatus.Firmware(
            state: 1, stateName: "Downloading", result: 0, resultText: "initial", packageName: nil, packageVersion: nil,
            download: .init(delivery: "pull", uri: "coap://127.0.0.1:5700/fw", bytes: 262_144, total: 1_048_576))
        let text = StatusReport.text(status(servers: [registered], firmware: pulling))
        #expect(text.contains("firmware:     Downloading (pull coap://127.0.0.1:5700/fw): 262144 of 1048576 bytes (25 %); Update Result 0 (initial)\n"))
        let download = try JSONParser.parse(StatusReport.json(status(servers: [registered], firmware: pulling)))["firmware"]?["download"]
        #expect(download?["percent"]?.numberValue?.int64Value == 25)
        #expect(download?["total"]?.numberValue?.int64Value == 1_048_576)

        let pushing = AgentStatus.Firmware(
            state: 1, stateName: "Downloading", result: 0, resultText: "initial", packageName: nil, packageVersion: nil,
            download: .init(delivery: "push", uri: nil, bytes: 5120, total: nil))
        #expect(StatusReport.text(status(servers: [registered], firmware: pushing))
            .contains("firmware:     Downloading (push): 5120 bytes; Update Result 0 (initial)\n"))
        let pushed = try JSONParser.parse(StatusReport.json(status(servers: [registered], firmware: pushing)))["firmware"]?["download"]
        #expect(pushed?["percent"] == .null && pushed?["total"] == .null)
    }

    @Test func developmentStoreAndAStoreFailure() {
        var report = status(servers: [registered])
        let failure = AgentStatus.Credentials.Operation(name: "store", error: "credential store unavailable: no TPM", secondsAgo: 2)
        report.credentials = .init(store: "tpm", tcti: "swtpm:port=2321", lastOperation: failure, succeeded: 0, failed: 1,
                                   lastKeyOperation: failure, keyOperationsSucceeded: 0)
        #expect(report.credentials.tpmReachable == false && report.credentials.storageKeyPresent == nil)
        let text = StatusReport.text(report)
        #expect(text.contains("credentials:  TPM (swtpm:port=2321): last seal failed 2 s ago: credential store unavailable: no TPM\n"))
        #expect(text.contains("last operation: store 2 s ago: failed: credential store unavailable: no TPM (0 ok, 1 failed since the start)\n"))
        // Listing blob files or removing one does not reach the TPM: nothing is known of the SRK.
        report.credentials = .init(store: "tpm", tcti: "swtpm:port=2321", lastOperation: .init(name: "list", error: nil, secondsAgo: 1),
                                   succeeded: 1, failed: 0)
        #expect(report.credentials.tpmReachable == true && report.credentials.storageKeyPresent == nil)
        #expect(StatusReport.text(report).contains("credentials:  TPM (swtpm:port=2321): transport checked at start; no seal or unseal since (SRK not checked)\n"))
        report.credentials = .init(store: "development", tcti: nil, lastOperation: nil, succeeded: 0, failed: 0)
        #expect(report.credentials.tpmReachable == nil)
        #expect(StatusReport.text(report).contains("credentials:  development store (secrets in memory only)\n"))
    }

    @Test func durationsAndClockTimes() {
        #expect(StatusReport.duration(0) == "0 s")
        #expect(StatusReport.duration(59) == "59 s")
        #expect(StatusReport.duration(61) == "1 min 01 s")
        #expect(StatusReport.duration(3725) == "1 h 02 min")
        #expect(StatusReport.duration(90_000) == "1 d 01 h")
        #expect(StatusReport.clock(0) == "00:00:00")
        #expect(StatusReport.clock(86_399) == "23:59:59")
        #expect(StatusReport.clock(1_000_000_000) == "01:46:40")
    }

    @Test func packageURIsLoseUserInformationAndQuery() {
        #expect(FirmwareRunner.withoutCredentials("https://user:secret@updates.example.com/gw.raucb?token=abc#x")
                == "https://updates.example.com/gw.raucb")
        #expect(FirmwareRunner.withoutCredentials("coap://127.0.0.1:5683/fw") == "coap://127.0.0.1:5683/fw")
        #expect(FirmwareRunner.withoutCredentials("http://a@b@host/p@q") == "http://host/p@q")
        #expect(FirmwareRunner.withoutCredentials("http://[::1]:80/fw?sig=1") == "http://[::1]:80/fw")
    }

    @Test func accountHistoryKeepsTheLastErrorUntilSuccess() {
        var history = AccountHistory()
        let t0 = Instant(nanoseconds: 1_000_000_000)
        history.record(.registrationFailed(ssid: 101, reason: "refused", retryIn: .seconds(30)), at: t0)
        history.record(.bootstrapFailed(reason: "timeout", retryIn: .seconds(10)), at: t0)
        #expect(history.serverErrors[101]?.reason == "refused")
        #expect(history.bootstrapError?.reason == "timeout")
        history.record(.registered(ssid: 101, location: "rd/1", lifetime: 60), at: t0)
        #expect(history.serverErrors[101] == nil && history.registeredAt[101] == t0)
        history.record(.bootstrapFinished, at: t0)
        #expect(history.bootstrapError == nil)
        history.record(.deregistered(ssid: 101), at: t0)
        #expect(history.registeredAt[101] == nil)
    }
}
