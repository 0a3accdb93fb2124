import Board
import Testing

/// Board files parsed: every typed value, and every kind of mistake refused with its line.
@Suite struct BoardDefinitionParsingTests {
    private func parse(_ text: String, name: String = "test") throws(BoardDefinitionError) -> BoardDefinition {
        try BoardDefinition(parsing: text, file: "/boards/\(name).conf", expectedName: name)
    }

    @Test func everyValueIsTyped() throws {
        let board = try parse("""
            [board]
            name = test
            description = A test board
            compatible = vendor,board-rev2 vendor,board
            dmi = board_vendor:Intel* product_name:NUC*
            overlays = one two

            [identity]
            manufacturer = ACME Ltd
            model = file:/proc/device-tree/model
            device-type = Gateway

            [power]
            supplies = BAT0 ACAD
            input = poe

            [thermal]
            zones = thermal_zone0 cpu-thermal

            [network]
            interfaces = eth0 wwan0

            [clock]
            settable = yes
            timezone = localtime

            [reboot]
            method = command
            command = /usr/sbin/shutdown -r now

            [tpm]
            device = /dev/tpmrm0
            interface = i2c

            [led act]
            path = /sys/class/leds/ACT

            [led fault]
            line = LED_FAULT

            [gpio relay]
            line = RELAY1
            chip = gpiochip2
            object = digital-output
            application-type = Pump
            active-low = yes
            bias = pull-down
            initial = 1
            persist = yes

            [gpio door]
            line = DOOR
            object = push-button
            bias = pull-up
            debounce = 25

            [gpio modem]
            line = MODEM_PWR
            object = digital-output
            reserved = yes
            """)
        #expect(board.name == "test")
        #expect(board.description == "A test board")
        #expect(board.compatible == ["vendor,board-rev2", "vendor,board"])
        #expect(board.dmi.map(\.description) == ["board_vendor:Intel*", "product_name:NUC*"])
        #expect(board.overlays == ["one", "two"])
        #expect(board.identity.manufacturer == .literal("ACME Ltd"))
        #expect(board.identity.model == .file("/proc/device-tree/model"))
        #expect(board.identity.serial == nil)
        #expect(board.identity.deviceType == .literal("Gateway"))
        #expect(board.power.supplies == .names(["BAT0", "ACAD"]))
        #expect(board.power.input == .powerOverEthernet)
        #expect(board.power.input?.rawValue == 4)
        #expect(board.thermalZones == .names(["thermal_zone0", "cpu-thermal"]))
        #expect(board.interfaces == .names(["eth0", "wwan0"]))
        #expect(board.clockSettable && board.timezone == .localtime)
        #expect(board.reboot == .command(path: "/usr/sbin/shutdown", arguments: ["-r", "now"]))
        #expect(board.tpm == .init(device: "/dev/tpmrm0", interface: .i2c))
        #expect(board.leds == [.init(name: "act", source: .path("/sys/class/leds/ACT")),
                               .init(name: "fault", source: .line("LED_FAULT"))])
        #expect(board.gpios.count == 3)
        let relay = board.gpios[0]
        #expect(relay.name == "relay" && relay.line == "RELAY1" && relay.chip == "gpiochip2")
        #expect(relay.object == .digitalOutput && relay.applicationType == "Pump")
        #expect(relay.activeLow && relay.bias == .pullDown && relay.initial == 1 && relay.persist && !relay.reserved)
        #expect(board.gpios[1].object == .pushButton && board.gpios[1].bias == .pullUp && board.gpios[1].initial == nil)
        #expect(board.gpios[1].debounceMilliseconds == 25 && relay.debounceMilliseconds == 0)
        #expect(board.gpios[2].reserved)
    }

    @Test func absentSectionsAreTheGenericDefaults() throws {
        let board = try parse("[board]\nname = test\n")
        #expect(board == BoardDefinition(name: "test"))
        #expect(board.power.supplies == .auto && board.power.input == nil)
        #expect(board.thermalZones == .auto && board.interfaces == .auto)
        #expect(board.reboot == .systemd && !board.clockSettable && board.timezone == .none)
        #expect(board.tpm.interface == .none && board.tpm.device == nil)
        #expect(board.identity == BoardDefinition.Identity())
    }

    @Test(arguments: [
        // (file text after "[board]\nname = test\n", expected line, part of the message)
        ("[boards]\n", 3, "unknown section [boards]"),
        ("[power]\nsupply = auto\n", 4, "unknown key \"supply\" in [power]"),
        ("[power]\nsupplies = auto\nsupplies = none\n", 5, "\"supplies\" set twice"),
        ("[clock]\n[clock]\n", 4, "appears twice"),
        ("[clock]\nsettable = maybe\n", 4, "settable \"maybe\": expected yes or no"),
        ("[clock]\nsettable = no\ntimezone = timedatectl\n", 5, "timezone \"timedatectl\": expected none or localtime"),
        ("[power]\ninput = battery\n", 4, "input \"battery\": expected dc, internal-battery"),
        ("[power]\nsupplies = auto BAT0\n", 4, "cannot be mixed"),
        ("[power]\nsupplies = BAT0 BAT0\n", 4, "listed twice"),
        ("[network]\ninterfaces = none\n", 4, "cannot be mixed with names (expected auto or names)"),
        ("[thermal]\nzones = ../../etc\n", 4, "is not a kernel object name"),
        ("[board]\n", 3, "appears twice"),
        ("[identity]\nserial = file:serial\n", 4, "file: needs an absolute path"),
        ("[identity]\nmodel = file:/proc/../etc/shadow\n", 4, "file: needs an absolute path without .."),
        ("[identity]\nmodel =\n", 4, "model is empty"),
        ("[reboot]\nmethod = halt\n", 4, "method \"halt\": expected systemd, syscall or command"),
        ("[reboot]\nmethod = systemd\ncommand = /sbin/reboot\n", 5, "command is only for method = command"),
        ("[reboot]\nmethod = command\n", 4, "method = command needs a command"),
        ("[reboot]\nmethod = command\ncommand = reboot -f\n", 5, "absolute path"),
        ("[tpm]\ndevice = /tmp/tpm\ninterface = spi\n", 4, "expected a path under /dev"),
        ("[tpm]\ndevice = /dev/tpmrm0\n", 4, "needs interface = spi"),
        ("[tpm]\ninterface = usb\n", 4, "interface \"usb\": expected spi, i2c, lpc, firmware, none"),
        ("[led]\npath = /sys/class/leds/ACT\n", 3, "[led] needs a name"),
        ("[led act]\n", 3, "needs a path"),
        ("[led act]\npath = /sys/class/leds/ACT\nline = LED\n", 5, "not both"),
        ("[led act]\npath = /sys/class/gpio/gpio4\n", 4, "expected /sys/class/leds/NAME"),
        ("[led act]\npath = /sys/class/leds/../../../etc\n", 4, "expected /sys/class/leds/NAME"),
        ("[gpio]\nline = X\nobject = digital-input\n", 3, "[gpio] needs a name"),
        ("[gpio a b]\nline = X\nobject = digital-input\n", 3, "gpio name \"a b\""),
        ("[gpio in]\nobject = digital-input\n", 3, "needs a line"),
        ("[gpio in]\nline = DIN1\n", 3, "needs an object"),
        ("[gpio in]\nline = DIN1\nobject = analog-input\n", 5, "object \"analog-input\""),
        ("[gpio in]\nline = DIN1\nobject = digital-input\ninitial = 1\n", 6, "initial is for outputs; [gpio in] is a digital-input"),
        ("[gpio btn]\nline = B\nobject = push-button\npersist = yes\n", 6, "persist is for outputs"),
        ("[gpio out]\nline = R\nobject = digital-output\ninitial = 2\n", 6, "initial \"2\": expected 0 or 1"),
        ("[gpio out]\nline = R\nobject = digital-output\nreserved = yes\ninitial = 0\n", 7, "initial on a reserved line"),
        ("[gpio out]\nline = R\nobject = digital-output\nbias = strong\n", 6, "bias \"strong\""),
        ("[gpio out]\nline = R\nobject = digital-output\ndebounce = 5\n", 6, "debounce is for inputs"),
        ("[gpio in]\nline = R\nobject = digital-input\ndebounce = 60001\n", 6, "debounce \"60001\": expected milliseconds"),
        ("[gpio in]\nline = R\nobject = digital-input\ndebounce = -1\n", 6, "debounce \"-1\""),
        ("[gpio out]\nline = R\nobject = digital-output\nactive-low = sometimes\n", 6, "active-low \"sometimes\""),
        ("[gpio a]\nline = R\nobject = digital-output\n[gpio b]\nline = R\nobject = digital-input\n", 7,
         "line \"R\" is already used by [gpio a] (line 4)"),
        ("[gpio a]\nline = R\nchip = gpiochip0\nobject = digital-output\n[gpio b]\nline = R\nobject = digital-input\n", 8,
         "already used by [gpio a]"),
        ("[led s]\nline = LED\n[gpio b]\nline = LED\nobject = digital-output\n", 6, "already used by [led s]"),
        ("[gpio a]\nline = R\nobject = digital-output\nchip = ../gpiochip0\n", 6, "chip \"../gpiochip0\""),
        ("key = value\n", 3, "unknown key \"key\" in [board]"),
        ("[clock x]\nsettable = no\n", 3, "[clock] takes no name"),
    ] as [(String, Int, String)])
    func mistakeIsRefusedWithItsLine(body: String, line: Int, message: String) {
        #expect(throws: BoardDefinitionError.self) { try parse("[board]\nname = test\n" + body) }
        do {
            _ = try parse("[board]\nname = test\n" + body)
        } catch {
            #expect(error.file == "/boards/test.conf")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("/boards/test.conf: line \(line): "))
        }
    }

    @Test func boardSectionMistakes() {
        func failure(_ text: String, name: String = "test") -> BoardDefinitionError? {
            do {
                _ = try parse(text, name: name)
                return nil
            } catch { return error }
        }
        #expect(failure("[power]\nsupplies = auto\n")?.message == "missing [board] section")
        #expect(failure("")?.message == "missing [board] section")
        #expect(failure("[board]\ndescription = x\n") == BoardDefinitionError(file: "/boards/test.conf", line: 1, "[board] needs a name"))
        #expect(failure("[board]\nname = other\n")?.message == "name \"other\" differs from the file name \"test.conf\"")
        #expect(failure("[board]\nname = other\n")?.line == 2)
        #expect(failure("[board]\nname = ../x\n", name: "../x")?.message.contains("use letters, digits") == true)
        #expect(failure("[board]\nname = test\ndmi = vendor:x\n")?.message.contains("not an attribute of /sys/class/dmi/id") == true)
        #expect(failure("[board]\nname = test\ndmi = board_vendor\n")?.message.contains("expected key:glob") == true)
        #expect(failure("[board]\nname = test\ndmi = board_vendor:a board_vendor:b\n")?.message.contains("given twice") == true)
        #expect(failure("[board]\nname = test\noverlays = ../x\n")?.message.contains("overlay \"../x\"") == true)
        #expect(failure("[board]\nname = test\n[clock\n")?.line == 3)
        #expect(failure("[board]\nname = test\njust words\n")?.line == 3)
    }

    @Test func sameLineNameOnTwoNamedChipsIsAllowed() throws {
        let board = try parse("""
            [board]
            name = test
            [gpio a]
            line = RELAY1
            chip = gpiochip0
            object = digital-output
            [gpio b]
            line = RELAY1
            chip = gpiochip1
            object = digital-output
            """)
        #expect(board.gpios.map(\.chip) == ["gpiochip0", "gpiochip1"])
    }

    @Test func hostileInputIsRefusedNotCrashed() {
        let huge = String(repeating: "x", count: 1 << 20)
        #expect(throws: BoardDefinitionError.self) { try parse("[board]\nname = test\n[identity]\nmodel = \(huge)\n") }
        #expect(throws: BoardDefinitionError.self) { try parse("[board]\nname = \(huge)\n") }
        #expect(throws: BoardDefinitionError.self) { try parse("\u{0}\u{1}\u{2}[") }
        #expect(throws: BoardDefinitionError.self) { try parse("[board]\nname = test\n[gpio \u{7}]\nline = X\nobject = digital-input\n") }
    }
}
