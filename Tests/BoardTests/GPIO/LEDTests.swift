import Board
import Glibc
import LwM2M
import Testing
import TestSupport

/// SysfsLED against fixture trees mirroring /sys/class/leds (Fixtures/leds-*), and scratch
/// copies for the writes.
@Suite struct LEDTests {
    @Test func readsADimmableLED() throws {
        let led = try SysfsLED(name: "rgb:status", root: SensorFixtures.root("leds-pwm"))
        #expect(led.maximumBrightness == 255)
        #expect(try led.brightness() == 64)
        #expect(led.path == "/sys/class/leds/rgb:status")
    }

    @Test func readsAnOnOffLEDByPath() throws {
        let led = try SysfsLED(path: "/sys/class/leds/ACT/", root: SensorFixtures.root("leds-gpio"))
        #expect(led.maximumBrightness == 1)
        #expect(try led.brightness() == 1)
    }

    @Test func aMissingLEDIsAClearError() {
        #expect(throws: HardwareAccessError("LED /sys/class/leds/missing not found")) {
            try SysfsLED(name: "missing", root: SensorFixtures.root("leds-gpio"))
        }
        #expect(throws: HardwareAccessError("LED name ../ACT is not a /sys/class/leds entry")) {
            try SysfsLED(name: "../ACT", root: SensorFixtures.root("leds-gpio"))
        }
    }

    @Test func aMaximumThatIsNoNumberIsRefused() {
        #expect(throws: HardwareAccessError(
            "LED /sys/class/leds/broken: /sys/class/leds/broken/max_brightness is missing or not a brightness ≥ 1")) {
            try SysfsLED(name: "broken", root: SensorFixtures.root("leds-gpio"))
        }
    }

    @Test func writesTheBrightnessInPlaceClamped() throws {
        let root = SensorFixtures.scratch(["/sys/class/leds/pwm/max_brightness": "255\n",
                                           "/sys/class/leds/pwm/brightness": "255\n"])
        let led = try SysfsLED(name: "pwm", root: SystemRoot(root))
        try led.setBrightness(7)
        #expect(try readTextFile(root + "/sys/class/leds/pwm/brightness") == "7\n")  // not "755"
        #expect(try led.brightness() == 7)
        try led.setBrightness(1000)
        #expect(try readTextFile(root + "/sys/class/leds/pwm/brightness") == "255\n")
        try led.setBrightness(-3)
        #expect(try led.brightness() == 0)
    }

    @Test func anUnwritableBrightnessIsAClearError() throws {
        let root = SensorFixtures.scratch(["/sys/class/leds/ro/max_brightness": "1\n",
                                           "/sys/class/leds/ro/brightness": "0\n"])
        chmod(root + "/sys/class/leds/ro/brightness", 0o444)
        let led = try SysfsLED(name: "ro", root: SystemRoot(root))
        let error = withoutRootFileAccess { () -> HardwareAccessError? in
            do throws(HardwareAccessError) { try led.setBrightness(1); return nil } catch { return error }
        }
        #expect(error == HardwareAccessError("cannot write LED brightness /sys/class/leds/ro/brightness: "
                                             + "Permission denied (the agent needs write access to it)"))
        #expect(try led.brightness() == 0)
    }

    @Test func aBrightnessFileGoneIsAnErrorNotZero() throws {
        let root = SensorFixtures.scratch(["/sys/class/leds/gone/max_brightness": "1\n",
                                           "/sys/class/leds/gone/brightness": "1\n"])
        let led = try SysfsLED(name: "gone", root: SystemRoot(root))
        unlink(root + "/sys/class/leds/gone/brightness")
        #expect(throws: HardwareAccessError.self) { try led.brightness() }
        #expect(throws: HardwareAccessError.self) { try led.setBrightness(1) }
    }
}
