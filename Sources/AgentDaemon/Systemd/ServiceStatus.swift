import LwM2M

/// The one-line state systemd shows for the daemon (`STATUS=`, in `systemctl status`), kept
/// from the client's events: "registered at coap://… as gw-42", "bootstrapping at coaps://…",
/// "registration failing: …, next attempt in 30 s", "bootstrap failed: …; factory fallback (server 1); …".
public struct ServiceStatus: Sendable {
    /// The endpoint name the registrations use.
    public let endpoint: String
    /// The bootstrap part ("bootstrapping at …", "bootstrap failed: …"; nil when none is going on).
    private var bootstrap: String?
    /// The factory servers in use after bootstrap failed (nil without the fallback).
    private var fallback: [UInt16]?
    /// Each server's part, and the URI it registers at.
    private var servers: [UInt16: String] = [:]
    private var uris: [UInt16: String] = [:]
    /// The line when there is nothing else to say.
    private var idle = "starting"

    public init(endpoint: String) { self.endpoint = endpoint }

    /// The current line.
    public var line: String {
        var parts: [String] = []
        if let bootstrap { parts.append(bootstrap) }
        if let fallback {
            parts.append("factory fallback (server\(fallback.count == 1 ? "" : "s") \(fallback.map(String.init).joined(separator: ", ")))")
        }
        let ssids = servers.keys.sorted()
        for ssid in ssids {
            parts.append(ssids.count > 1 ? "server \(ssid): \(servers[ssid]!)" : servers[ssid]!)
        }
        return parts.isEmpty ? idle : parts.joined(separator: "; ")
    }

    /// Takes in an event; returns the new line when it changed.
    public mutating func apply(_ event: ClientEvent) -> String? {
        let before = line
        switch event {
        case .bootstrapPending(let uri):
            // Servers of a fallback stay registered while bootstrap is retried.
            bootstrap = "bootstrapping at \(uri)"
        case .bootstrapFinished:
            // A new configuration: its servers' registering events follow.
            bootstrap = nil
            fallback = nil
            servers = [:]
            uris = [:]
        case .bootstrapFailed(let reason, let retry):
            bootstrap = "bootstrap failed: \(reason)" + (retry.map { ", next attempt in \(Self.seconds($0)) s" } ?? "")
        case .fallbackEngaged(let ssids):
            fallback = ssids
        case .registering(let ssid, let uri):
            uris[ssid] = uri
            servers[ssid] = "registering at \(uri)"
        case .registered(let ssid, _, _):
            servers[ssid] = "registered at \(uris[ssid] ?? "server \(ssid)") as \(endpoint)"
        case .registrationFailed(let ssid, let reason, let retry):
            servers[ssid] = "registration failing: \(reason)" + (retry.map { ", next attempt in \(Self.seconds($0)) s" } ?? "")
        case .deregistered(let ssid):
            servers[ssid] = "de-registered"
        case .disabled(let ssid, let duration):
            servers[ssid] = "disabled for \(Self.seconds(duration)) s"
        case .accountDeleted(let ssid):
            servers[ssid] = nil
            uris[ssid] = nil
        case .factoryReset:
            bootstrap = nil
            fallback = nil
            servers = [:]
            uris = [:]
            idle = "factory reset"
        case .noAccounts:
            bootstrap = "no bootstrap or server account configured: nothing to do"
        case .updating, .updated, .usingFactoryAccounts:
            break
        }
        let after = line
        return after == before ? nil : after
    }

    /// Whole seconds, rounded up (a retry in 0.2 s says 1 s); saturates for a "never".
    static func seconds(_ duration: Duration) -> Int64 {
        let (whole, attoseconds) = duration.components
        if whole < 0 { return 0 }
        return attoseconds > 0 && whole < .max ? whole + 1 : whole
    }
}
