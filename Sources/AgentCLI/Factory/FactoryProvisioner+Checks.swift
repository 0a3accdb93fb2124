import AgentCommon
import AgentDaemon
import Credentials
import DTLS
import Files
import TPM

extension FactoryProvisioner {
    /// The accounts of the factory file, which credentials exist in the TPM store, and the
    /// public-key hashes of the TPM keys. Never secret bytes.
    public func show() throws(FactoryError) -> FactoryReport {
        var report: [(String, FactoryReport)] = [("factory-file", .text(configuration.factoryFile)),
                                                 ("factory-file-exists", .flag(FileReader.exists(configuration.factoryFile)))]
        if let template = factory.endpointName { report.append(("endpoint-template", .text(template))) }
        report.append(("endpoint-name", .text((try? endpointName()) ?? "(cannot expand)")))
        var accounts: [FactoryReport] = []
        for (account, settings) in listedAccounts() {
            var fields: [(String, FactoryReport)] = [("account", .text(account.name))]
            for setting in settings { fields.append((setting.key, .text(setting.value))) }
            if let name = FactoryFile.value("secret-key", in: settings) {
                if name.hasPrefix(FactoryFile.tpmKeyPrefix) {
                    let id = CredentialID(String(name.dropFirst(FactoryFile.tpmKeyPrefix.count)))
                    let signer = id.flatMap { try? signingKeys.existingKey($0) }
                    fields.append(("tpm-key-present", .flag(signer != nil)))
                    if let signer {
                        let spki = PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint)
                        fields.append(("public-key-sha256", .text(hexString(PublicKeyInfo.sha256(spki)))))
                    }
                } else {
                    fields.append(("sealed-secret-present", .flag(CredentialID(name).map { credentials.contains($0) } ?? false)))
                }
            }
            accounts.append(.object(fields))
        }
        report.append(("accounts", .list(accounts)))
        let sealed = (try? credentials.identifiers()) ?? []
        let keys = (try? signingKeys.keyIdentifiers()) ?? []
        report.append(("sealed-secrets", .list(sealed.map { .text($0.rawValue) })))
        report.append(("tpm-keys", .list(keys.map { .text($0.rawValue) })))
        report.append(("saved-configuration", .flag(FileReader.exists("\(configuration.stateDirectory)/configuration.json"))))
        return .object(report)
    }

    func listedAccounts() -> [(FactoryAccount, [FactoryFile.Setting])] {
        var result: [(FactoryAccount, [FactoryFile.Setting])] = []
        if let bootstrap = factory.bootstrap { result.append((.bootstrap, bootstrap)) }
        for ssid in factory.servers.keys.sorted() { result.append((.server(ssid), factory.servers[ssid]!)) }
        return result
    }

    /// Checks that the TPM answers (storage key) and the factory file exists, unseals every
    /// secret the factory file refers to (reporting its length) and signs a test digest with
    /// every TPM key it refers to, checking the signature in software. Throws
    /// `.verificationFailed` (after filling `report`) when anything failed.
    public func verify(report: inout FactoryReport) throws(FactoryError) {
        var checks: [FactoryReport] = []
        var failures = 0
        let digest = PublicKeyInfo.sha256(Array("lwm2m-agent factory verify".utf8))
        do {
            _ = try credentials.context.prepareStorageKey()
            checks.append(.object([("tpm", .text(configuration.tcti)), ("storage-key", .flag(true)), ("ok", .flag(true))]))
        } catch {
            failures += 1
            checks.append(.object([("tpm", .text(configuration.tcti)), ("ok", .flag(false)), ("error", .text("\(error)"))]))
        }
        if !FileReader.exists(configuration.factoryFile) {
            failures += 1
            checks.append(.object([("factory-file", .text(configuration.factoryFile)), ("ok", .flag(false)),
                                   ("error", .text("not provisioned: no factory file"))]))
        }
        for (account, settings) in listedAccounts() {
            guard let name = FactoryFile.value("secret-key", in: settings) else { continue }
            var fields: [(String, FactoryReport)] = [("account", .text(account.name)), ("secret-key", .text(name))]
            if name.hasPrefix(FactoryFile.tpmKeyPrefix) {
                do {
                    guard let id = CredentialID(String(name.dropFirst(FactoryFile.tpmKeyPrefix.count))),
                          let signer = try signingKeys.existingKey(id) else {
                        throw FactoryError.tpm("no such TPM key")
                    }
                    let signature = try signer.signInTPM(digest: digest)
                    guard try PublicKeyInfo.verify(signature: signature, digest: digest, signer: signer) else {
                        throw FactoryError.tpm("signature does not verify")
                    }
                    fields += [("signed", .flag(true)), ("ok", .flag(true))]
                } catch {
                    failures += 1
                    fields += [("ok", .flag(false)), ("error", .text("\(error)"))]
                }
            } else {
                do {
                    guard let id = CredentialID(name), let secret = try credentials.unseal(id) else {
                        throw FactoryError.tpm("no such sealed secret")
                    }
                    fields += [("unsealed-bytes", .number(secret.count)), ("ok", .flag(true))]
                    secret.wipe()
                } catch {
                    failures += 1
                    fields += [("ok", .flag(false)), ("error", .text("\(error)"))]
                }
            }
            checks.append(.object(fields))
        }
        report = .object([("checks", .list(checks)), ("failures", .number(failures))])
        if failures > 0 { throw .verificationFailed(failures) }
    }

    /// Factory reset of the board: removes the factory file, every sealed secret and TPM key,
    /// the imported certificates and the saved configuration.
    public func wipe() throws(FactoryError) -> FactoryReport {
        var removedSecrets = 0, removedKeys = 0
        do {
            for id in try credentials.identifiers() {
                try credentials.remove(id)
                removedSecrets += 1
            }
            for id in try signingKeys.keyIdentifiers() {
                try signingKeys.removeSigningKey(id)
                removedKeys += 1
            }
        } catch {
            throw .tpm("\(error)")
        }
        do {
            let certificates = "\(configuration.stateDirectory)/certificates"
            for name in (try? Directory.list(certificates)) ?? [] { try AtomicFile.remove("\(certificates)/\(name)") }
            try AtomicFile.remove(configuration.factoryFile)
            try AtomicFile.remove("\(configuration.stateDirectory)/configuration.json")
        } catch {
            throw .file("\(error)")
        }
        factory = FactoryFile()
        return .object([("factory-file-removed", .flag(true)), ("sealed-secrets-removed", .number(removedSecrets)),
                        ("tpm-keys-removed", .number(removedKeys)), ("saved-configuration-removed", .flag(true))])
    }
}
