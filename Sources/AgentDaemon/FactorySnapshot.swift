import AgentCommon
import LwM2M

extension AgentConfiguration {
    /// The factory snapshot the configuration describes: the bootstrap account as Security
    /// instance 0, each factory server as Security instance N and Server instance N−1 (N from
    /// 1, in file order). Secret keys are references to the credential store.
    public var factorySnapshot: ConfigurationSnapshot {
        var security = ObjectSnapshot()
        var server = ObjectSnapshot()
        if let bootstrap {
            add(bootstrap, instance: 0, isBootstrap: true, ssid: nil, to: &security)
        }
        for (index, entry) in servers.enumerated() {
            let instance = UInt16(index + 1)
            add(entry.account, instance: instance, isBootstrap: false, ssid: entry.shortServerID, to: &security)
            var resources: [UInt16: ResourceContent] = [
                0: .single(.integer(Int64(entry.shortServerID))),
                1: .single(.integer(entry.lifetime)),
                6: .single(.boolean(entry.notificationStoring)),
                7: .single(.string(entry.binding)),
            ]
            if let value = entry.defaultMinimumPeriod { resources[2] = .single(.integer(value)) }
            if let value = entry.defaultMaximumPeriod { resources[3] = .single(.integer(value)) }
            if let value = entry.priority { resources[13] = .single(.unsignedInteger(value)) }
            if let value = entry.initialDelay { resources[14] = .single(.unsignedInteger(value)) }
            if let value = entry.failureBlock { resources[15] = .single(.boolean(value)) }
            if let value = entry.bootstrapOnFailure { resources[16] = .single(.boolean(value)) }
            if let value = entry.retryCount { resources[17] = .single(.unsignedInteger(value)) }
            if let value = entry.retryTimer { resources[18] = .single(.unsignedInteger(value)) }
            if let value = entry.sequenceDelay { resources[19] = .single(.unsignedInteger(value)) }
            if let value = entry.sequenceRetryCount { resources[20] = .single(.unsignedInteger(value)) }
            server.instances[UInt16(index)] = resources
        }
        return ConfigurationSnapshot(objects: [0: security, 1: server, 2: ObjectSnapshot()])
    }

    private func add(_ account: Account, instance: UInt16, isBootstrap: Bool, ssid: UInt16?,
                     to security: inout ObjectSnapshot) {
        var resources: [UInt16: ResourceContent] = [
            0: .single(.string(account.uri)),
            1: .single(.boolean(isBootstrap)),
            2: .single(.integer(account.securityMode.rawValue)),
        ]
        if !account.identity.isEmpty { resources[3] = .single(.opaque(account.identity)) }
        if !account.serverPublicKey.isEmpty { resources[4] = .single(.opaque(account.serverPublicKey)) }
        if let ssid { resources[10] = .single(.integer(Int64(ssid))) }
        if isBootstrap {
            if account.clientHoldOffTime > 0 { resources[11] = .single(.integer(account.clientHoldOffTime)) }
            if account.bootstrapAccountTimeout > 0 { resources[12] = .single(.integer(account.bootstrapAccountTimeout)) }
        }
        if let sni = account.serverNameIndication { resources[14] = .single(.string(sni)) }
        if let usage = account.certificateUsage { resources[15] = .single(.unsignedInteger(usage)) }
        security.instances[instance] = resources
        if let secret = account.secretKey { security.secrets[instance] = [5: secret] }
    }
}
