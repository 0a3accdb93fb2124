import GPIO
import Testing

/// The configuration → libgpiod v1 request mapping, against the numbers of gpiod.h 1.6 (request
/// types: 2 input, 3 output, 6 both edges; flags: 4 active-low, 8 bias disable, 16 pull-down,
/// 32 pull-up): a renumbered or swapped constant fails here, not on a board.
@Suite struct GPIOLineConfigurationTests {
    @Test func directions() {
        #expect(GPIOLineConfiguration(line: "A", direction: .input(edgeEvents: false)).request == (2, 0))
        #expect(GPIOLineConfiguration(line: "A", direction: .input(edgeEvents: true)).request == (6, 0))
        #expect(GPIOLineConfiguration(line: "A", direction: .output(initial: true)).request == (3, 0))
        #expect(GPIOLineConfiguration(line: "A", direction: .output(initial: false)).request == (3, 0))
    }

    @Test func flags() {
        var configuration = GPIOLineConfiguration(line: "A", chip: "gw-gpio", direction: .input(edgeEvents: true))
        configuration.activeLow = true
        #expect(configuration.request == (6, 4))
        let expected: [(GPIOLineConfiguration.Bias, Int32)] = [(.asIs, 0), (.disable, 8), (.pullDown, 16), (.pullUp, 32)]
        for (bias, flag) in expected {
            configuration.bias = bias
            #expect(configuration.request == (6, 4 | flag), "bias \(bias)")
        }
        configuration.activeLow = false
        configuration.bias = .pullUp
        #expect(configuration.request == (6, 32))
    }

    @Test func defaults() {
        let configuration = GPIOLineConfiguration(line: "RELAY1", direction: .output(initial: false))
        #expect(configuration.chip == nil && !configuration.activeLow && configuration.bias == .asIs)
    }
}
