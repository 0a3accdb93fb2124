import AgentDemo
import CoAP
import Glibc
import LwM2M
import Transport

/// `lwm2m-bench`: throughput and CPU figures for the CoAP engine. Build with
/// `swift build -c release` and run `.build/release/lwm2m-bench [codec|loopback|all] [seconds]`
/// (or `dtls [rounds]`). `lwm2m-bench compare [--quick] [--json] …` prints issue 17's goal table:
/// the C baselines and `lwm2m-agentd` measured in one run (Compare.swift, docs/performance.md).
@main
struct Bench {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let which = arguments.first ?? "all"
        let seconds = arguments.count > 1 ? Double(arguments[1]) ?? 3 : 3
        #if DEBUG
        if which == "compare" {
            standardError("warning: debug build; figures are meaningless (use swift build -c release)\n")
        } else {
            print("warning: debug build; figures are meaningless (use swift build -c release)")
        }
        #endif
        // Issue 17's goal table: C baselines and the daemon in one run (Compare.swift).
        if which == "compare" { return Compare.main(arguments: Array(arguments.dropFirst())) }
        if which == "codec" || which == "all" { codec(seconds: seconds) }
        if which == "engine" || which == "all" { engine(seconds: seconds) }
        if which == "loopback" || which == "all" {
            let text = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("21.5".utf8))
            loopback("GET /bench", path: ["bench"], accept: nil, seconds: seconds) { _ in text }
        }
        if which == "dtls" { dtls(rounds: arguments.count > 1 ? Int(arguments[1]) ?? 200 : 200) }
        if which == "responder" {
            // Only the in-process Read /3/0 loop (TLV then SenML CBOR), for profiling.
            let registry = ObjectRegistry()
            registry.register(DeviceSnapshot.make(info: .demo, currentTime: 1_795_000_000, reboot: {}))
            for format in [ContentFormat.lwm2mTLV, ContentFormat.senmlCBOR] {
                var request = CoAPMessage(type: .confirmable, code: .get, messageID: 1, token: Token(value: 1, count: 4))
                request.uriPath = ["3", "0"]
                request.accept = format
                var bytes = 0
                let start = MonotonicClock.now()
                while toSeconds(MonotonicClock.now() - start) < seconds {
                    for _ in 0..<1000 { bytes &+= RequestHandler().handle(request, registry: registry).payload.count }
                }
                print("responder loop \(format): \(bytes) bytes")
            }
        }
        if which == "lwm2m" || which == "all" {
            // The LwM2M responder reading the whole Device object, as a management server would.
            let registry = ObjectRegistry()
            registry.register(DeviceSnapshot.make(info: .demo, currentTime: 1_795_000_000, reboot: {}))
            let handler = RequestHandler()
            for (name, format) in [("TLV", ContentFormat.lwm2mTLV), ("SenML CBOR", ContentFormat.senmlCBOR)] {
                // The responder alone, without CoAP or sockets.
                var request = CoAPMessage(type: .confirmable, code: .get, messageID: 1, token: Token(value: 1, count: 4))
                request.uriPath = ["3", "0"]
                request.accept = format
                var bytes = 0
                let start = MonotonicClock.now()
                for _ in 0..<20_000 { bytes &+= handler.handle(request, registry: registry).payload.count }
                let micros = toSeconds(MonotonicClock.now() - start) * 1e6 / 20_000
                print("responder: Read /3/0 as \(name): \(Bench.format(micros)) µs per request without CoAP or sockets (\(bytes / 20_000) bytes)")
                // Where that goes: collecting the records, and encoding them.
                let records = try! registry.records(at: LwM2MPath(3, 0))
                var count = 0
                var clock = MonotonicClock.now()
                for _ in 0..<20_000 { count &+= try! registry.records(at: LwM2MPath(3, 0)).count }
                let collect = toSeconds(MonotonicClock.now() - clock) * 1e6 / 20_000
                clock = MonotonicClock.now()
                for _ in 0..<20_000 { count &+= try! PayloadCodec.encode(records, base: LwM2MPath(3, 0), format: format).count }
                let encode = toSeconds(MonotonicClock.now() - clock) * 1e6 / 20_000
                print("responder: of which \(Bench.format(collect)) µs collecting \(records.count) records, "
                      + "\(Bench.format(encode)) µs encoding them (checksum \(count))")
            }
            fanOut(seconds: seconds)
            for (name, format) in [("TLV", ContentFormat.lwm2mTLV), ("SenML CBOR", ContentFormat.senmlCBOR)] {
                loopback("Read /3/0 as \(name)", path: ["3", "0"], accept: format, seconds: seconds) {
                    handler.handle($0, registry: registry)
                }
            }
        }
    }

    // MARK: - Codec

    static func codec(seconds: Double) {
        var get = CoAPMessage(type: .confirmable, code: .get, messageID: 0x1234, token: Token(value: 0xA1B2C3D4, count: 4))
        get.uriPath = ["3", "0"]
        get.accept = ContentFormat.lwm2mTLV
        var content = CoAPMessage(type: .acknowledgement, code: .content, messageID: 0x1234,
                                  token: Token(value: 0xA1B2C3D4, count: 4))
        content.contentFormat = ContentFormat.lwm2mTLV
        content.payload = Array(repeating: 0xC8, count: 64)
        let messages = [get, content]

        var checksum = 0
        var count = 0
        let start = MonotonicClock.now()
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        while MonotonicClock.now() - start < limit {
            for _ in 0..<10_000 {
                let message = messages[count & 1]
                buffer.removeAll(keepingCapacity: true)
                try! message.encode(into: &buffer)
                let decoded = try! CoAPMessage(decoding: buffer)
                checksum &+= decoded.options.count &+ decoded.payload.count
                count += 1
            }
        }
        let elapsed = toSeconds(MonotonicClock.now() - start)
        print("codec: \(format(Double(count) / elapsed)) messages/s encoded+decoded "
              + "(GET /3/0 and a 64-byte 2.05 alternately; \(count) in \(format(elapsed)) s; checksum \(checksum))")
    }

    // MARK: - Notification fan-out

    /// The issue's target "1,000 observations on changing resources fanned out (≥ 50 k
    /// notifications/s)": 1,000 peers observe Current Time (/3/0/13) as SenML CBOR through a
    /// `CoAPEndpoint` and the `ReportingEngine`; each round sets a new time, takes the change
    /// in, and sends (drains) the 1,000 NON notifications. No sockets.
    /// - Returns: the notifications per second (`quiet`: without printing them).
    @discardableResult
    static func fanOut(seconds: Double, quiet: Bool = false) -> Double {
        let registry = ObjectRegistry()
        let device = DeviceSnapshot.make(info: .demo, currentTime: 1_795_000_000, reboot: {})
        registry.register(device)
        let handler = RequestHandler()
        var attributes = AttributeStore()
        var reporting = ReportingEngine()
        var endpoint = CoAPEndpoint<Int>(seed: 1)
        var now = MonotonicClock.now()
        let observers = 1000
        for peer in 0..<observers {
            var request = CoAPMessage(type: .confirmable, code: .get, messageID: UInt16(peer),
                                      token: Token(value: UInt64(peer), count: 4))
            request.uriPath = ["3", "0", "13"]
            request.accept = ContentFormat.senmlCBOR
            request.observe = 0
            endpoint.receive(try! request.encoded(), from: peer, at: now)
            while let event = endpoint.nextEvent() {
                guard case .request(let incoming) = event else { continue }
                let response = handler.handle(incoming.message, registry: registry, attributes: &attributes)
                if let id = endpoint.respond(to: incoming.exchange, with: response, acceptObservation: true, at: now) {
                    reporting.observe(path: LwM2MPath(3, 0, 13), observation: id, format: ContentFormat.senmlCBOR,
                                      registry: registry, attributes: attributes, at: now)
                }
            }
        }
        endpoint.drainDatagrams { _ in }
        _ = registry.takeChanges()

        var time: Int64 = 1_795_000_000
        var notifications = 0
        var bytes = 0
        let start = MonotonicClock.now()
        let cpuStart = ThreadCPU.now()
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        while MonotonicClock.now() - start < limit {
            time += 1
            now += .seconds(1)
            try! device.set(LwM2MPath(3, 0, 13), .time(time))
            for notification in reporting.update(changed: registry.takeChanges(), registry: registry,
                                                 attributes: attributes, at: now)
            where endpoint.notify(notification.observation, with: notification.response, at: now) {
                notifications += 1
            }
            endpoint.drainDatagrams { bytes &+= $0.bytes.count }
        }
        let elapsed = toSeconds(MonotonicClock.now() - start)
        let cpu = ThreadCPU.now() - cpuStart
        let cpuMicros = cpu.user + cpu.system
        let rate = Double(notifications) / elapsed
        if quiet { return rate }
        print("fan-out: \(format(rate)) notifications/s to \(observers) observers of /3/0/13 "
              + "(SenML CBOR, NON, no sockets), \(format(cpuMicros / Double(max(notifications, 1)))) µs CPU each "
              + "(\(notifications) in \(format(elapsed)) s, \(bytes / max(notifications, 1)) bytes each)")
        return rate
    }

    // MARK: - Engine without sockets

    /// The endpoint alone: a CON GET fed in, the application answers, the response drained —
    /// the user-space share of serving a request, with no system calls.
    static func engine(seconds: Double) {
        var endpoint = CoAPEndpoint<SocketAddress>(seed: 1)
        let peer = SocketAddress.loopback(.ipv4, port: 40000)
        var request = CoAPMessage(type: .confirmable, code: .get, messageID: 0, token: Token(value: 0x42, count: 4))
        request.uriPath = ["bench"]
        var bytes = try! request.encoded()
        let response = CoAPResponse(.content, contentFormat: ContentFormat.textPlain, payload: Array("21.5".utf8))
        var id: UInt16 = 0
        var sent = 0
        var count = 0
        let start = MonotonicClock.now()
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        while MonotonicClock.now() - start < limit {
            let now = MonotonicClock.now()
            for _ in 0..<10_000 {
                id &+= 1
                bytes[2] = UInt8(id >> 8)
                bytes[3] = UInt8(truncatingIfNeeded: id)
                endpoint.receive(bytes, from: peer, at: now)
                while let event = endpoint.nextEvent() {
                    if case .request(let incoming) = event {
                        endpoint.respond(to: incoming.exchange, with: response, at: now)
                    }
                }
                endpoint.drainDatagrams { sent &+= $0.bytes.count }
                count += 1
            }
        }
        let elapsed = toSeconds(MonotonicClock.now() - start)
        print("engine: \(format(Double(count) / elapsed)) GET/s through the endpoint without sockets, "
              + "\(format(elapsed * 1e6 / Double(count))) µs each (decode, dedup, dispatch, respond, encode; \(sent) bytes out)")
    }

    // MARK: - Loopback

    /// Serves `answer` on 127.0.0.1 in a second thread; this thread is a minimal raw-UDP client
    /// sending GET `path` with one request in flight, so the figures are the server's.
    static func loopback(
        _ name: String, path: [String], accept: UInt16?, seconds: Double,
        answer: @escaping (CoAPMessage) -> CoAPResponse
    ) {
        let server = BenchServer(answer: answer)
        let port = server.socket.localAddress.port
        var thread = pthread_t()
        let context = Unmanaged.passRetained(server).toOpaque()
        pthread_create(&thread, nil, { raw in
            let server = Unmanaged<BenchServer>.fromOpaque(raw!).takeRetainedValue()
            server.run()
            return nil
        }, context)

        let client = try! UDPSocket(family: .ipv4)
        let target = SocketAddress.loopback(.ipv4, port: port)
        var request = CoAPMessage(type: .confirmable, code: .get, messageID: 0, token: Token(value: 0x42, count: 4))
        request.uriPath = path
        request.accept = accept
        var bytes = try! request.encoded()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buffer.deallocate() }

        func exchange(_ id: UInt16) -> Bool {
            bytes[2] = UInt8(id >> 8)
            bytes[3] = UInt8(truncatingIfNeeded: id)
            _ = try? client.send(bytes, to: target)
            // The client busy-polls its socket so its own wake-up latency stays out of the figures
            // (it only measures the server); it gives up after a second without an answer.
            let sent = MonotonicClock.now()
            while true {
                guard let (count, _) = try? client.receive(into: buffer) else {
                    if MonotonicClock.now() - sent > .seconds(1) { return false }
                    continue
                }
                if count >= 4, buffer[2] == bytes[2], buffer[3] == bytes[3],
                   buffer[1] == CoAPCode.content.rawValue { return true }
            }
        }
        // Warm up, then measure.
        var id: UInt16 = 0
        for _ in 0..<2000 { id &+= 1; _ = exchange(id) }
        server.resetCounters()
        let start = MonotonicClock.now()
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        var completed = 0
        var lost = 0
        while MonotonicClock.now() - start < limit {
            for _ in 0..<1000 {
                id &+= 1
                if exchange(id) { completed += 1 } else { lost += 1 }
            }
        }
        let elapsed = toSeconds(MonotonicClock.now() - start)
        server.stop()
        pthread_join(thread, nil)
        let serverCPU = server.cpu
        print("loopback \(name): \(format(Double(completed) / elapsed)) requests/s served, one in flight "
              + "(\(completed) in \(format(elapsed)) s, \(lost) lost, \(server.responseSize) bytes per response)")
        let perRequest = { (micros: Double) in format(micros / Double(max(completed, 1))) }
        print("loopback \(name): \(perRequest(serverCPU.user + serverCPU.system)) µs server CPU per request: "
              + "\(perRequest(serverCPU.user)) µs in user space (engine, run loop, libc wrappers), "
              + "\(perRequest(serverCPU.system)) µs in the kernel (poll, recvfrom, sendto, wake-ups)")
    }

    static func toSeconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double) -> String {
        if value >= 1e6 { return "\(Double(Int(value / 1e4)) / 100) M" }
        if value >= 1e4 { return "\(Double(Int(value / 10)) / 100) k" }
        return "\(Double(Int(value * 100)) / 100)"
    }
}

