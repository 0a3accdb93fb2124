import AgentCommon
import CoAP
import Glibc
import Transport

/// Why the demo server could not start.
public enum DemoServerError: Error, CustomStringConvertible {
    /// The listen URI is not `coap://` (the demo serves plain CoAP only).
    case unsupportedScheme(String)

    public var description: String {
        switch self {
        case .unsupportedScheme(let scheme): "\(scheme):// is not supported: the demo listens on coap:// only"
        }
    }
}

/// Serves ``DemoResources`` as a plain CoAP server on one socket until SIGTERM/SIGINT
/// (`lwm2m-demo`). Not part of the daemon: only the demo executable, the bench and the tests
/// link this target.
public enum DemoServer {
    /// Binds `listen`, serves until SIGTERM or SIGINT, then flushes and logs the counts.
    public static func serve(listen: String, tick: Duration, configuration: EndpointConfiguration, log: Logger) throws {
        let uri = try CoAPURI(listen)
        guard uri.scheme == .coap else { throw DemoServerError.unsupportedScheme(uri.scheme.rawValue) }
        let address = try Resolver.resolve(host: uri.host, port: uri.port)[0]
        let socket = try UDPSocket(bindingTo: address)
        let signals = try SignalMonitor()
        var demo = DemoResources(tickInterval: tick, now: MonotonicClock.now())
        var configuration = configuration
        configuration.block1Streaming.rules += demo.block1StreamRules
        let runner = EndpointRunner(sockets: [socket], configuration: configuration, wakeUp: signals.wakeUp)
        log.notice("serving demo resources on coap://\(socket.localAddress)")

        var running = true
        while running {
            let woken = try runner.runOnce(until: demo.nextDeadline) { event, endpoint, now in
                switch event {
                case .request(let request):
                    log.debug("\(request.peer) \(request.message.code) \(request.message.path)")
                    demo.handle(request, endpoint: &endpoint, at: now)
                case .observationEnded(let id, let reason):
                    log.info("observation \(id) ended: \(reason)")
                    demo.observationEnded(id)
                case .malformedDatagram(let peer, let error):
                    log.info("dropped malformed datagram from \(peer): \(error)")
                case .uploadAbandoned(let upload):
                    log.info("upload from \(upload.peer) to \(upload.request.path) abandoned (\(upload.reason))")
                    demo.uploadAbandoned(upload)
                case .response, .requestFailed, .pong:
                    break
                }
            }
            demo.tick(endpoint: &runner.endpoint, at: MonotonicClock.now())
            guard woken else { continue }
            for signal in signals.takeSignals() {
                switch signal {
                case SIGHUP: log.notice("SIGHUP: nothing to reload in demo mode")
                default:
                    log.notice("signal \(signal): stopping")
                    running = false
                }
            }
        }
        runner.flush({ _, _, _ in }, at: MonotonicClock.now())
        log.notice("stopped (\(runner.receivedCount) datagrams received, \(runner.sentCount) sent)")
    }
}
