import Board
import Files
import Glibc
import Testing

/// Damaged board files and hostile machine files: refused with a line inside the file, or read
/// as absent, never a crash or a hang.
@Suite struct BoardFileMutationTests {
    /// Every shipped file with each line removed, doubled, or cut in half: it still parses, or
    /// is refused naming a line that exists.
    @Test func everyLineOfEveryShippedFileDamaged() throws {
        var refused = 0, parsed = 0
        for file in try Directory.list(BoardTestPaths.boards) where file.hasSuffix(".conf") {
            let text = try #require(BoardTestPaths.read(BoardTestPaths.boards + "/" + file))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for index in lines.indices {
                var removed = lines; removed.remove(at: index)
                var doubled = lines; doubled.insert(lines[index], at: index)
                var cut = lines; cut[index] = String(lines[index].prefix(lines[index].count / 2))
                for variant in [removed, doubled, cut] {
                    do {
                        _ = try BoardDefinition(parsing: variant.joined(separator: "\n"), file: file,
                                                expectedName: String(file.dropLast(5)))
                        parsed += 1
                    } catch {
                        #expect(error.line >= 0 && error.line <= variant.count, "\(error)")
                        #expect(error.file == file)
                        refused += 1
                    }
                }
            }
        }
        // Doubled key lines and cut section headers must be caught: not everything parses.
        #expect(refused > 50, "only \(refused) damaged variants refused")
        #expect(parsed > 0)
    }

    @Test func aFIFOOrADirectoryInPlaceOfAMachineFileIsAbsentNotAHang() throws {
        let root = BoardTestPaths.directory([:])
        for path in ["/proc", "/proc/device-tree"] { mkdir(root + path, 0o755) }
        #expect(mkfifo(root + "/proc/device-tree/model", 0o600) == 0)
        mkdir(root + "/proc/device-tree/serial-number", 0o755)
        let choice = try BoardCatalog.select(.name("raspberrypi-4-slb9670"), directory: BoardTestPaths.boards,
                                             root: SystemRoot(root))
        let lines = BoardReport.lines(choice, root: SystemRoot(root))
        #expect(lines.contains("  model: absent (/proc/device-tree/model unreadable or empty)"))
        #expect(lines.contains("  serial: absent (/proc/device-tree/serial-number unreadable or empty)"))
        #expect(BoardCatalog.deviceTreeCompatible(SystemRoot(root)).isEmpty)
    }

    @Test func controlCharactersFromTheMachineAreEscapedInTheReport() throws {
        let root = BoardTestPaths.directory([:])
        for path in ["/proc", "/proc/device-tree"] { mkdir(root + path, 0o755) }
        let file = fopen(root + "/proc/device-tree/model", "w")!
        fputs("Evil\u{1B}[2J board\n", file)
        fclose(file)
        let choice = try BoardCatalog.select(.name("raspberrypi-4-slb9670"), directory: BoardTestPaths.boards,
                                             root: SystemRoot(root))
        let model = BoardReport.lines(choice, root: SystemRoot(root)).first { $0.hasPrefix("  model:") }
        #expect(model?.contains("\u{1B}") == false, "\(model ?? "")")
    }
}
