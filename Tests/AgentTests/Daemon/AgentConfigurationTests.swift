import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import Credentials
import Glibc
import LwM2M
import Files
import Testing

private let testEnvironment = EndpointNameTemplate.Environment(
    machineID: { "0123abcd" }, hostname: { "gw-host" },
    readFile: { $0 == "/serial" ? "SN-42" : nil })

private func parse(_ text: String) throws(ConfigFileError) -> AgentConfiguration {
    try AgentConfiguration(parsing: text, environment: testEnvironment)
}

@Suite struct AgentConfigurationTests {
    @Test func fullFileIsTyped() throws {
        let configuration = try parse("""
            # a comment
            [agent]
            endpoint-name = gw-{serial}
            serial-file = /serial
            state-dir = /tmp/x
            log-level = debug
            credential-store = development
            bootstrap-on-every-start = yes
            ack-timeout = 0.5

            [bootstrap]
            uri = coaps://bs.example.com:5684
            security-mode = psk
            psk-identity = gw-SN-42
            secret-key = factory/bootstrap-psk
            client-hold-off = 3

            [server 201]
            uri = coap://dm.example.com
            lifetime = 300
            retry-count = 2
            """)
        #expect(configuration.endpointName == "gw-SN-42")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.credentialStore == .development)
        #expect(configuration.bootstrapOnEveryStart)
        #expect(configuration.ackTimeout == .milliseconds(500))
        #expect(configuration.bootstrap?.securityMode == .preSharedKey)
        #expect(configuration.bootstrap?.identity == Array("gw-SN-42".utf8))
        #expect(configuration.servers.map(\.shortServerID) == [201])

        let snapshot = configuration.factorySnapshot
        let accounts = AccountSet(security: snapshot.objects[0]!, server: snapshot.objects[1]!)
        #expect(accounts.bootstrap?.uri == "coaps://bs.example.com:5684")
        #expect(accounts.bootstrap?.secretKey == "factory/bootstrap-psk")
        #expect(accounts.bootstrap?.clientHoldOffTime == 3)
        #expect(accounts.servers.first?.settings.lifetime == 300)
        #expect(accounts.servers.first?.settings.retryCount == 2)
        #expect(accounts.servers.first?.security.mode == .noSecurity)
    }

    @Test(arguments: [
        ("[agent]\nbogus = 1\n[bootstrap]\nuri = coap://a", "line 2: unknown key \"bogus\" in [agent]"),
        ("[agent]\n[bootstrap]\nuri = coap://a\n[bootstrap]\nuri = coap://b", "line 4: section [bootstrap] appears twice"),
        ("[agent]\n[server x]\nuri = coap://a", "line 2: [server N] needs a Short Server ID N in 1…65534"),
        ("[agent]\n[server 5]\nuri = ftp://a", "line 3: uri \"ftp://a\""),
        ("[agent]\nlog-level = loud\n[bootstrap]\nuri = coap://a", "line 2: log-level \"loud\""),
        ("[agent]\n", "no [bootstrap] and no [server N] section"),
        ("uri = coap://a", "line 1: \"uri\" before any [section]"),
        ("[agent\n", "line 1: section header without \"]\""),
        ("[agent]\nendpoint-name = x-{nope}\n[bootstrap]\nuri = coap://a", "line 2: unknown placeholder {nope}"),
        ("[agent]\nendpoint-name = has space\n[bootstrap]\nuri = coap://a", "line 2: endpoint name \"has space\""),
        ("[agent]\n[server 7]\nuri = coap://a\nlifetime = 0", "line 4: lifetime must be positive"),
        ("[agent]\n[server 7]\nuri = coap://a\nretry-count = -1", "line 4: retry-count \"-1\" is not a non-negative integer"),
    ])
    func badFilesNameTheLine(_ text: String, _ expected: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error)")
        }
    }

    @Test func templatesFillFromTheMachine() throws {
        #expect(try EndpointNameTemplate("urn:dev:{machine-id}").expand(testEnvironment, serialFile: "/serial")
            == "urn:dev:0123abcd")
        #expect(try EndpointNameTemplate("{hostname}-{serial}").expand(testEnvironment, serialFile: "/serial")
            == "gw-host-SN-42")
        #expect(throws: EndpointNameError.missingValue("serial", "/missing is missing or empty")) {
            try EndpointNameTemplate("{serial}").expand(testEnvironment, serialFile: "/missing")
        }
        #expect(throws: EndpointNameError.unterminatedPlaceholder) {
            try EndpointNameTemplate("a{serial").expand(testEnvironment, serialFile: "/serial")
        }
    }
}

