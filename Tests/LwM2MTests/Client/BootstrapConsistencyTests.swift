import CoAP
@testable import LwM2M
import Testing

@Suite struct BootstrapConsistencyTests {
    private let check = BootstrapConsistencyCheck(supportedModes: [.noSecurity, .preSharedKey, .certificate])
    private let bootstrapAccount = Accounts.securityRecords(instance: 0, uri: "coap://bs:5683", bootstrap: true)

    private func verdict(security: [LwM2MRecord], servers: [LwM2MRecord], secrets: [UInt16: String] = [:])
        -> String?
    {
        consistencyVerdict(check, security: security, servers: servers, secrets: secrets)
    }

    @Test func aPlainServerAccountPasses() {
        #expect(verdict(security: bootstrapAccount + Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, ssid: 1),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1)) == nil)
    }

    // Issue 10, defect 8: URIs that can never connect passed Bootstrap-Finish.
    @Test(arguments: [
        ("coap://[::1", "has no valid host"),
        ("coap://dm:0", "has an invalid port \"0\" (1–65535)"),
        ("coap://dm:99999", "has an invalid port \"99999\" (1–65535)"),
        ("coap://dm:-1", "has an invalid port \"-1\" (1–65535)"),
        ("coap://dm:5683#frag", "has a fragment"),
        ("coap://user@dm:5683", "has userinfo (user@host), which CoAP does not use"),
        ("coap://dm:5683?x=1", "has a query"),
        ("coap://", "has no valid host"),
        ("coap://[zz::1]:5683", "has an invalid IPv6 literal"),
        ("coap://x%0a%3c0%3e:5683", "has a host that is not a DNS name or IP address"),
        ("coap://d m", "has a host that is not a DNS name or IP address"),
    ])
    func uriThatCanNeverConnectIsRefused(uri: String, reason: String) {
        let verdict = verdict(security: Accounts.securityRecords(instance: 1, uri: uri, bootstrap: false, ssid: 1),
                              servers: Accounts.serverRecords(instance: 0, ssid: 1))
        #expect(verdict == "/0/1: server URI \"\(uri)\" \(reason)")
    }

