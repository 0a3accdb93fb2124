import AgentCommon
import LwM2M

/// A summary of the configuration the agent would use, for `lwm2m-agent state show`: the
/// accounts with their URIs, modes and Short Server IDs, and whether a secret is provisioned
/// (never the secret itself).
public enum StateReport {
    /// The report as a JSON document (one line) or indented text.
    public static func render(_ snapshot: ConfigurationSnapshot, source: String, endpointName: String,
                              json: Bool) -> String {
        let accounts = AccountSet(security: snapshot.objects[0] ?? ObjectSnapshot(),
                                  server: snapshot.objects[1] ?? ObjectSnapshot())
        func account(_ security: SecurityAccount) -> [(String, JSONValue)] {
            var members: [(String, JSONValue)] = [
                ("uri", .string(security.uri)),
                ("security_mode", .string(security.mode?.description ?? "unknown")),
                ("secret_provisioned", .bool(security.secretKey != nil)),
            ]
            if !security.identity.isEmpty {
                let printable = security.identity.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
                members.append(("identity", .string(printable ? String(decoding: security.identity, as: UTF8.self)
                                                    : "\(security.identity.count) bytes")))
            }
            return members
        }
        var servers: [JSONValue] = []
        for server in accounts.servers {
            servers.append(.object([("ssid", .number(JSONNumber(Int(server.shortServerID))))]
                + account(server.security)
                + [("lifetime", .number(JSONNumber(server.settings.lifetime))), ("binding", .string(server.settings.binding))]))
        }
        let document = JSONValue.object([
            ("endpoint", .string(endpointName)),
            ("source", .string(source)),
            ("bootstrap", accounts.bootstrap.map { .object(account($0)) } ?? .null),
            ("servers", .array(servers)),
        ])
        if json { return JSONWriter.string(document) }
        var text = "endpoint: \(endpointName)\nconfiguration: \(source)\n"
        if let bootstrap = accounts.bootstrap {
            text += "bootstrap: \(bootstrap.uri) (\(bootstrap.mode?.description ?? "unknown mode")"
                + (bootstrap.secretKey != nil ? ", secret provisioned" : "") + ")\n"
        } else {
            text += "bootstrap: none\n"
        }
        for server in accounts.servers {
            text += "server \(server.shortServerID): \(server.security.uri) (\(server.security.mode?.description ?? "unknown mode")"
                + (server.security.secretKey != nil ? ", secret provisioned" : "")
                + "), lifetime \(server.settings.lifetime) s, binding \(server.settings.binding)\n"
        }
        if accounts.servers.isEmpty { text += "servers: none\n" }
        return text
    }
}