// Issue 10, defect 12: CRLF/BOM files load; long values are not echoed whole; file limits.
@Suite struct HardeningTests {
    private func directory() -> String {
        var template = Array("/tmp/lwm2m-state-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test(arguments: ["\r\n", "\n"], [true, false])
    func crlfAndByteOrderMarkAreAccepted(lineEnd: String, bom: Bool) throws {
        let text = (bom ? "\u{FEFF}" : "") + ["[agent]", "endpoint-name = gw-crlf", "", "[server 9]",
                                              "uri = coap://127.0.0.1:1", "lifetime = 77", ""].joined(separator: lineEnd)
        let configuration = try AgentConfiguration(parsing: text, environment: .init(
            machineID: { nil }, hostname: { nil }, readFile: { _ in nil }))
        #expect(configuration.endpointName == "gw-crlf")
        #expect(configuration.servers.first?.lifetime == 77)
        #expect(configuration.servers.first?.account.uri == "coap://127.0.0.1:1")
    }

    @Test func aCRLFFileStillNamesTheRightLine() {
        #expect(throws: ConfigFileError(line: 3, "unknown key \"bogus\" in [agent]")) {
            _ = try AgentConfiguration(parsing: "[agent]\r\nendpoint-name = x\r\nbogus = 1\r\n")
        }
    }

    @Test func maxRetransmitDefaultsTo4AndIsBounded() throws {
        func file(_ line: String) -> String { "[agent]\nendpoint-name = x\n\(line)[server 1]\nuri = coap://127.0.0.1:1\n" }
        #expect(try parse(file("")).maxRetransmit == 4)
        #expect(try parse(file("max-retransmit = 8\n")).maxRetransmit == 8)
        for bad in ["21", "-1", "four"] {
            #expect(throws: ConfigFileError.self) { _ = try parse(file("max-retransmit = \(bad)\n")) }
        }
    }

    @Test func aHugeValueIsCutInTheError() {
        let huge = String(repeating: "9", count: 5 << 20) + "x"
        do {
            _ = try AgentConfiguration(parsing: "[agent]\nendpoint-name = x\nack-timeout = \(huge)\n[server 1]\nuri = coap://127.0.0.1:1\n")
            Issue.record("accepted")
        } catch {
            #expect(error.description.utf8.count < 200)
            #expect(error.description == "line 3: ack-timeout \"\(String(repeating: "9", count: 64))…\" (\((5 << 20) + 1) bytes) is not a number of seconds")
        }
    }

    @Test func serialAndICCIDFilesAreCapped() throws {
        let path = "\(directory())/iccid"
        try AtomicFile.write(Array(repeating: 0x38, count: 8192), to: path)
        #expect(throws: EndpointNameError.missingValue("iccid", "read \(path): larger than 4096 bytes")) {
            _ = try EndpointNameTemplate("{iccid}").expand(.system, serialFile: "/nonexistent", iccidFile: path)
        }
        #expect(throws: EndpointNameError.missingValue("serial", "read /dev/zero: a character device, not a regular file")) {
            _ = try EndpointNameTemplate("gw-{serial}").expand(.system, serialFile: "/dev/zero")
        }
        try AtomicFile.write(Array("89882280000012345678\n".utf8), to: path)
        #expect(try EndpointNameTemplate("{iccid}").expand(.system, serialFile: "/nonexistent", iccidFile: path)
            == "89882280000012345678")
    }
}

@Suite(.serialized) struct InstanceLockTests {
    @Test func aSecondLockOnTheSameDirectoryIsRefusedUntilTheFirstIsReleased() throws {
        var template = Array("/tmp/lwm2m-lock-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) } + "/state"
        let first = try InstanceLock(directory: path)
        #expect(FileReader.exists(first.path))
        #expect(throws: InstanceLockError.alreadyRunning(directory: path, pid: nil)) {
            _ = try InstanceLock(directory: path)
        }
        first.release()
        let second = try InstanceLock(directory: path)
        second.release()
    }

    /// A child forked while the daemon releases its lock shares the lock's open file description
    /// until it execs (O_CLOEXEC): a copy of the descriptor (dup, the same description) stands in
    /// for it. Release must free the lock all the same (it failed with alreadyRunning when release
    /// only closed its descriptor).
    @Test func releaseFreesTheLockWhileACopyOfItsDescriptorIsStillOpen() throws {
        var template = Array("/tmp/lwm2m-lock-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) } + "/state"
        let first = try InstanceLock(directory: path)
        let copy = try #require(Self.duplicateOpenDescriptor(of: first.path))
        defer { close(copy) }
        first.release()
        let second = try InstanceLock(directory: path)
        second.release()
    }

    /// A dup of this process's descriptor open on `file` (found in /proc/self/fd).
    private static func duplicateOpenDescriptor(of file: String) -> Int32? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var target = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            guard count > 0 else { continue }
            if String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) == file { return dup(fd) }
        }
        return nil
    }
}
