import Board
import Files
import Testing

/// The board files of board/: every one loads, the compiled-in generic board is the file's
/// text, and each fixture machine gets the board it should.
@Suite struct ShippedBoardsTests {
    static let shipped = ["beaglebone-black", "generic-linux", "gpio-sim-vm", "imx8mp-evk",
                          "raspberrypi-4-slb9670", "raspberrypi-5-slb9670"]

    @Test func everyBoardFileLoads() throws {
        let files = try Directory.list(BoardTestPaths.boards).filter { $0.hasSuffix(".conf") }
        #expect(files.count >= Self.shipped.count)
        for file in files {
            let path = BoardTestPaths.boards + "/" + file
            let definition = try BoardCatalog.load(path)
            #expect(definition.name + ".conf" == file)
            #expect(definition.description != nil, "\(file) has no description")
        }
        let catalog = try BoardCatalog(directory: BoardTestPaths.boards)
        #expect(catalog.entries.map(\.definition.name) == files.map { String($0.dropLast(5)) })
        for name in Self.shipped {
            #expect(catalog.entries.contains { $0.definition.name == name }, "board/\(name).conf is missing")
        }
    }

    @Test func everyBoardButTheGenericOneCanBeMatched() throws {
        for entry in try BoardCatalog(directory: BoardTestPaths.boards).entries {
            let board = entry.definition
            if board.name == GenericBoard.name {
                #expect(board.compatible.isEmpty && board.dmi.isEmpty, "the generic board must never match")
            } else {
                #expect(!board.compatible.isEmpty || !board.dmi.isEmpty, "\(board.name) can only be chosen by name")
            }
        }
    }

    @Test func compiledInGenericBoardIsTheFile() throws {
        let file = try #require(BoardTestPaths.read(BoardTestPaths.boards + "/generic-linux.conf"))
        #expect(GenericBoard.text + "\n" == file, "Sources/Board/Definition/GenericBoard.swift differs from board/generic-linux.conf")
        #expect(GenericBoard.definition == (try BoardCatalog.load(BoardTestPaths.boards + "/generic-linux.conf")))
        #expect(GenericBoard.definition.reboot == .systemd)
        #expect(GenericBoard.definition.thermalZones == .auto)
        #expect(GenericBoard.definition.power.supplies == .auto)
        #expect(GenericBoard.definition.interfaces == .auto)
        #expect(!GenericBoard.definition.clockSettable)
        #expect(GenericBoard.definition.timezone == .none)
    }

    @Test(arguments: [
        ("rpi4", "raspberrypi-4-slb9670"),
        ("rpi5", "raspberrypi-5-slb9670"),
        ("beaglebone-black", "beaglebone-black"),
        ("sysfs-only-dt", "beaglebone-black"),
        ("imx8mp-evk", "imx8mp-evk"),
        ("qemu-pc", "gpio-sim-vm"),
        ("rpi-cm4", "generic-linux"),
        ("intel-nuc", "generic-linux"),
        ("bare", "generic-linux"),
    ])
    func fixtureMachineGetsItsBoard(fixture: String, board: String) throws {
        let choice = try BoardCatalog.select(nil, directory: BoardTestPaths.boards, root: BoardTestPaths.fixture(fixture))
        #expect(choice.definition.name == board, "\(fixture): \(choice.reason)")
    }

    @Test func raspberryPi4IdentityComesFromItsDeviceTree() throws {
        let root = BoardTestPaths.fixture("rpi4")
        let choice = try BoardCatalog.select(nil, directory: BoardTestPaths.boards, root: root)
        #expect(choice.reason == .compatible(entry: "raspberrypi,4-model-b", position: 0, others: []))
        let identity = choice.definition.identity
        #expect(identity.model?.resolve(in: root) == "Raspberry Pi 4 Model B Rev 1.4")
        #expect(identity.serial?.resolve(in: root) == "10000000a1b2c3d4")
        #expect(identity.manufacturer?.resolve(in: root) == "Raspberry Pi Ltd")
        #expect(choice.definition.tpm == .init(device: "/dev/tpmrm0", interface: .spi))
        #expect(choice.definition.gpios.map(\.line) == ["RELAY1", "RELAY2", "DIN1", "DIN2"])
        // The same board on a machine without those files: absent, not invented.
        #expect(identity.serial?.resolve(in: BoardTestPaths.fixture("bare")) == nil)
    }

    @Test func vmBoardIsChosenByDMIAndNamesTheGuestLines() throws {
        let choice = try BoardCatalog.select(nil, directory: BoardTestPaths.boards, root: BoardTestPaths.fixture("qemu-pc"))
        #expect(choice.reason == .dmi(patterns: ["sys_vendor:QEMU"], others: []))
        let board = choice.definition
        #expect(board.reboot == .syscall)
        #expect(board.clockSettable)
        #expect(board.timezone == .localtime)
        #expect(board.thermalZones == .none)
        #expect(board.gpios.first { $0.line == "MODEM_PWR" }?.reserved == true)
        #expect(board.identity.model?.resolve(in: BoardTestPaths.fixture("qemu-pc")) == "Standard PC (i440FX + PIIX, 1996)")
    }
}
