import Board
import Glibc
import Testing

/// The choice of a board: by name, by path, by device-tree compatible (most specific wins), by
/// DMI (most patterns win), else the generic board; and what is refused.
@Suite struct BoardSelectionTests {
    private static func board(_ name: String, _ extra: String = "") -> String {
        "[board]\nname = \(name)\ndescription = \(name)\n\(extra)"
    }

    /// Board files for a Pi 4 (board-specific), every BCM2711 machine (SoC-level), a NUC and
    /// every Intel board.
    private let directory = BoardTestPaths.directory([
        "pi4.conf": board("pi4", "compatible = raspberrypi,4-model-b\n"),
        "bcm2711.conf": board("bcm2711", "compatible = brcm,bcm2711\n"),
        "nuc.conf": board("nuc", "dmi = board_vendor:Intel* product_name:NUC*\n"),
        "intel.conf": board("intel", "dmi = board_vendor:Intel*\n"),
        "README.md": "not a board file",
    ])

    @Test func mostSpecificCompatibleEntryWins() throws {
        let pi4 = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("rpi4"))
        #expect(pi4.definition.name == "pi4")
        #expect(pi4.reason == .compatible(entry: "raspberrypi,4-model-b", position: 0, others: ["bcm2711"]))
        #expect(pi4.file == directory + "/pi4.conf")
        // A Compute Module 4 has no board-specific file here: the SoC-level one (entry 1) matches.
        let cm4 = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("rpi-cm4"))
        #expect(cm4.definition.name == "bcm2711")
        #expect(cm4.reason == .compatible(entry: "brcm,bcm2711", position: 1, others: []))
    }

    @Test func equallySpecificBoardsGoByNameAndTheOtherIsReported() throws {
        let directory = BoardTestPaths.directory([
            "b.conf": Self.board("b", "compatible = raspberrypi,4-model-b\n"),
            "a.conf": Self.board("a", "compatible = other,board raspberrypi,4-model-b\n"),
        ])
        let choice = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("rpi4"))
        #expect(choice.definition.name == "a")
        #expect(choice.reason == .compatible(entry: "raspberrypi,4-model-b", position: 0, others: ["b"]))
        #expect(choice.reason.description.contains("also matched: b"))
    }

    @Test func dmiMatchesWithoutADeviceTreeAndMorePatternsWin() throws {
        let nuc = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("intel-nuc"))
        #expect(nuc.definition.name == "nuc")
        #expect(nuc.reason == .dmi(patterns: ["board_vendor:Intel*", "product_name:NUC*"], others: ["intel"]))
        // QEMU's DMI matches neither; no generic-linux.conf here: the compiled-in board.
        let qemu = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("qemu-pc"))
        #expect(qemu.definition == GenericBoard.definition)
        #expect(qemu.reason == .generic(file: nil))
        #expect(qemu.file == nil)
    }

    @Test func everyDMIPatternMustMatch() throws {
        let directory = BoardTestPaths.directory([
            "nuc12.conf": Self.board("nuc12", "dmi = board_vendor:Intel* product_name:NUC12*\n"),
        ])
        let choice = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("intel-nuc"))
        #expect(choice.reason == .generic(file: nil))
        // A pattern on an attribute the machine lacks does not match either.
        let serial = BoardTestPaths.directory(["s.conf": Self.board("s", "dmi = board_serial:*\n")])
        #expect(try BoardCatalog.select(nil, directory: serial, root: BoardTestPaths.fixture("intel-nuc")).reason == .generic(file: nil))
    }

    @Test func deviceTreeComesBeforeDMI() throws {
        let root = BoardTestPaths.directory([:])
        for path in ["/proc", "/proc/device-tree", "/sys", "/sys/class", "/sys/class/dmi", "/sys/class/dmi/id"] {
            mkdir(root + path, 0o755)
        }
        for (path, content) in [("/proc/device-tree/compatible", "raspberrypi,4-model-b\u{0}brcm,bcm2711\u{0}"),
                                ("/sys/class/dmi/id/board_vendor", "Intel Corporation\n"),
                                ("/sys/class/dmi/id/product_name", "NUC\n")] {
            let file = fopen(root + path, "w")!
            fputs(content, file)
            fclose(file)
        }
        #expect(try BoardCatalog.select(nil, directory: directory, root: SystemRoot(root)).definition.name == "pi4")
    }

    @Test func installedGenericBoardIsTheFallback() throws {
        let directory = BoardTestPaths.directory([
            "generic-linux.conf": Self.board("generic-linux", "[clock]\nsettable = yes\n"),
        ])
        let choice = try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("bare"))
        #expect(choice.reason == .generic(file: directory + "/generic-linux.conf"))
        #expect(choice.definition.clockSettable)
    }

    @Test func absentDirectoryMeansTheCompiledInGenericBoard() throws {
        let choice = try BoardCatalog.select(nil, directory: "/nonexistent/lwm2m-agent/boards", root: BoardTestPaths.fixture("rpi4"))
        #expect(choice.reason == .generic(file: nil))
        #expect(choice.definition.name == "generic-linux")
    }

    @Test func namedBoardIsTakenWhateverTheMachine() throws {
        let choice = try BoardCatalog.select(.name("nuc"), directory: directory, root: BoardTestPaths.fixture("rpi4"))
        #expect(choice.definition.name == "nuc")
        #expect(choice.reason == .named("nuc"))
        #expect(choice.reason.description == "board = nuc (configured)")
    }

    @Test func unknownNameListsTheInstalledBoards() {
        #expect {
            try BoardCatalog.select(.name("pi5"), directory: directory, root: .live)
        } throws: { error in
            let error = error as! BoardDefinitionError
            return error.file == directory + "/pi5.conf" && error.line == 0
                && error.message == "no board \"pi5\" in \(directory) (installed: bcm2711, intel, nuc, pi4)"
        }
    }

    @Test func boardFileByPath() throws {
        let choice = try BoardCatalog.select(.path(directory + "/intel.conf"), directory: "/nonexistent", root: .live)
        #expect(choice.definition.name == "intel")
        #expect(choice.reason == .path(directory + "/intel.conf"))
        // The name inside must still be the file's name.
        let other = BoardTestPaths.directory(["copy.conf": Self.board("intel")])
        #expect {
            try BoardCatalog.select(.path(other + "/copy.conf"), directory: "/nonexistent", root: .live)
        } throws: { error in
            (error as? BoardDefinitionError)?.message == "name \"intel\" differs from the file name \"copy.conf\""
        }
        #expect(throws: BoardDefinitionError.self) {
            try BoardCatalog.select(.path(other + "/absent.conf"), directory: "/nonexistent", root: .live)
        }
    }

    @Test func aBadInstalledFileStopsAutomaticChoiceButNotANamedOne() throws {
        let directory = BoardTestPaths.directory([
            "good.conf": Self.board("good", "compatible = raspberrypi,4-model-b\n"),
            "bad.conf": Self.board("bad", "[clock]\nsettable = perhaps\n"),
        ])
        #expect {
            try BoardCatalog.select(nil, directory: directory, root: BoardTestPaths.fixture("rpi4"))
        } throws: { error in
            (error as? BoardDefinitionError)?.description == "\(directory)/bad.conf: line 5: settable \"perhaps\": expected yes or no"
        }
        #expect(try BoardCatalog.select(.name("good"), directory: directory, root: .live).definition.name == "good")
    }

    @Test func aFileTooLargeOrNotAFileIsRefused() throws {
        let directory = BoardTestPaths.directory([
            "big.conf": Self.board("big", "# " + String(repeating: "x", count: BoardCatalog.maximumFileSize) + "\n"),
        ])
        #expect(throws: BoardDefinitionError.self) { try BoardCatalog.select(.name("big"), directory: directory, root: .live) }
        mkdir(directory + "/dir.conf", 0o755)
        #expect(throws: BoardDefinitionError.self) { try BoardCatalog.select(.name("dir"), directory: directory, root: .live) }
    }

    @Test(arguments: [
        ("raspberrypi-4-slb9670", BoardRequest.name("raspberrypi-4-slb9670")),
        ("/etc/lwm2m-agent/my-board.conf", BoardRequest.path("/etc/lwm2m-agent/my-board.conf")),
    ])
    func boardRequestAccepted(value: String, request: BoardRequest) throws {
        #expect(try BoardRequest(parsing: value) == request)
    }

    @Test(arguments: ["", "../etc/passwd", "boards/pi4", "pi4.conf", ".hidden", "/etc/passwd", "/.conf", "pi 4",
                      String(repeating: "a", count: 100)])
    func boardRequestRefused(value: String) {
        #expect(throws: BoardRequestError.self) { try BoardRequest(parsing: value) }
    }

    @Test func reportShowsChoiceReasonAndResolvedValues() throws {
        let root = BoardTestPaths.fixture("rpi4")
        let choice = try BoardCatalog.select(nil, directory: BoardTestPaths.boards, root: root)
        let lines = BoardReport.lines(choice, root: root)
        #expect(lines.first == "board: raspberrypi-4-slb9670")
        #expect(lines.contains("chosen because: /proc/device-tree/compatible entry 0 \"raspberrypi,4-model-b\" is in its compatible list"))
        #expect(lines.contains("  model: \"Raspberry Pi 4 Model B Rev 1.4\" (from /proc/device-tree/model)"))
        #expect(lines.contains("  serial: \"10000000a1b2c3d4\" (from /proc/device-tree/serial-number)"))
        #expect(lines.contains("this machine's device tree: raspberrypi,4-model-b brcm,bcm2711"))
        #expect(lines.contains("tpm: /dev/tpmrm0 on spi"))
        #expect(lines.contains("gpio relay1: line RELAY1, chip pinctrl-bcm2711, digital-output, application type \"Relay 1\", initial 0, persisted"))
        let bare = BoardReport.lines(try BoardCatalog.select(.name("raspberrypi-4-slb9670"), directory: BoardTestPaths.boards,
                                                             root: BoardTestPaths.fixture("bare")), root: BoardTestPaths.fixture("bare"))
        #expect(bare.contains("  serial: absent (/proc/device-tree/serial-number unreadable or empty)"))
    }
}
