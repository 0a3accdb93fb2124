import AgentCommon
import AgentDaemon
import Board
import Testing

/// `[agent] board` and `board-dir` (docs/configuration.md, docs/boards.md).
@Suite struct BoardConfigurationTests {
    private func parse(_ agentLines: String) throws(ConfigFileError) -> AgentConfiguration {
        try AgentConfiguration(parsing: "[agent]\nendpoint-name = gw-1\n\(agentLines)\n[server 1]\nuri = coap://127.0.0.1\n",
                               environment: .init(machineID: { "m" }, hostname: { "h" }, readFile: { _ in nil }))
    }

    @Test func defaultsChooseFromTheInstalledBoards() throws {
        let configuration = try parse("")
        #expect(configuration.board == nil)
        #expect(configuration.boardDirectory == "/usr/share/lwm2m-agent/boards")
    }

    @Test func nameOrPath() throws {
        #expect(try parse("board = raspberrypi-4-slb9670").board == .name("raspberrypi-4-slb9670"))
        #expect(try parse("board = /etc/lwm2m-agent/gw.conf").board == .path("/etc/lwm2m-agent/gw.conf"))
        #expect(try parse("board-dir = /opt/boards").boardDirectory == "/opt/boards")
    }

    @Test(arguments: [("board = ../gw", "board \"../gw\": expected a board name"),
                      ("board = gw.conf", "board \"gw.conf\": expected a board name"),
                      ("board = /etc/passwd", "board \"/etc/passwd\": a board file's path ends in .conf"),
                      ("board =", "board \"\": expected a board name"),
                      ("board-dir = boards", "board-dir \"boards\": expected an absolute path")])
    func badValueNamesItsLine(line: String, message: String) {
        #expect {
            try parse(line)
        } throws: { error in
            (error as? ConfigFileError).map { $0.line == 3 && $0.message.hasPrefix(message) } == true
        }
    }

    @Test func launcherLoadsTheConfiguredBoardAndNamesTheFileOnError() throws {
        let configuration = try parse("board = nonexistent\nboard-dir = /nonexistent/boards")
        #expect {
            try AgentLauncher.loadBoard(configuration)
        } throws: { error in
            "\(error)" == "board: /nonexistent/boards/nonexistent.conf: no board \"nonexistent\" in /nonexistent/boards (no board files there)"
        }
        let generic = try AgentLauncher.loadBoard(try parse("board-dir = /nonexistent/boards"), root: SystemRoot("/nonexistent"))
        #expect(generic.reason == .generic(file: nil))
    }
}
