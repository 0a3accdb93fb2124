import AgentCommon
import LwM2M

/// Renders an ``AgentStatus`` for `lwm2m-agent status`: one JSON document (one line, keys
/// documented in docs/operations.md) or text for people. Text escapes every control character
/// of what came from outside (URIs, a server's error text), as the logs do.
public enum StatusReport {
    /// The version of the JSON document's layout (`status_version`).
    public static let formatVersion = 1

    /// The status as JSON (one line, no trailing newline).
    public static func json(_ status: AgentStatus) -> String {
        JSONWriter.string(document(status))
    }

    /// The status as a JSON value.
    public static func document(_ status: AgentStatus) -> JSONValue {
        let now = status.daemon.now
        func number(_ value: Int64?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
        func int(_ value: Int?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
        func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func bool(_ value: Bool?) -> JSONValue { value.map { .bool($0) } ?? .null }
        func at(_ seconds: Int64?) -> JSONValue { number(seconds.map { now + $0 }) }

        let daemon = status.daemon
        let credentials = status.credentials
        var members: [(String, JSONValue)] = [
            ("status_version", .number(JSONNumber(formatVersion))),
            ("summary", .string(status.summary)),
            ("daemon", .object([
                ("version", .string(daemon.version)), ("pid", .number(JSONNumber(Int64(daemon.pid)))),
                ("endpoint", .string(daemon.endpoint)), ("uptime_s", .number(JSONNumber(daemon.uptimeSeconds))),
                ("state_dir", .string(daemon.stateDirectory)), ("time", .number(JSONNumber(now))),
            ])),
            ("board", .object([
                ("name", .string(status.board.name)), ("file", string(status.board.file)),
                ("reason", .string(status.board.reason)),
            ])),
            ("credentials", .object([
                ("store", .string(credentials.store)), ("tcti", string(credentials.tcti)),
                ("tpm_reachable", bool(credentials.tpmReachable)), ("srk_present", bool(credentials.storageKeyPresent)),
                ("seals_unseals_ok", .number(JSONNumber(credentials.keyOperationsSucceeded))),
                ("operations_ok", .number(JSONNumber(credentials.succeeded))),
                ("operations_failed", .number(JSONNumber(credentials.failed))),
                ("last_operation", credentials.lastOperation.map { operation in
                    .object([("name", .string(operation.name)), ("ok", .bool(operation.error == nil)),
                             ("error", string(operation.error)), ("seconds_ago", .number(JSONNumber(operation.secondsAgo)))])
                } ?? .null),
            ])),
        ]
        members.append(("bootstrap", status.bootstrap.map { bootstrap in
            .object([
                ("uri", .string(bootstrap.uri)), ("state", .string(bootstrap.state)),
                ("in_progress", .bool(bootstrap.inProgress)),
                ("next_attempt_in_s", number(bootstrap.nextAttemptInSeconds)), ("next_attempt_at", at(bootstrap.nextAttemptInSeconds)),
                ("failures", .number(JSONNumber(bootstrap.failures))), ("last_error", string(bootstrap.lastError)),
                ("last_error_s_ago", number(bootstrap.lastErrorSecondsAgo)),
            ])
        } ?? .null))
        members.append(("fallback", .bool(status.fallbackEngaged)))
        members.append(("stopping", .bool(status.stopping)))
        members.append(("servers", .array(status.servers.map { server in
            .object([
                ("ssid", .number(JSONNumber(Int(server.shortServerID)))), ("uri", .string(server.uri)),
                ("state", .string(server.state)), ("failing", .bool(server.isFailing)), ("location", string(server.location)),
                ("lifetime", .number(JSONNumber(server.lifetime))), ("binding", .string(server.binding)),
                ("next_update_in_s", number(server.nextUpdateInSeconds)), ("next_update_at", at(server.nextUpdateInSeconds)),
                ("next_attempt_in_s", number(server.nextAttemptInSeconds)), ("next_attempt_at", at(server.nextAttemptInSeconds)),
                ("attempt", .number(JSONNumber(server.attempt))), ("last_error", string(server.lastError)),
                ("last_error_s_ago", number(server.lastErrorSecondsAgo)), ("registered_s_ago", number(server.registeredSecondsAgo)),
                ("asleep", .bool(server.asleep)), ("observations", .array(server.observations.map { .string($0) })),
            ])
        })))
        members.append(("firmware", status.firmware.map { firmware in
            .object([
                ("state", .number(JSONNumber(firmware.state))), ("state_name", .string(firmware.stateName)),
                ("update_result", .number(JSONNumber(firmware.result))), ("update_result_text", .string(firmware.resultText)),
                ("package_name", string(firmware.packageName)), ("package_version", string(firmware.packageVersion)),
                ("download", firmware.download.map { download in
                    .object([("delivery", .string(download.delivery)), ("uri", string(download.uri)),
                             ("bytes", .number(JSONNumber(download.bytes))), ("total", number(download.total)),
                             ("percent", int(download.percent))])
                } ?? .null),
            ])
        } ?? .null))
        return .object(members)
    }

    /// The status as text for people (lines ending in "\n").
    public static func text(_ status: AgentStatus) -> String {
        let now = status.daemon.now
        let e = Logger.escaped
        func when(_ seconds: Int64) -> String { "in \(seconds) s (at \(clock(now + seconds)) UTC)" }
        var lines: [String] = []
        func add(_ label: String, _ text: String) {
            lines.append(label.isEmpty ? String(repeating: " ", count: 14) + text
                         : (label + ":").padding(to: 14) + text)
        }
        let daemon = status.daemon
        lines.append("lwm2m-agentd \(daemon.version) (pid \(daemon.pid)), up \(duration(daemon.uptimeSeconds)): \(status.summary)")
        add("endpoint", e(daemon.endpoint))
        add("state dir", e(daemon.stateDirectory))
        add("board", "\(e(status.board.name)) (\(status.board.file.map(e) ?? "compiled in")): \(e(status.board.reason))")

        let credentials = status.credentials
        var store: String
        if credentials.store == "tpm" {
            store = "TPM (\(e(credentials.tcti ?? "?"))): "
            if let key = credentials.lastKeyOperation, let error = key.error {
                store += "last \(key.name == "store" ? "seal" : "unseal") failed \(key.secondsAgo) s ago: \(e(error))"
            } else if let key = credentials.lastKeyOperation {
                store += "reachable, SRK present (last \(key.name == "store" ? "seal" : "unseal") \(key.secondsAgo) s ago)"
            } else {
                store += "transport checked at start; no seal or unseal since (SRK not checked)"
            }
        } else {
            store = "development store (secrets in memory only)"
        }
        add("credentials", store)
        if let operation = credentials.lastOperation {
            add("", "last operation: \(operation.name) \(operation.secondsAgo) s ago: "
                + (operation.error.map { "failed: \(e($0))" } ?? "ok")
                + " (\(credentials.succeeded) ok, \(credentials.failed) failed since the start)")
        }

        if let bootstrap = status.bootstrap {
            var text = "\(e(bootstrap.uri)): "
            switch bootstrap.state {
            case "idle": text += "idle"
            case "hold-off": text += "in progress: waiting out the hold-off"
            case "connecting": text += "in progress: connecting"
            case "requesting": text += "in progress: Bootstrap-Request sent"
            case "in-session": text += "in progress: the bootstrap server is configuring the agent"
            case "backing-off": text += "failing: \(bootstrap.failures) failure\(bootstrap.failures == 1 ? "" : "s")"
            default: text += bootstrap.state
            }
            if let next = bootstrap.nextAttemptInSeconds { text += "; next attempt \(when(next))" }
            add("bootstrap", text)
            if let error = bootstrap.lastError {
                add("", "last error\(bootstrap.lastErrorSecondsAgo.map { " (\($0) s ago)" } ?? ""): \(e(error))")
            }
        } else {
            add("bootstrap", "none")
        }
        if status.fallbackEngaged {
            add("fallback", "engaged: registered with the factory servers while bootstrap retries")
        }

        for server in status.servers {
            var text = "\(e(server.uri)): "
            switch server.state {
            case "registered", "updating":
                text += "registered at \(e(server.location ?? "?"))"
                if let since = server.registeredSecondsAgo { text += " for \(duration(since))" }
                text += ", lifetime \(server.lifetime) s"
                if server.state == "updating" { text += ", Update in flight" }
                if let next = server.nextUpdateInSeconds { text += ", next Update \(when(next))" }
                if server.asleep { text += " (queue mode: asleep)" }
            case "failed":
                text += "failed: retries exhausted"
            default:
                text += server.isFailing ? "failing (\(server.state))" : server.state
                if let next = server.nextAttemptInSeconds { text += "; next attempt \(when(next))" }
                if server.attempt > 0 { text += ", attempt \(server.attempt + 1)" }
            }
            add("server \(server.shortServerID)", text)
            if let error = server.lastError {
                add("", "last error\(server.lastErrorSecondsAgo.map { " (\($0) s ago)" } ?? ""): \(e(error))")
            }
            if !server.observations.isEmpty {
                add("", "observing \(server.observations.map(e).joined(separator: ", "))")
            }
        }
        if status.servers.isEmpty { add("servers", "none") }

        if let firmware = status.firmware {
            var text = "\(firmware.stateName)"
            if let download = firmware.download {
                text += " (\(download.delivery)\(download.uri.map { " " + e($0) } ?? "")): \(download.bytes)"
                if let total = download.total { text += " of \(total)" }
                text += " bytes"
                if let percent = download.percent { text += " (\(percent) %)" }
            }
            text += "; Update Result \(firmware.result) (\(firmware.resultText))"
            add("firmware", text)
            if firmware.packageName != nil || firmware.packageVersion != nil {
                add("", "package \(e(firmware.packageName ?? "?")) \(e(firmware.packageVersion ?? "?"))")
            }
        } else {
            add("firmware", "not served ([firmware] enabled = no)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "1 h 02 min", "3 min 05 s", "42 s".
    static func duration(_ seconds: Int64) -> String {
        let s = max(0, seconds)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if s >= 86_400 { return "\(s / 86_400) d \(two(s % 86_400 / 3600)) h" }
        if s >= 3600 { return "\(s / 3600) h \(two(s % 3600 / 60)) min" }
        if s >= 60 { return "\(s / 60) min \(two(s % 60)) s" }
        return "\(s) s"
    }

    /// HH:MM:SS of Unix time `seconds` (UTC).
    static func clock(_ seconds: Int64) -> String {
        let day = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day / 3600)):\(two(day % 3600 / 60)):\(two(day % 60))"
    }
}

private extension String {
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
