import GPIO
import Glibc
import Testing
import TestSupport

/// Finding chips and lines where this host has no GPIO chip: a directory of our own stands for
/// /dev. The lookups on a real chip (labels, offsets, consumers, EBUSY) are the VM test's
/// (Tests/interop/test_vm_gpio_layer.py).
@Suite struct GPIOChipLookupTests {
    /// `find` and `request` must agree on lookup errors; the result of both.
    func lookupErrors(line: String, chip: String?, devices: String) -> [GPIOError?] {
        var errors: [GPIOError?] = []
        do { _ = try GPIOChips.find(line: line, chip: chip, devices: devices); errors.append(nil) } catch { errors.append(error) }
        do {
            let configuration = GPIOLineConfiguration(line: line, chip: chip, direction: .input(edgeEvents: true))
            _ = try GPIOLine.request(configuration, consumer: "test", devices: devices)
            errors.append(nil)
        } catch { errors.append(error) }
        return errors
    }

    @Test func aChipThatDoesNotExist() throws {
        let devices = try TemporaryDirectory(prefix: "gpio-dev")
        for chip in ["gw-gpio", "gpiochip7", "7", "/nonexistent/gpiochip0"] {
            #expect(lookupErrors(line: "RELAY1", chip: chip, devices: devices.path) == [.chipNotFound(chip), .chipNotFound(chip)])
        }
    }

    @Test func aLineNoChipHas() throws {
        let devices = try TemporaryDirectory(prefix: "gpio-dev")
        #expect(lookupErrors(line: "RELAY1", chip: nil, devices: devices.path)
                == [.lineNotFound(line: "RELAY1", chip: nil), .lineNotFound(line: "RELAY1", chip: nil)])
        #expect(try GPIOChips.list(devices: devices.path).isEmpty)
    }

    @Test func aFileThatIsNoGPIOChip() throws {
        let devices = try TemporaryDirectory(prefix: "gpio-dev")
        try writeFile(devices.file("gpiochip0"), Array("not a character device".utf8))
        #expect(lookupErrors(line: "RELAY1", chip: devices.file("gpiochip0"), devices: devices.path)
                == [.chipNotFound(devices.file("gpiochip0")), .chipNotFound(devices.file("gpiochip0"))])
        // Searching every chip skips it: the line is not found, and list() leaves it out.
        #expect(lookupErrors(line: "RELAY1", chip: nil, devices: devices.path)
                == [.lineNotFound(line: "RELAY1", chip: nil), .lineNotFound(line: "RELAY1", chip: nil)])
        #expect(try GPIOChips.list(devices: devices.path).isEmpty)
    }

    @Test func aChipThisProcessMayNotOpen() throws {
        let devices = try TemporaryDirectory(prefix: "gpio-dev")
        chmod(devices.path, 0o755)  // like /dev: listable by everyone
        let chip = devices.file("gpiochip0")
        try writeFile(chip, [])
        chmod(chip, 0o000)
        let named = withoutRootFileAccess { lookupErrors(line: "RELAY1", chip: chip, devices: devices.path) }
        #expect(named == [.permissionDenied(chip), .permissionDenied(chip)])
        // Searched by name or label: the chip it could not open might hold the line, so the
        // error says permission, not "not found".
        let anyChip = withoutRootFileAccess { lookupErrors(line: "RELAY1", chip: nil, devices: devices.path) }
        #expect(anyChip == [.permissionDenied(chip), .permissionDenied(chip)])
        let byLabel = withoutRootFileAccess { lookupErrors(line: "RELAY1", chip: "gw-gpio", devices: devices.path) }
        #expect(byLabel == [.permissionDenied(chip), .permissionDenied(chip)])
        let byNumber = withoutRootFileAccess { lookupErrors(line: "RELAY1", chip: "0", devices: devices.path) }
        #expect(byNumber == [.permissionDenied(chip), .permissionDenied(chip)])
    }
}
