import AgentCommon
import GPIO
import Glibc
import Time

/// `lwm2m-agent gpio …` (hidden, for tests on a real kernel and for bring-up): the GPIO layer the
/// daemon uses, driven by hand. Errors print the `GPIOError` text and exit 1.
///
///     gpio find LINE [--chip C]                        where the line is and who holds it
///     gpio get LINE [--chip C] [--active-low] [--bias B]  request as input, print the level
///     gpio set LINE 0|1 [--chip C] [--active-low] [--hold MS]  request as output, hold, release
///     gpio watch LINE [--chip C] [--active-low] [--bias B] --seconds S [--delay MS]
///                                                      request with edge events, print each event
///                                                      (--delay: let edges queue up before the first read)
enum GPIOCommand {
    static let consumer = "lwm2m-agent"

    /// One line to standard output, unbuffered (a test reads it while the command runs).
    static func say(_ text: String) { Console.output(Array((text + "\n").utf8)) }

    /// CLOCK_MONOTONIC, the clock of the events' timestamps (kernels >= 5.7).
    static func monotonicNow() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, valueOptions: ["chip", "hold", "seconds", "bias", "delay"],
                                         flagOptions: ["active-low"])
        } catch {
            CLI.usageError("\(error)")
        }
        let positional = parsed.positional
        guard positional.count >= 2 else { CLI.usageError("gpio find|get|set|watch LINE") }
        let name = positional[1]
        let chip = parsed.value("chip")
        func configuration(_ direction: GPIOLineConfiguration.Direction) -> GPIOLineConfiguration {
            var configuration = GPIOLineConfiguration(line: name, chip: chip, direction: direction)
            configuration.activeLow = parsed.flag("active-low")
            switch parsed.value("bias") {
            case "pull-up": configuration.bias = .pullUp
            case "pull-down": configuration.bias = .pullDown
            case "disable": configuration.bias = .disable
            default: break
            }
            return configuration
        }
        do throws(GPIOError) {
            switch positional[0] {
            case "find":
                let info = try GPIOChips.find(line: name, chip: chip)
                say("\(name): \(info.chipName) (\(info.chipLabel)) line \(info.offset) "
                      + (info.isUsed ? "used by \(info.consumer ?? "?")" : "free")
                      + (info.isOutput ? " output" : " input") + (info.isActiveLow ? " active-low" : ""))
            case "get":
                let line = try GPIOLine.request(configuration(.input(edgeEvents: false)), consumer: consumer)
                say("\(name) = \(try line.level() ? 1 : 0)")
            case "set":
                guard positional.count == 3, let value = Int(positional[2]), value == 0 || value == 1 else {
                    CLI.usageError("gpio set LINE 0|1")
                }
                let line = try GPIOLine.request(configuration(.output(initial: value == 1)), consumer: consumer)
                try line.setLevel(value == 1)
                say("\(name) (\(line.chipName) \(line.chipLabel) line \(line.offset)) set to \(try line.level() ? 1 : 0)")
                if let hold = parsed.value("hold").flatMap(Int.init), hold > 0 { usleep(UInt32(min(hold, 600_000)) * 1000) }
                line.release()
            case "watch":
                let seconds = parsed.value("seconds").flatMap(Int.init) ?? 5
                let line = try GPIOLine.request(configuration(.input(edgeEvents: true)), consumer: consumer)
                guard let descriptor = line.eventFileDescriptor else {
                    say("no event descriptor"); return 1
                }
                let flags = fcntl(descriptor, F_GETFL)
                // Nothing is queued yet: readEvents must come back at once (non-blocking).
                let before = monotonicNow()
                let initial = try line.readEvents()
                say("ready: level \(try line.level() ? 1 : 0), nonblocking \(flags & O_NONBLOCK != 0), "
                      + "initial events \(initial.count), drained in \((monotonicNow() - before).nanosecondsClamped / 1_000_000) ms")
                if let delay = parsed.value("delay").flatMap(Int.init), delay > 0 {
                    usleep(UInt32(min(delay, 60_000)) * 1000)
                }
                let end = monotonicNow() + .seconds(seconds)
                while monotonicNow() < end {
                    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    let left = (end - monotonicNow()).nanosecondsClamped / 1_000_000
                    guard poll(&poller, 1, Int32(max(0, min(left, 1000)))) > 0 else { continue }
                    let events = try line.readEvents()
                    say("batch of \(events.count)")
                    for event in events {
                        say("event \(event.rising ? "rising" : "falling") at \(event.timestamp.nanoseconds) ns, level now \(try line.level() ? 1 : 0)")
                    }
                }
                say("done at \(monotonicNow().nanoseconds) ns")
            default:
                CLI.usageError("gpio find|get|set|watch LINE")
            }
            return 0
        } catch {
            Console.error("lwm2m-agent: \(error.description)\n")
            return 1
        }
    }
}
