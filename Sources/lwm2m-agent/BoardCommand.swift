import AgentCommon
import AgentDaemon
import Board
import Files
import Glibc

/// `lwm2m-agent board show|list`: which board the agent would run with here, why, and what it
/// reports; the installed boards.
enum BoardCommand {
    // The help and usage text: Help/BoardHelp.swift.

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        let request: BoardRequest?
        let directory: String
        let root: SystemRoot
        // The daemon's state directory and serial file (for /3/0's storage check and serial).
        var stateDirectory = "/var/lib/lwm2m-agent"
        var serialFile: String?
        do {
            parsed = try ParsedArguments(arguments, valueOptions: ["config", "board", "board-dir", "root"], flagOptions: [])
            guard parsed.positional.count == 1, ["show", "list"].contains(parsed.positional[0]) else {
                throw UsageError.missingArgument("show or list")
            }
            var configured: (BoardRequest?, String) = (nil, BoardCatalog.defaultDirectory)
            if let path = parsed.value("config") {
                do {
                    let configuration = try AgentLauncher.loadConfiguration(path)
                    configured = (configuration.board, configuration.boardDirectory)
                    stateDirectory = configuration.stateDirectory
                    serialFile = configuration.serialFile
                } catch {
                    Console.error("lwm2m-agent: \(error)\n")
                    return 1
                }
            }
            if let value = parsed.value("board") {
                do {
                    configured.0 = try BoardRequest(parsing: value)
                } catch {
                    throw UsageError.invalidValue("board", value, error.description)
                }
            }
            if let value = parsed.value("board-dir") { configured.1 = value }
            (request, directory) = configured
            root = SystemRoot(parsed.value("root") ?? "/")
        } catch let error as UsageError {
            CLI.usageError("\(error)")
        } catch {
            CLI.usageError("\(error)")
        }
        do {
            if parsed.positional[0] == "list" {
                let catalog = try BoardCatalog(directory: directory)
                print("boards in \(directory):" + (catalog.entries.isEmpty ? " none" : ""))
                for entry in catalog.entries {
                    let mark = BoardCatalog.matches(entry.definition, root) ? "*" : " "
                    print("\(mark) \(entry.definition.name)" + (entry.definition.description.map { "  \($0)" } ?? ""))
                }
                print("chosen here: \(try BoardCatalog.select(nil, directory: directory, root: root).definition.name)")
            } else {
                let choice = try BoardCatalog.select(request, directory: directory, root: root)
                for line in BoardReport.lines(choice, root: root) { print(line) }
                for line in GPIOBoardReport.lines(choice.definition, root: root) { print(line) }
                print("values the agent would report now:")
                let device = DeviceInputs(board: choice.definition, stateDirectory: stateDirectory,
                                          serialFile: serialFile, root: root)
                for line in device.reportLines() + SensorObjects.valueLines(SensorInputs(board: choice.definition, root: root)) {
                    print("  " + line)
                }
            }
            return 0
        } catch {
            Console.error("lwm2m-agent: \(error)\n")
            return 1
        }
    }
}
