import GPIO
import Glibc
import Testing

/// The one-line texts the log and the objects' 5.00 diagnostics carry.
@Suite struct GPIOErrorTests {
    @Test func descriptionsNameTheLineTheChipAndTheCause() {
        #expect(GPIOError.chipNotFound("gw-gpio").description
                == "GPIO chip gw-gpio not found (no chip with that label, gpiochipN name or path)")
        #expect(GPIOError.lineNotFound(line: "RELAY1", chip: "gw-gpio").description
                == "GPIO line RELAY1 not found on chip gw-gpio")
        #expect(GPIOError.lineNotFound(line: "RELAY1", chip: nil).description
                == "GPIO line RELAY1 not found on any GPIO chip")
        #expect(GPIOError.lineBusy(line: "RELAY2", consumer: "gpioset").description
                == "GPIO line RELAY2 is busy: requested by gpioset")
        #expect(GPIOError.lineBusy(line: "RELAY2", consumer: nil).description
                == "GPIO line RELAY2 is busy: requested by another consumer")
        #expect(GPIOError.permissionDenied("/dev/gpiochip0").description
                == "permission denied opening GPIO chip /dev/gpiochip0 (the agent needs read-write access to it)")
        #expect(GPIOError.unsupported(line: "DIN1", what: "bias pullUp").description
                == "GPIO line DIN1: bias pullUp is not supported here")
        #expect(GPIOError.system(operation: "read", line: "DIN1", errno: EIO).description
                == "GPIO read on line DIN1 failed: Input/output error")
        #expect(GPIOError.system(operation: "open /dev/gpiochip3", line: nil, errno: ENXIO).description
                == "GPIO open /dev/gpiochip3 failed: No such device or address")
    }

    @Test func casesCompareByTheirValues() {
        #expect(GPIOError.chipNotFound("gw-gpio") != .chipNotFound("other"))
        #expect(GPIOError.lineBusy(line: "A", consumer: "x") != .lineBusy(line: "A", consumer: nil))
    }
}
