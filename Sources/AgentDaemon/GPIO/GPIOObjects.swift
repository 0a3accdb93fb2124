import AgentCommon
import Board
import GPIO
import LwM2M
import Time
import Transport

/// The board's `[gpio NAME]` lines and `[led NAME]` LEDs as IPSO objects (docs/boards.md
/// "GPIO"): Digital Input (3200) and Push Button (3347) instances for the inputs, Digital Output
/// (3201) for the outputs, Light Control (3311) for the LEDs, each in file order.
///
/// Every line is requested at start with the agent as its consumer and stays requested until
/// the agent exits (the kernel releases it then). A line that cannot be had (not found, busy,
/// permission denied) is named in ``problems`` and gets no instance: the rest of the board is
/// still managed. Reserved lines are never requested.
public final class GPIOObjects {
    /// An input line whose edge events feed an instance.
    private struct Input {
        let name: String
        let line: GPIOLine
        let object: DigitalInputObject
        let instance: UInt16
    }

    /// The objects to register (none for a board without lines or LEDs).
    public private(set) var objects: [any LwM2MObject] = []
    /// What the operator should hear about, one line each (`[gpio relay2] GPIO line RELAY2 is
    /// busy: requested by gpioset`).
    public private(set) var problems: [String] = []
    /// What was requested, one line each, for the start-up log.
    public private(set) var summary: [String] = []
    private var inputs: [Input] = []
    /// Every requested line (outputs and LED lines too): held for the agent's lifetime.
    private var lines: [GPIOLine] = []
    private var outputStates: OutputStates

    /// The consumer name the kernel shows for the agent's lines (`gpioinfo`).
    public static let consumer = "lwm2m-agentd"

    /// Requests the lines of `board` and builds the objects; `persist = yes` outputs start from
    /// the states saved in `stateDirectory`. `root` is where `/sys/class/leds` is read.
    public init(board: BoardDefinition, stateDirectory: String, root: SystemRoot = .daemon,
                now: Instant = MonotonicClock.now(), clock: @escaping () -> Instant = MonotonicClock.now) {
        outputStates = OutputStates(stateDirectory: stateDirectory)
        problems += outputStates.problems
        var digitalInputs: [(String, DigitalInputObject.Input, GPIOLine)] = []
        var pushButtons: [(String, DigitalInputObject.Input, GPIOLine)] = []
        var outputs: [(BoardDefinition.GPIO, DigitalOutputObject.Output)] = []
        for gpio in board.gpios {
            if gpio.reserved {
                summary.append("[gpio \(gpio.name)] \(gpio.line): reserved, not requested")
                continue
            }
            var direction = GPIOLineConfiguration.Direction.input(edgeEvents: true)
            var polarity = false
            if gpio.object.isOutput {
                var state = gpio.initial == 1
                if gpio.persist, let saved = outputStates.saved[gpio.name] {
                    state = saved.state
                    polarity = saved.polarity
                }
                direction = .output(initial: state != polarity)
            }
            guard let line = request(gpio, direction) else { continue }
            switch gpio.object {
            case .digitalInput, .pushButton:
                let input = DigitalInputObject.Input(line: GPIODigitalLine(line), applicationType: gpio.applicationType,
                                                     debounce: .milliseconds(gpio.debounceMilliseconds))
                if gpio.object == .pushButton {
                    pushButtons.append((gpio.name, input, line))
                } else {
                    digitalInputs.append((gpio.name, input, line))
                }
            case .digitalOutput:
                outputs.append((gpio, DigitalOutputObject.Output(line: GPIODigitalLine(line), applicationType: gpio.applicationType,
                                                                 polarity: polarity)))
            }
        }
        addInputs(.digitalInput, digitalInputs, now: now)
        addInputs(.pushButton, pushButtons, now: now)
        addOutputs(outputs)
        addLights(board.leds, root: root, clock: clock)
    }