/// The server side of the loopback benchmark: an EndpointRunner answering with `answer`.
final class BenchServer: @unchecked Sendable {
    let answer: (CoAPMessage) -> CoAPResponse  // used on the server thread only
    /// Payload size of the last response (for the report).
    private(set) var responseSize = 0
    let socket: UDPSocket
    let runner: EndpointRunner
    let wakeUp = try! WakeUpSignal()
    private var stopping = false
    private var cpuAtReset = ThreadCPU()
    private var cpuAtStop = ThreadCPU()
    private var resetRequested = false
    // Heap-allocated: `&storedProperty` from two threads would be an exclusivity conflict.
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(answer: @escaping (CoAPMessage) -> CoAPResponse) {
        self.answer = answer
        socket = try! UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        runner = EndpointRunner(sockets: [socket], wakeUp: wakeUp)
        pthread_mutex_init(lock, nil)
    }

    func run() {
        while true {
            pthread_mutex_lock(lock)
            let stop = stopping
            if resetRequested { cpuAtReset = ThreadCPU.now(); resetRequested = false }
            pthread_mutex_unlock(lock)
            if stop { break }
            try? runner.runOnce { event, endpoint, now in
                if case .request(let request) = event {
                    let response = answer(request.message)
                    responseSize = response.payload.count
                    endpoint.respond(to: request.exchange, with: response, at: now)
                }
            }
        }
        pthread_mutex_lock(lock)
        cpuAtStop = ThreadCPU.now()
        pthread_mutex_unlock(lock)
    }

    func resetCounters() {
        pthread_mutex_lock(lock); resetRequested = true; pthread_mutex_unlock(lock)
        wakeUp.signal()
        usleep(20_000)
    }

    /// Server-thread CPU (user + system) between `resetCounters` and the end of `run`, in µs.
    /// Read after the thread has been joined.
    var cpu: ThreadCPU { cpuAtStop - cpuAtReset }

    func stop() {
        pthread_mutex_lock(lock); stopping = true; pthread_mutex_unlock(lock)
        wakeUp.signal()
    }
}

/// User and system CPU time of a thread, in µs.
struct ThreadCPU {
    var user: Double = 0
    var system: Double = 0

    /// The calling thread's CPU time so far (getrusage RUSAGE_THREAD).
    static func now() -> ThreadCPU {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (not imported by Glibc)
        func micro(_ t: timeval) -> Double { Double(t.tv_sec) * 1e6 + Double(t.tv_usec) }
        return ThreadCPU(user: micro(usage.ru_utime), system: micro(usage.ru_stime))
    }

    static func - (lhs: ThreadCPU, rhs: ThreadCPU) -> ThreadCPU {
        ThreadCPU(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
    }
}
