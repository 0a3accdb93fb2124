// lwm2m-edge-probe: the edge → notification latency of issue 13, measured inside the VM guest
// (one clock). It toggles a gpio-sim input through its sysfs pull file and times the agent's
// notification datagram as it leaves the guest (an AF_PACKET socket on the interface: the
// kernel's timestamp of the outgoing packet). Glibc only; see Arguments.usage and
// docs/vm-tests.md ("Benchmark: edge → notification").
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

func printError(_ message: String) {
    let line = Array("lwm2m-edge-probe: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

let arguments: Arguments
do {
    arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError(error.reason)
    printError(Arguments.usage)
    exit(2)
}

do {
    let sniffer = try PacketSniffer(interface: arguments.interface)
    let pull = try PullFile(path: arguments.pullPath)
    var benchmark = EdgeBenchmark(arguments: arguments, sniffer: sniffer, pull: pull)
    try benchmark.run()
    for line in benchmark.summaryLines() { print(line) }
    exit(benchmark.lost == 0 ? 0 : 1)
} catch {
    printError(error.description)
    exit(3)
}