    /// Watches every input's edge events in `runtime`'s poll loop: each event becomes a
    /// `lineChanged` of its instance (and, through the reporting engine, a notification).
    public func attach(to runtime: ClientRuntime, log: Logger) {
        runtime.gpio = self
        saveFailed = { log.error($0) }
        for input in inputs {
            guard let fd = input.line.eventFileDescriptor else { continue }
            var failed = false
            runtime.watch(readable: fd) { now in
                do {
                    for event in try input.line.readEvents() {
                        input.object.lineChanged(input.instance, to: event.rising, at: now)
                    }
                    failed = false
                } catch {
                    if !failed { log.error("[gpio \(input.name)] edge events: \(error)") }
                    failed = true
                }
            }
        }
    }

    // MARK: - Building

    private func request(_ gpio: BoardDefinition.GPIO, _ direction: GPIOLineConfiguration.Direction) -> GPIOLine? {
        var configuration = GPIOLineConfiguration(line: gpio.line, chip: gpio.chip, direction: direction)
        configuration.activeLow = gpio.activeLow
        configuration.bias = switch gpio.bias {
        case .asIs: .asIs
        case .disable: .disable
        case .pullUp: .pullUp
        case .pullDown: .pullDown
        }
        do {
            let line = try GPIOLine.request(configuration, consumer: Self.consumer)
            lines.append(line)
            let what = switch direction {
            case .input: "input"
            case .output(let initial): "output, driven \(initial ? 1 : 0)"
            }
            summary.append("[gpio \(gpio.name)] \(gpio.line): \(line.chipName) (\(line.chipLabel)) line \(line.offset), \(what)")
            return line
        } catch {
            problems.append("[gpio \(gpio.name)] \(error); no instance for it")
            return nil
        }
    }

    private func addInputs(_ kind: DigitalInputObject.Kind, _ entries: [(String, DigitalInputObject.Input, GPIOLine)],
                           now: Instant) {
        guard !entries.isEmpty else { return }
        let object = DigitalInputObject(kind: kind, inputs: entries.map(\.1), now: now)
        for (index, entry) in entries.enumerated() {
            inputs.append(Input(name: entry.0, line: entry.2, object: object, instance: UInt16(index)))
        }
        objects.append(object)
    }

    private func addOutputs(_ entries: [(BoardDefinition.GPIO, DigitalOutputObject.Output)]) {
        guard !entries.isEmpty else { return }
        let object = DigitalOutputObject(outputs: entries.map(\.1))
        let persisted = entries.map { $0.0.persist ? $0.0.name : nil }
        object.stateChanged = { [unowned self] instance, state, polarity in
            guard Int(instance) < persisted.count, let name = persisted[Int(instance)] else { return }
            do {
                try outputStates.save(name, OutputStates.Saved(state: state, polarity: polarity))
            } catch {
                saveFailed?("[gpio \(name)] state not saved (it will not survive a restart): \(error)")
            }
        }
        objects.append(object)
    }

    /// Told when a persisted output's state could not be saved (the daemon logs it).
    public var saveFailed: ((String) -> Void)?

    private func addLights(_ leds: [BoardDefinition.LED], root: SystemRoot, clock: @escaping () -> Instant) {
        var lights: [LightControlObject.Light] = []
        for led in leds {
            let driver: any LightDriver
            switch led.source {
            case .path(let path):
                do {
                    driver = try SysfsLED(path: path, root: root)
                } catch {
                    problems.append("[led \(led.name)] \(error); no instance for it")
                    continue
                }
                summary.append("[led \(led.name)] \(path)")
            case .line(let name):
                let configuration = GPIOLineConfiguration(line: name, direction: .output(initial: false))
                do {
                    let line = try GPIOLine.request(configuration, consumer: Self.consumer)
                    lines.append(line)
                    driver = GPIOLineLight(line)
                    summary.append("[led \(led.name)] \(name): \(line.chipName) (\(line.chipLabel)) line \(line.offset), output")
                } catch {
                    problems.append("[led \(led.name)] \(error); no instance for it")
                    continue
                }
            }
            lights.append(LightControlObject.Light(driver: driver, applicationType: led.name))
        }
        guard !lights.isEmpty else { return }
        objects.append(LightControlObject(lights: lights, clock: clock))
    }
}
