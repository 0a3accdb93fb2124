import AgentCommon
import CoAP
import Glibc
import Time
import Transport

/// `lwm2m-bench compare [--runs N] [--reads K] [--idle-seconds S] [--quick] [--json]
/// [--cpu C] [--agentd PATH] [--coap-server PATH]`: issue 17's goal table. Runs the C baselines
/// available here (`/bin/true`, libcoap's `coap-server-notls`) and `lwm2m-agentd` in one process
/// tree and one run, and prints metric | baseline | agent | ratio | goal | met? (docs/performance.md
/// says what each row measures and how).
struct Compare {
    var runs = 20
    var reads = 10_000
    var idleSeconds = 5.0
    var fanOutSeconds = 2.0
    var json = false
    var busyPoll = false
    var cpu: Int?
    var agentd = CompareProcess.executableDirectory() + "/lwm2m-agentd"
    var coapServer = "coap-server-notls"
    /// With a TCTI: `credential-store = tpm` (the issue's RSS goal is with the TPM store configured).
    var tpmTCTI: String?

    static let usage = """
        usage: lwm2m-bench compare [--quick] [--runs N] [--reads K] [--idle-seconds S] [--json]
                                   [--cpu C] [--busy-poll] [--agentd PATH] [--coap-server PATH] [--tpm-tcti TCTI]
          --quick           few runs (5), 300 reads per format, 1 s idle window: checks, not figures
          --runs N          starts per start-up metric (median), default 20
          --reads K         served Reads per format (and GETs of the baseline), default 10000
          --idle-seconds S  idle window of the registered daemon, default 5 (the issue's is 60)
          --cpu C           the CPU the served daemons are pinned to (default: the last allowed one)
          --tpm-tcti TCTI   the daemons use credential-store = tpm at TCTI (e.g. a swtpm:
                            swtpm:host=127.0.0.1,port=2321); default: credential-store = development
          --busy-poll       the served figures' client spins instead of sleeping in poll (takes the
                            served process's wake-up of the client out of its CPU; uses a whole CPU)
          --json            the table as JSON
        """

    static func main(arguments: [String]) {
        var compare = Compare()
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { fail("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--quick":
                compare.runs = 5; compare.reads = 300; compare.idleSeconds = 1; compare.fanOutSeconds = 0.3
            case "--runs": compare.runs = max(1, number(value(), "--runs"))
            case "--reads": compare.reads = max(10, number(value(), "--reads"))
            case "--idle-seconds": compare.idleSeconds = max(0.1, number(value(), "--idle-seconds"))
            case "--cpu": compare.cpu = number(value(), "--cpu")
            case "--agentd": compare.agentd = value()
            case "--coap-server": compare.coapServer = value()
            case "--tpm-tcti": compare.tpmTCTI = value()
            case "--json": compare.json = true
            case "--busy-poll": compare.busyPoll = true
            case "--help", "-h": print(usage); return
            case let other: fail("unknown argument \(other)\n\(usage)")
            }
            index += 1
        }
        compare.run()
    }

    static func fail(_ message: String) -> Never {
        standardError("lwm2m-bench compare: \(message)\n")
        exit(2)
    }

    static func number<Value: LosslessStringConvertible>(_ text: String, _ option: String) -> Value {
        guard let value = Value(text) else { fail("\(option): \"\(text)\" is not a number") }
        return value
    }

    /// Progress and per-figure detail, on stderr (stdout is the table).
    static func note(_ message: String) { standardError("compare: \(message)\n") }

    // MARK: - The run

