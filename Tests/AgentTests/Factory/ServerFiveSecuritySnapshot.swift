@testable import AgentDaemon
import LwM2M

/// The Security object (/0) made from a configuration with one account, `[server 5]` at
/// coaps://dm.example:5684 (endpoint gw-1), in `securityMode` with `secretKey`: what the account
/// tests (RPK, X.509 with a TPM key) edit before making their `SecurityAccount` of instance 1.
func serverFiveSecuritySnapshot(securityMode: String, secretKey: String) throws -> ObjectSnapshot {
    let configuration = try AgentConfiguration(parsing: """
        [agent]
        state-dir = /tmp/unused
        endpoint-name = gw-1
        [server 5]
        uri = coaps://dm.example:5684
        security-mode = \(securityMode)
        secret-key = \(secretKey)
        """)
    return configuration.factorySnapshot.objects[0]!
}
