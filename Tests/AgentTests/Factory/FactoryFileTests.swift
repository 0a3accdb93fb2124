import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import Glibc
import Files
import Testing

private let environment = EndpointNameTemplate.Environment(
    machineID: { "0123abcd" }, hostname: { "gw-host" }, readFile: { $0 == "/serial" ? "SN-42" : nil })

@Suite("factory file")
struct FactoryFileTests {
    static let agentText = """
        [agent]
        endpoint-name = gw-agent
        state-dir = /tmp/unused
        serial-file = /serial

        [server 7]
        uri = coap://agent-file.example:5683
        """

    @Test("its identity and accounts override the agent file's")
    func precedence() throws {
        var configuration = try AgentConfiguration(parsing: Self.agentText, environment: environment)
        #expect(configuration.factoryFile == "/tmp/unused/factory.conf")
        let factory = try FactoryFile(parsing: """
            [identity]
            endpoint-name = gw-{serial}

            [bootstrap]
            uri = coaps://bs.example:5684
            security-mode = psk
            psk-identity = gw-bs
            secret-key = factory/bootstrap/secret-key

            [server 101]
            uri = coaps://dm.example:5684
            security-mode = certificate
            secret-key = tpm-key:factory/server-101/key
            lifetime = 60
            """)
        try configuration.apply(factory, environment: environment)
        #expect(configuration.endpointName == "gw-SN-42")
        #expect(configuration.endpointTemplate == "gw-{serial}")
        #expect(configuration.bootstrap?.uri == "coaps://bs.example:5684")
        #expect(configuration.bootstrap?.secretKey == "factory/bootstrap/secret-key")
        #expect(configuration.servers.map(\.shortServerID) == [101], "the agent file's server 7 is replaced")
        #expect(configuration.servers.first?.lifetime == 60)
        #expect(configuration.servers.first?.account.secretKey == "tpm-key:factory/server-101/key")
    }

    @Test("identity alone keeps the agent file's accounts")
    func identityOnly() throws {
        var configuration = try AgentConfiguration(parsing: Self.agentText, environment: environment)
        try configuration.apply(try FactoryFile(parsing: "[identity]\nendpoint-name = gw-factory\n"), environment: environment)
        #expect(configuration.endpointName == "gw-factory")
        #expect(configuration.servers.map(\.shortServerID) == [7])
    }

    @Test("render then parse gives the same file")
    func roundTrip() throws {
        var file = FactoryFile()
        file.endpointName = "urn:dev:{machine-id}"
        file.bootstrap = [.init("uri", "coap://bs:5683"), .init("security-mode", "nosec")]
        file.servers[3] = [.init("uri", "coap://dm:5683"), .init("lifetime", "30")]
        #expect(try FactoryFile(parsing: file.rendered()) == file)
    }

    @Test("errors are line-numbered; unknown sections and keys are refused", arguments: [
        ("[agent]\nstate-dir = /x\n", 1),
        ("[identity]\nendpoint-name = a\nserial = 3\n", 3),
        ("[bootstrap]\nuri = coap://bs\nsecret = x\n", 3),
        ("[server 0]\nuri = coap://x\n", 1),
    ])
    func refusals(text: String, line: Int) {
        #expect { try FactoryFile(parsing: text) } throws: { ($0 as? ConfigFileError)?.line == line }
    }

    @Test("the launcher applies <state-dir>/factory.conf and names it in errors")
    func launcherUsesTheFactoryFile() throws {
        var template = Array("/tmp/factory-file-test-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        defer { _ = system("rm -rf '\(directory)'") }
        let agent = "[agent]\nendpoint-name = gw-agent\nstate-dir = \(directory)\n"
        try AtomicFile.write(Array(agent.utf8), to: "\(directory)/agent.conf")
        #expect(throws: AgentLaunchError.self) { try AgentLauncher.loadConfiguration("\(directory)/agent.conf") }
        try AtomicFile.write(Array("[server 9]\nuri = coap://dm:5683\n".utf8), to: "\(directory)/factory.conf")
        let configuration = try AgentLauncher.loadConfiguration("\(directory)/agent.conf")
        #expect(configuration.servers.map(\.shortServerID) == [9])
        try AtomicFile.write(Array("[server 9]\nuri = coap://dm:5683\nbogus = 1\n".utf8), to: "\(directory)/factory.conf")
        do {
            _ = try AgentLauncher.loadConfiguration("\(directory)/agent.conf")
            Issue.record("accepted a bad factory file")
        } catch {
            #expect("\(error)".contains("\(directory)/factory.conf: line 3"), "\(error)")
        }
    }
}

@Suite("endpoint name from the ICCID")
struct ICCIDTemplateTests {
    @Test("{iccid} reads the first line of iccid-file; a missing file names it")
    func iccid() throws {
        let environment = EndpointNameTemplate.Environment(
            machineID: { nil }, hostname: { nil }, readFile: { $0 == "/iccid" ? "8988228066602306711" : nil })
        var configuration = try AgentConfiguration(parsing: """
            [agent]
            state-dir = /tmp/unused
            iccid-file = /iccid
            endpoint-name = {iccid}
            [server 1]
            uri = coap://x
            """, environment: environment)
        #expect(configuration.endpointName == "8988228066602306711")
        var factory = FactoryFile()
        factory.endpointName = "urn:imei-iccid:{iccid}"
        try configuration.apply(factory, environment: environment)
        #expect(configuration.endpointName == "urn:imei-iccid:8988228066602306711")
        #expect(throws: EndpointNameError.missingValue("iccid", "/elsewhere is missing or empty")) {
            try EndpointNameTemplate("{iccid}").expand(environment, serialFile: "/serial", iccidFile: "/elsewhere")
        }
    }
}
