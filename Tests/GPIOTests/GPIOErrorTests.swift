import GPIO
import Testing

@Suite struct GPIOErrorTests {
    @Test func chipNotFoundNamesTheChip() {
        #expect(GPIOError.chipNotFound("gw-gpio") == .chipNotFound("gw-gpio"))
        #expect(GPIOError.chipNotFound("gw-gpio") != .chipNotFound("other"))
    }
}