    @Test(arguments: ["coap://dm", "coap://dm:5683", "coap://dm:5683/", "coap://127.0.0.1:5683", "coap://[::1]:5683",
                      "coap://[fe80::1%25eth0]:5683", "COAP://Dm.Example-1.org", "coap://dm:"])
    func usableURIsPass(uri: String) {
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: uri, bootstrap: false, ssid: 1),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1)) == nil)
    }

    @Test func aServerURIWithControlCharactersIsReportedOnOneLine() {
        let uri = "coap://x\n<0>forged:5683"
        let verdict = verdict(security: Accounts.securityRecords(instance: 1, uri: uri, bootstrap: false, ssid: 1),
                              servers: Accounts.serverRecords(instance: 0, ssid: 1))
        #expect(verdict == "/0/1: server URI \"coap://x\\n<0>forged:5683\" has a host that is not a DNS name or IP address")
    }

    @Test(arguments: [Int64(0), -5, 4_294_967_296, 2_147_483_648])
    func lifetimeOutOfRangeIsRefused(lifetime: Int64) {
        let verdict = verdict(security: Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, ssid: 1),
                              servers: Accounts.serverRecords(instance: 0, ssid: 1, lifetime: lifetime))
        #expect(verdict?.hasPrefix("/1/0/1 (Lifetime)") == true)
    }

    @Test func iowasSixReasonsAndTheSSIDMatchAreReported() {
        // 1. No server account at all.
        #expect(verdict(security: [], servers: []) == "no LwM2M server account provided")
        // 2. Only a bootstrap account.
        #expect(verdict(security: bootstrapAccount, servers: [])
            == "only a bootstrap-server account provided, no LwM2M server account")
        // 3. coaps without security information.
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, ssid: 1),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1))
            == "/0/1: coaps URI but Security Mode NoSec (no security information)")
        // 4. coap with security information.
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, mode: 0, ssid: 1,
                                                           identity: [1]),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1), secrets: [1: "k"])
            == "/0/1: coap URI but security information provided")
        // 5. Binding mismatch.
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, ssid: 1),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1, binding: "T"))
            == "server 1: URI \"coap://dm\" needs UDP but Binding is \"T\"")
        // 6. Mode against identity and keys.
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 0, ssid: 1),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1))
            == "/0/1: Security Mode PSK without a PSK identity (/0/1/3)")
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 0, ssid: 1,
                                                           identity: [1]),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1))
            == "/0/1: Security Mode PSK without a key (/0/1/5)")
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 2, ssid: 1,
                                                           identity: [1]),
                        servers: Accounts.serverRecords(instance: 0, ssid: 1), secrets: [1: "k"])
            == "/0/1: Security Mode X.509 without a server certificate or trust anchor (/0/1/4)")
        // 7. /0 ↔ /1 Short Server ID.
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, ssid: 1),
                        servers: Accounts.serverRecords(instance: 0, ssid: 2))
            == "Short Server ID 2: Server instance /1/0 has no Security instance")
        #expect(verdict(security: Accounts.securityRecords(instance: 1, uri: "coap://dm", bootstrap: false, ssid: 1),
                        servers: [])
            == "Short Server ID 1: Security instance has no Server instance")
    }

    @Test func rawPublicKeysAreRefusedWithAReason() {
        let result = verdict(security: Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 1,
                                                                 ssid: 1, identity: [1]),
                             servers: Accounts.serverRecords(instance: 0, ssid: 1), secrets: [1: "k"])
        #expect(result?.contains("RPK is not supported") == true)
    }

    @Test func twoBootstrapAccountsAreRefused() {
        #expect(verdict(security: bootstrapAccount + Accounts.securityRecords(instance: 3, uri: "coap://bs2", bootstrap: true),
                        servers: []) == "more than one bootstrap-server account")
    }
}

@Suite struct StateFileRobustnessTests {
    @Test func everyMutationDecodesOrFailsCleanly() throws {
        let snapshot = Accounts.snapshot(
            security: Accounts.securityRecords(instance: 0, uri: "coap://bs", bootstrap: true)
                + Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 0, ssid: 7, identity: [1, 2]),
            servers: Accounts.serverRecords(instance: 0, ssid: 7))
        var withSecret = snapshot
        withSecret.objects[0]!.secrets[1] = [5: "lwm2m/0-1-5/1"]
        let encoded = withSecret.encoded()
        #expect(try ConfigurationSnapshot(decoding: encoded) == withSecret)
        var random = SplitMix64(seed: 4)
        var decodedCount = 0
        for _ in 0..<5000 {
            var bytes = encoded
            switch random.next() % 3 {
            case 0: bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            case 1: bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
            default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: Int(random.next() % UInt64(bytes.count)))
            }
            if (try? ConfigurationSnapshot(decoding: bytes)) != nil { decodedCount += 1 }
        }
        #expect(decodedCount < 5000)
        #expect(throws: StateFileError.unsupportedVersion(2)) {
            try ConfigurationSnapshot(decoding: Array(#"{"format":"lwm2m-agent-configuration","version":2,"objects":{}}"#.utf8))
        }
    }
}

/// What `check` says of a configuration of these Security and Server records, with a stored
/// secret (/0/x/5) named for each instance in `secrets`: nil when it passes, else the error's text.
func consistencyVerdict(_ check: BootstrapConsistencyCheck, security: [LwM2MRecord], servers: [LwM2MRecord],
                        secrets: [UInt16: String]) -> String? {
    var snapshot = Accounts.snapshot(security: security, servers: servers)
    for (instance, name) in secrets { snapshot.objects[0]!.secrets[instance] = [5: name] }
    do {
        try check.check(security: snapshot.objects[0]!, server: snapshot.objects[1]!)
        return nil
    } catch {
        return error.description
    }
}