    func run() {
        guard access(agentd, X_OK) == 0 else { Compare.fail("\(agentd) is not an executable (--agentd PATH)") }
        let cpus = CompareProcess.allowedCPUs()
        if let cpu, !cpus.contains(cpu) { Compare.fail("--cpu \(cpu): this process may only run on CPUs \(cpus)") }
        guard let server = try? CompareServer() else { Compare.fail("cannot open a UDP socket on 127.0.0.1") }
        var template = Array("/tmp/lwm2m-bench-compare.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { Compare.fail("mkdtemp failed") }
        let directory = String(cString: made)
        defer { if let pid = CompareProcess.spawn(["rm", "-rf", directory]) { _ = CompareProcess.waitWithCPU(pid) } }
        let served = cpu ?? cpus.last!
        let others = cpus.filter { $0 != served }
        let load = CompareProcess.read("/proc/loadavg").map { String($0.split(separator: " ").prefix(3).joined(separator: " ")) } ?? "?"
        Compare.note("agent \(agentd); served daemons pinned to CPU \(served), the bench on \(others.isEmpty ? [served] : others); load \(load)")

        // A started daemon without SWIFT_BACKTRACE re-executes itself once to set it
        // (CrashReportPolicy); the systemd unit and the init script set it, so the daemons here
        // run with it, as deployed. The by-hand figure (one exec more) goes to stderr.
        unsetenv("SWIFT_BACKTRACE")
        let (_, byHandCPU) = startCPU(runs: max(3, runs / 4))
        setenv("SWIFT_BACKTRACE", CrashReportPolicy.settings, 1)

        var rows: [CompareRow] = []
        // exec → exit CPU.
        Compare.note("exec → exit: \(runs) runs each")
        let (trueCPU, versionCPU) = startCPU(runs: runs)
        Compare.note("exec → exit: median \(CompareTable.number((versionCPU ?? 0) / 1000, 2)) ms with SWIFT_BACKTRACE set as "
                     + "the unit and init script set it, \(CompareTable.number((byHandCPU ?? 0) / 1000, 2)) ms without "
                     + "(started by hand: it re-executes itself once to set it)")
        rows.append(CompareRow(key: "exec_exit_cpu", metric: "exec → exit CPU (`--version`), median of \(runs)", unit: "ms",
                               baselineName: "/bin/true", baseline: trueCPU.map { $0 / 1000 }, agent: versionCPU.map { $0 / 1000 },
                               goal: .ratioAtMost(CompareGoals.startCPURatio)))

        // exec → registered; the last daemon stays up (pinned) for the figures of a registered daemon.
        Compare.note("exec → registered: \(runs) runs, then one pinned daemon for the served figures")
        var registered: [Double] = []
        var ownFigures: [(afterStart: Double, cpu: Double)] = []
        for index in 0..<runs {
            if let (pid, milliseconds, _) = startRegistered(server: server, directory: directory, index: index, pinTo: nil) {
                registered.append(milliseconds)
                stopDaemon(pid, server: server)
                if let figures = registeredLine("\(directory)/agentd-\(index).log") { ownFigures.append(figures) }
            }
        }
        if let afterStart = median(ownFigures.map(\.afterStart)), let cpu = median(ownFigures.map(\.cpu)) {
            Compare.note("exec → registered: median \(CompareTable.number(median(registered) ?? 0, 2)) ms; the daemon's own log "
                         + "says \(CompareTable.number(afterStart, 2)) ms after its runtime's start, CPU \(CompareTable.number(cpu, 2)) ms")
        }
        rows.append(CompareRow(key: "exec_registered", metric: "exec → registered, direct, NoSec, median of \(runs)", unit: "ms",
                               baselineName: nil, baseline: nil, agent: median(registered),
                               goal: .atMost(CompareGoals.registeredMilliseconds)))

        let agent = registeredFigures(server: server, directory: directory, served: served, others: others)

        Compare.note("coap-server-notls GET / (136 bytes): \(reads) requests")
        let baseline = coapServerFigures(served: served, others: others, directory: directory)
        for (format, name) in [(ContentFormat.lwm2mTLV, "TLV"), (ContentFormat.senmlCBOR, "SenML CBOR")] {
            rows.append(CompareRow(key: format == ContentFormat.lwm2mTLV ? "read_cpu_tlv" : "read_cpu_senml_cbor",
                                   metric: "CPU per served Read /3/0 \(name), one in flight, pinned", unit: "µs",
                                   baselineName: "coap-server-notls GET \(baseline.payload.map { "\($0)-byte" } ?? "136-byte") resource",
                                   baseline: baseline.cpuPerGet, agent: agent.readCPU[format],
                                   goal: .ratioAtMost(CompareGoals.readCPURatio)))
        }

        Compare.note("fan-out: \(fanOutSeconds) s")
        let rate = Bench.fanOut(seconds: fanOutSeconds, quiet: true)
        rows.append(CompareRow(key: "notifications_per_second", metric: "notifications/s, 1,000 observations fanned out (in process)",
                               unit: "k/s", baselineName: nil, baseline: nil, agent: rate / 1000,
                               goal: .atLeast(CompareGoals.notificationsPerSecond / 1000), decimals: 1))

        rows.append(CompareRow(key: "rss_registered", metric: "RSS when registered (VmRSS)", unit: "MiB",
                               baselineName: "coap-server-notls, serving", baseline: baseline.rss, agent: agent.rss,
                               goal: .atMost(CompareGoals.rssMiB)))
        rows.append(CompareRow(key: "anon_registered", metric: "anonymous memory when registered (RssAnon)", unit: "MiB",
                               baselineName: "coap-server-notls, serving", baseline: baseline.anon, agent: agent.anonymous,
                               goal: .atMost(CompareGoals.anonymousMiB)))

        let serverPath = resolve(coapServer)
        rows.append(CompareRow(key: "stripped_size", metric: "stripped executable", unit: "MB",
                               baselineName: "coap-server-notls + its libcoap", baseline: serverPath.flatMap { baselineSize($0, directory) },
                               agent: strippedSize(agentd, directory), goal: .atMost(CompareGoals.strippedMB)))
        rows.append(CompareRow(key: "shared_libraries", metric: "shared libraries loaded (ldd)", unit: "",
                               baselineName: "coap-server-notls", baseline: serverPath.flatMap { libraryCount($0, directory) },
                               agent: libraryCount(agentd, directory), goal: .none, decimals: 0))
        rows.append(CompareRow(key: "idle_wakeups", metric: "idle wake-ups of the registered daemon in \(CompareTable.number(idleSeconds, 1)) s",
                               unit: "", baselineName: nil, baseline: nil, agent: agent.wakeUps,
                               goal: .atMost(CompareGoals.idleWakeUps), decimals: 0))

        if json {
            var context = [("load", load), ("runs", "\(runs)"), ("reads", "\(reads)"), ("idle_seconds", "\(idleSeconds)"),
                           ("pinned_cpu", "\(served)"), ("agentd", agentd), ("busy_poll", "\(busyPoll)"),
                           ("credential_store", tpmTCTI == nil ? "development" : "tpm")]
            #if DEBUG
            context.append(("build", "debug"))
            #else
            context.append(("build", "release"))
            #endif
            print(CompareTable.json(rows, context: context))
        } else {
            print(CompareTable.markdown(rows))
            print("\nload average before the run: \(load); \(runs) runs per start-up figure, \(reads) requests per served figure"
                  + (busyPoll ? " (client busy-polling)" : ""))
        }
    }

    // MARK: - Measurements

    /// Median CPU (µs) of `/bin/true` and of `lwm2m-agentd --version`, exec to exit, alternating.
    func startCPU(runs: Int) -> (Double?, Double?) {
        var baseline: [Double] = []
        var agent: [Double] = []
        for _ in 0..<runs {
            if let pid = CompareProcess.spawn(["/bin/true"]) {
                let (cpu, ok) = CompareProcess.waitWithCPU(pid)
                if ok { baseline.append(cpu) }
            }
            if let pid = CompareProcess.spawn([agentd, "--version"]) {
                let (cpu, ok) = CompareProcess.waitWithCPU(pid)
                if ok { agent.append(cpu) }
            }
        }
        return (median(baseline), median(agent))
    }

    /// Starts the daemon with a fresh state directory and a factory NoSec account on `server`;
    /// waits for its Register. `pinTo`: (the daemon's CPU, the bench's CPUs afterwards).
    /// - Returns: pid, ms from just before exec to the Register's arrival, the agent's address.
    func startRegistered(server: CompareServer, directory: String, index: Int,
                         pinTo: (Int, [Int])?) -> (pid_t, Double, SocketAddress)? {
        let config = "\(directory)/agent-\(index).conf"
        let text = """
            [agent]
            endpoint-name = bench-gw
            state-dir = \(directory)/state-\(index)
            log-level = notice
            \(tpmTCTI.map { "credential-store = tpm\ntpm-tcti = \($0)" } ?? "credential-store = development")

            [server 101]
            uri = coap://127.0.0.1:\(server.port)
            lifetime = 86400

            """
        guard write(text, to: config) else { Compare.note("cannot write \(config)"); return nil }
        let log = "\(directory)/agentd-\(index).log"
        if let (cpu, _) = pinTo { CompareProcess.pin(toCPUs: [cpu]) }
        let start = MonotonicClock.now()
        let spawned = CompareProcess.spawn([agentd, "--config", config], stderr: log)
        if let (cpu, others) = pinTo { CompareProcess.pin(toCPUs: others.isEmpty ? [cpu] : others) }
        guard let pid = spawned else { Compare.note("cannot start \(agentd)"); return nil }
        guard let peer = server.awaitRegister(timeout: 15) else {
            Compare.note("run \(index): no Register within 15 s; its log:\n\(CompareProcess.read(log) ?? "")")
            CompareProcess.stop(pid, signal: SIGKILL)
            return nil
        }
        return (pid, Bench.toSeconds(MonotonicClock.now() - start) * 1000, peer)
    }

    /// The daemon's own figures from its log line "registered at … (X ms after start, CPU Y ms, RSS …)"
    /// (context for the exec → registered row; the row itself is measured by the bench).
    func registeredLine(_ log: String) -> (afterStart: Double, cpu: Double)? {
        guard let text = CompareProcess.read(log),
              let line = text.split(separator: "\n").first(where: { $0.contains("ms after start, CPU ") }),
              let open = line.lastIndex(of: "(") else { return nil }
        // "(9.4 ms after start, CPU 13.6 ms, RSS 14504 KiB)"
        let words = line[line.index(after: open)...].split(separator: " ")
        guard words.count > 5, let afterStart = Double(words[0]), let cpu = Double(words[5]) else { return nil }
        return (afterStart, cpu)
    }

    /// SIGTERM, answering its De-register; says so when it took long or had to be killed.
    func stopDaemon(_ pid: pid_t, server: CompareServer) {
        let seconds = CompareProcess.stop(pid) { server.servePending() }
        if let seconds, seconds < 1 { return }
        Compare.note("lwm2m-agentd \(pid) " + (seconds.map { "took \(CompareTable.number($0, 2)) s to stop on SIGTERM" }
                                                ?? "did not stop within 5 s of SIGTERM: killed"))
    }

    /// What is measured on one registered daemon pinned to CPU `served`.
    struct RegisteredFigures {
        /// µs of daemon CPU per served Read /3/0, by content format.
        var readCPU: [UInt16: Double] = [:]
        /// MiB.
        var rss: Double?
        var anonymous: Double?
        /// Voluntary context switches in the idle window.
        var wakeUps: Double?
    }

    /// Starts one more daemon pinned to `served` (the bench then runs on `others`): after
    /// registration and 0.3 s to settle, the idle window (wake-ups), its memory, then the served
    /// Reads; stopped at the end.
    func registeredFigures(server: CompareServer, directory: String, served: Int, others: [Int]) -> RegisteredFigures {
        var figures = RegisteredFigures()
        guard let (pid, _, peer) = startRegistered(server: server, directory: directory, index: runs,
                                                   pinTo: (served, others)) else { return figures }
        defer { stopDaemon(pid, server: server) }
        let settle = MonotonicClock.now()
        while Bench.toSeconds(MonotonicClock.now() - settle) < 0.3 { server.servePending() }
        let before = CompareProcess.contextSwitches(pid)
        let cpuBefore = CompareProcess.cpu(of: pid)
        sleep(seconds: idleSeconds)
        let after = CompareProcess.contextSwitches(pid)
        let idleCPU = CompareProcess.cpu(of: pid) - cpuBefore
        figures.wakeUps = Double(after.voluntary - before.voluntary)
        Compare.note("idle \(CompareTable.number(idleSeconds, 1)) s: \(after.voluntary - before.voluntary) wake-ups "
                     + "(voluntary context switches), \(after.involuntary - before.involuntary) involuntary, "
                     + "\(CompareTable.number(idleCPU.nanoseconds / 1e6, 3)) ms CPU")
        server.servePending()
        figures.rss = CompareProcess.statusKiB(pid, "VmRSS").map { $0 / 1024 }
        figures.anonymous = CompareProcess.statusKiB(pid, "RssAnon").map { $0 / 1024 }
        for format in [ContentFormat.lwm2mTLV, ContentFormat.senmlCBOR] {
            Compare.note("served Read /3/0 (format \(format)): \(reads) requests")
            figures.readCPU[format] = cpuPerGet(pid: pid, server: server, path: ["3", "0"], accept: format, to: peer)?.micros
        }
        return figures
    }

    /// Server CPU per GET (µs), one request in flight: /proc deltas of `pid` over `reads` GETs
    /// after a warm-up; the payload size of the answers.
    func cpuPerGet(pid: pid_t, server: CompareServer, path: [String], accept: UInt16?,
                   to peer: SocketAddress) -> (micros: Double, payload: Int)? {
        server.busyPoll = busyPoll
        defer { server.busyPoll = false }
        var payload = 0
        for _ in 0..<max(20, reads / 10) { payload = server.get(path, accept: accept, from: peer) ?? payload }
        let before = CompareProcess.cpu(of: pid)
        var failed = 0
        for _ in 0..<reads where server.get(path, accept: accept, from: peer) == nil { failed += 1 }
        let delta = CompareProcess.cpu(of: pid) - before
        let completed = reads - failed
        if failed > 0 { Compare.note("\(failed) of \(reads) GETs unanswered") }
        guard completed > 0, payload > 0 else { return nil }
        let tick = 1e6 / Double(sysconf(Int32(_SC_CLK_TCK)))
        Compare.note("  \(CompareTable.number(delta.nanoseconds / 1000 / Double(completed), 2)) µs per request "
                     + "(user \(CompareTable.number(delta.userTicks * tick / Double(completed), 2)), "
                     + "system \(CompareTable.number(delta.systemTicks * tick / Double(completed), 2)) from 10 ms ticks), "
                     + "\(payload)-byte payload")
        return (delta.nanoseconds / 1000 / Double(completed), payload)
    }

    /// libcoap's coap-server-notls, pinned like the agent: CPU per GET of `/` (its 136-byte
    /// index text) and its memory while serving.
    func coapServerFigures(served: Int, others: [Int], directory: String)
        -> (cpuPerGet: Double?, payload: Int?, rss: Double?, anon: Double?) {
        guard let path = resolve(coapServer) else {
            Compare.note("\(coapServer) not found (Debian: libcoap3-bin): no baseline")
            return (nil, nil, nil, nil)
        }
        // A free port: the kernel's choice for a socket closed right away.
        guard let probe = try? UDPSocket(bindingTo: .loopback(.ipv4, port: 0)) else { return (nil, nil, nil, nil) }
        let port = probe.localAddress.port
        probe.close()
        CompareProcess.pin(toCPUs: [served])
        let spawned = CompareProcess.spawn([path, "-A", "127.0.0.1", "-p", "\(port)", "-v", "0"],
                                           stderr: "\(directory)/coap-server.log")
        CompareProcess.pin(toCPUs: others.isEmpty ? [served] : others)
        guard let pid = spawned, let client = try? CompareServer() else { return (nil, nil, nil, nil) }
        defer { CompareProcess.stop(pid) }
        let peer = SocketAddress.loopback(.ipv4, port: port)
        let start = MonotonicClock.now()
        while client.get([], accept: nil, from: peer, timeout: 0.1) == nil {
            if Bench.toSeconds(MonotonicClock.now() - start) > 5 {
                Compare.note("\(path) did not answer GET / within 5 s")
                return (nil, nil, nil, nil)
            }
        }
        let figures = cpuPerGet(pid: pid, server: client, path: [], accept: nil, to: peer)
        return (figures?.micros, figures?.payload, CompareProcess.statusKiB(pid, "VmRSS").map { $0 / 1024 },
                CompareProcess.statusKiB(pid, "RssAnon").map { $0 / 1024 })
    }

    /// A stripped copy's size, MB.
    func strippedSize(_ path: String, _ directory: String) -> Double? {
        let copy = "\(directory)/stripped-\(path.split(separator: "/").last ?? "x")"
        guard let cp = CompareProcess.spawn(["cp", path, copy]), CompareProcess.waitWithCPU(cp).succeeded,
              let strip = CompareProcess.spawn(["strip", copy]), CompareProcess.waitWithCPU(strip).succeeded else {
            Compare.note("cannot strip a copy of \(path) (binutils' strip)")
            return nil
        }
        return CompareProcess.fileSize(copy).map { $0 / 1e6 }
    }

    /// The baseline's size: its executable and the libcoap it loads, each stripped.
    func baselineSize(_ path: String, _ directory: String) -> Double? {
        guard let executable = strippedSize(path, directory),
              let text = CompareProcess.output(of: ["ldd", path], directory: directory) else { return nil }
        var total = executable
        for line in text.split(separator: "\n") where line.contains("libcoap") {
            guard let arrow = line.firstRange(of: "=> ") else { continue }
            let library = line[arrow.upperBound...].split(separator: " ").first.map(String.init) ?? ""
            guard let size = strippedSize(library, directory) else { return nil }
            total += size
        }
        return total
    }

    /// Shared libraries `ldd` lists with a path (the vDSO and the dynamic loader not counted).
    func libraryCount(_ path: String, _ directory: String) -> Double? {
        guard let text = CompareProcess.output(of: ["ldd", path], directory: directory) else { return nil }
        if text.contains("not a dynamic executable") { return 0 }
        return Double(text.split(separator: "\n").filter { $0.contains("=> /") }.count)
    }

    // MARK: - Helpers

    /// nanosleep through interruptions (usleep's argument is 32 bits and, by POSIX, under 1 s).
    func sleep(seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// `name` as a path: itself if it has a slash, else the first match in PATH.
    func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return nil
    }

    func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
