import CoAP

/// What a management server may do to the configuration objects — Security (0), Server (1) and
/// Access Control (2) — so that no Device Management request leaves a configuration the client
/// would itself refuse at Bootstrap-Finish, or locks a server out. The rules (docs/lwm2m-client.md,
/// "Management servers and the configuration objects"):
///
/// - Security (0): closed to management servers (4.01, `RequestHandler.bootstrapOnlyObjects`).
/// - Create on Server (1): 4.05. A Server instance needs a Security instance with its Short
///   Server ID, which only the bootstrap server can write; and a second Server instance turns
///   access control on (TS 1.1 §7.3) with no Access Control instance granting anyone anything,
///   so the creating server would lock itself out.
/// - Delete of a Server instance (its own, or another's where the ACL grants Delete): the
///   account goes as a whole — the Security instances with that Short Server ID go with it
///   (TS 1.1 §3.2: an LwM2M Server Account is a Security instance *and* its Server
///   instance). The client then de-registers from that server; with no server account left it
///   bootstraps, or uses the factory accounts (`LwM2MClient.accountsChanged`).
/// - Create and Delete on Access Control (2): 4.01 (the client keeps those instances itself).
/// - Any other change (Write, Write-Composite, Execute) that would make the configuration fail
///   `BootstrapConsistencyCheck` — when it passed before — is undone and answered 4.00 with the
///   reason. Having no server account left is not such a failure: that leads to bootstrap.
public struct ConfigurationGuard {
    let security: ProvisionedObject
    let servers: ProvisionedObject
    let accessControl: ProvisionedObject
    let check: BootstrapConsistencyCheck

    /// A guard over the client's configuration objects, checking with the security modes the
    /// outer layer supports.
    public init(security: ProvisionedObject, servers: ProvisionedObject, accessControl: ProvisionedObject,
                supportedModes: Set<SecurityMode>) {
        self.security = security
        self.servers = servers
        self.accessControl = accessControl
        check = BootstrapConsistencyCheck(supportedModes: supportedModes)
    }

    /// Whether answering `message` may change an object: not a GET (Read, Discover, Observe)
    /// or FETCH (Read-Composite, Observe-Composite), which only read. The configuration is
    /// snapshotted and checked, and the accounts re-examined, only around requests that may.
    public static func mayChange(_ message: CoAPMessage) -> Bool {
        message.code != .get && message.code != .fetch
    }

    /// Answers `message` with `handle` (the Device Management responder), enforcing the rules
    /// above around it.
    public func answer(_ message: CoAPMessage, _ handle: () -> CoAPResponse) -> CoAPResponse {
        // A Read changes nothing: no snapshots to take and compare (the served Read's hot path).
        guard Self.mayChange(message) else { return handle() }
        if message.code == .post, message.uriPath == ["1"] {
            return .error(.methodNotAllowed, "Server accounts are provisioned by the bootstrap server")
        }
        if message.uriPath.first == "2",
           (message.code == .post && message.uriPath.count == 1) || (message.code == .delete && message.uriPath.count == 2) {
            return .error(.unauthorized, "Access Control instances are kept by the client")
        }
        let before = (security.snapshot(), servers.snapshot(), accessControl.snapshot())
        let response = handle()
        guard response.code.codeClass == 2 else { return response }
        let server = servers.snapshot()
        guard server != before.1 || accessControl.snapshot() != before.2 else { return response }
        removeAccountsWithoutServerInstance(before: before.1)
        if let reason = newInconsistency(before: (before.0, before.1)) {
            security.restore(before.0)
            servers.restore(before.1)
            accessControl.restore(before.2)
            return .error(.badRequest, "the configuration would become unusable: \(reason)")
        }
        return response
    }

    /// Removes the management-server Security instances whose Short Server ID no Server
    /// instance has any more (the account's other half was deleted: it had one in `before`),
    /// and the Access Control instances that covered them. Security instances that never had a
    /// Server instance (download-server accounts, `DownloadServerAccount`) stay.
    func removeAccountsWithoutServerInstance(before: ObjectSnapshot) {
        func ssids(_ server: ObjectSnapshot) -> Set<UInt16> {
            Set(server.instances.keys.compactMap { ServerSettings(instance: $0, snapshot: server)?.shortServerID })
        }
        let remaining = ssids(servers.snapshot())
        let deleted = ssids(before).subtracting(remaining)
        let snapshot = security.snapshot()
        for instance in snapshot.instances.keys.sorted() {
            let account = SecurityAccount(instance: instance, snapshot: snapshot)
            guard !account.isBootstrap, let ssid = account.shortServerID, deleted.contains(ssid) else { continue }
            security.bootstrapDelete(instance: instance)
            let acl = accessControl.snapshot()
            for aclInstance in acl.instances.keys.sorted()
            where acl.instances[aclInstance]?[0]?.integerValue == 0 && acl.instances[aclInstance]?[1]?.integerValue == Int64(instance) {
                accessControl.bootstrapDelete(instance: aclInstance)
            }
        }
    }

    /// The consistency failure of the configuration now, when it is one the configuration
    /// `before` did not have. Running out of server accounts is not one.
    func newInconsistency(before: (ObjectSnapshot, ObjectSnapshot)) -> String? {
        do throws(BootstrapInconsistency) {
            try check.check(security: security.snapshot(), server: servers.snapshot())
            return nil
        } catch {
            switch error {
            case .noServerAccount, .onlyBootstrapAccount: return nil
            default: break
            }
            do throws(BootstrapInconsistency) {
                try check.check(security: before.0, server: before.1)
            } catch let old {
                if old == error { return nil }  // not made worse by this request
            }
            return error.description
        }
    }
}
