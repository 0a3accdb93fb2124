import AgentCommon
import AgentDaemon
import Credentials
import DTLS
import LwM2M
import Files
import TPM
import Transport

/// The settings of one account given to `set-bootstrap` or `add-server`.
public struct FactoryAccountOptions {
    /// The server URI (`coap://` or `coaps://`).
    public var uri: String
    /// `psk`, `certificate`, `rpk` or `nosec`.
    public var securityMode: String
    /// The PSK identity (psk).
    public var pskIdentity: String?
    /// The PSK key (read from standard input or a file, never from the command line).
    public var pskKey: SecretBytes?
    /// Create a TPM key when the account has none.
    public var generateKey = false
    /// Replace the account's TPM key with a new one.
    public var regenerateKey = false
    /// /0/x/4: trust anchor or server certificate file (copied into the state directory).
    public var serverCertificateFile: String?
    /// rpk /0/x/4: the server's public key (SubjectPublicKeyInfo, DER or PEM; copied as DER).
    public var serverPublicKeyFile: String?
    /// The certificate issued for the account's TPM key (checked against it, then copied).
    public var clientCertificateFile: String?
    /// /0/x/15, `0`…`3`.
    public var certificateUsage: String?
    /// /0/x/14.
    public var serverNameIndication: String?
    /// Where to write the CSR (PEM) of the account's TPM key.
    public var csrPath: String?
    /// Where to write the TPM key's public key (PEM SubjectPublicKeyInfo).
    public var publicKeyPath: String?
    /// Further account keys (`lifetime`, `binding`, ...), checked when the file is written.
    public var extra: [FactoryFile.Setting] = []

    /// Options for an account at `uri` in `securityMode`.
    public init(uri: String, securityMode: String) {
        self.uri = uri
        self.securityMode = securityMode
    }
}

/// Which account a command is about.
public enum FactoryAccount: Sendable, Equatable {
    /// The bootstrap-server account.
    case bootstrap
    /// Factory server account N (Short Server ID).
    case server(UInt16)

    /// `bootstrap` or `server-N`: the middle of its credential names.
    public var name: String {
        switch self {
        case .bootstrap: "bootstrap"
        case .server(let ssid): "server-\(ssid)"
        }
    }

    /// `factory/<name>/secret-key`: the sealed PSK.
    public var secretID: CredentialID { CredentialID("factory/\(name)/secret-key")! }
    /// `factory/<name>/key`: the TPM signing key.
    public var keyID: CredentialID { CredentialID("factory/\(name)/key")! }
}

extension FactoryProvisioner {
    func settings(of account: FactoryAccount) -> [FactoryFile.Setting]? {
        switch account {
        case .bootstrap: factory.bootstrap
        case .server(let ssid): factory.servers[ssid]
        }
    }

    /// Configures `account`: seals its PSK or creates (or reuses) its TPM key and CSR, then
    /// writes the factory file.
    public func setAccount(_ account: FactoryAccount, _ options: FactoryAccountOptions) throws(FactoryError) -> FactoryReport {
        defer { options.pskKey?.wipe() }
        let previous = settings(of: account) ?? []
        var settings = [FactoryFile.Setting("uri", options.uri), FactoryFile.Setting("security-mode", options.securityMode)]
        var report: [(String, FactoryReport)] = [("account", .text(account.name)), ("uri", .text(options.uri)),
                                                 ("security-mode", .text(options.securityMode))]
        var stale: [CredentialID] = []
        var staleKey = false
        switch options.securityMode {
        case "psk":
            guard let identity = options.pskIdentity, !identity.isEmpty else { throw .usage("psk needs --psk-identity") }
            guard let key = options.pskKey, !key.isEmpty else { throw .usage("psk needs --psk-key-file PATH or --psk-key-stdin") }
            guard key.count <= 2048 else { throw .usage("PSK key longer than \(2048) bytes") }
            do {
                try credentials.seal(key, as: account.secretID)
            } catch {
                throw .tpm("sealing \(account.secretID): \(error)")
            }
            settings += [.init("psk-identity", identity), .init("secret-key", account.secretID.rawValue)]
            report += [("psk-identity", .text(identity)), ("secret-key", .text(account.secretID.rawValue)),
                       ("sealed-bytes", .number(key.count))]
            staleKey = true
        case "certificate":
            let (signer, spki, generated) = try useSigningKey(for: account, options, settings: &settings, report: &report)
            let clientPath = certificatePath(account.name, "client")
            if let file = options.clientCertificateFile {
                try checkCertificateMatchesKey(file, account: account)
                try importCertificate(file, to: clientPath)
                settings.append(.init("client-certificate-file", clientPath))
            } else if !generated, FactoryFile.value("client-certificate-file", in: previous) != nil {
                settings.append(.init("client-certificate-file", clientPath))
            }
            let serverPath = certificatePath(account.name, "server")
            if let file = options.serverCertificateFile {
                try importCertificate(file, to: serverPath)
                settings.append(.init("server-certificate-file", serverPath))
            } else if FactoryFile.value("server-certificate-file", in: previous) != nil {
                settings.append(.init("server-certificate-file", serverPath))
            }
            if let usage = options.certificateUsage { settings.append(.init("certificate-usage", usage)) }
            if let csrPath = options.csrPath {
                try writeCSR(signer: signer, to: csrPath)
                report.append(("csr", .text(csrPath)))
            }
            try exportPublicKey(spki, options, report: &report)
            stale.append(account.secretID)
        case "rpk":
            // Seed 004: the TPM key is the device's identity; the hash of its public key is what
            // the operator registers out of band; the server's key is pinned.
            let (_, spki, _) = try useSigningKey(for: account, options, settings: &settings, report: &report)
            let ownPath = certificatePath(account.name, "public-key")
            do {
                try Directory.create("\(configuration.stateDirectory)/certificates")
                try AtomicFile.write(spki, to: ownPath, mode: 0o644)
            } catch {
                throw .file("\(error)")
            }
            settings.append(.init("public-key-file", ownPath))
            let serverPath = certificatePath(account.name, "server-public-key")
            if let file = options.serverPublicKeyFile {
                try importServerPublicKey(file, to: serverPath)
            } else if FactoryFile.value("server-public-key-file", in: previous) == nil {
                throw .usage("rpk needs --server-public-key-file (the server's public key, pinned)")
            }
            settings.append(.init("server-public-key-file", serverPath))
            try exportPublicKey(spki, options, report: &report)
            stale.append(account.secretID)
        case "nosec":
            stale.append(account.secretID)
            staleKey = true
        default:
            throw .usage("--security-mode must be psk, certificate, rpk or nosec")
        }
        if let sni = options.serverNameIndication { settings.append(.init("sni", sni)) }
        settings += options.extra
        var updated = factory
        switch account {
        case .bootstrap: updated.bootstrap = settings
        case .server(let ssid): updated.servers[ssid] = settings
        }
        try save(updated)
        for id in stale { try? credentials.remove(id) }
        if staleKey { try? signingKeys.removeSigningKey(account.keyID) }
        return .object(report)
    }

    /// The account's TPM key: the existing one, or a new one when asked for (or absent).
    /// The account's TPM key for the certificate and rpk modes (``signingKey(for:_:)``), named in
    /// `settings` (`secret-key tpm-key:…`) and in `report` (with the SHA-256 of its public key).
    /// - Returns: the key, its SubjectPublicKeyInfo, and whether it was made now.
    func useSigningKey(for account: FactoryAccount, _ options: FactoryAccountOptions,
                       settings: inout [FactoryFile.Setting], report: inout [(String, FactoryReport)])
        throws(FactoryError) -> (TPMSigner, [UInt8], Bool) {
        let (signer, generated) = try signingKey(for: account, options)
        settings.append(.init("secret-key", FactoryFile.tpmKeyPrefix + account.keyID.rawValue))
        let spki = PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint)
        report += [("secret-key", .text(FactoryFile.tpmKeyPrefix + account.keyID.rawValue)),
                   ("key-generated", .flag(generated)),
                   ("public-key-sha256", .text(hexString(PublicKeyInfo.sha256(spki))))]
        return (signer, spki, generated)
    }

    /// Writes the public key as PEM to `--public-key PATH` when asked, and names the file in `report`.
    func exportPublicKey(_ spki: [UInt8], _ options: FactoryAccountOptions, report: inout [(String, FactoryReport)]) throws(FactoryError) {
        guard let publicKeyPath = options.publicKeyPath else { return }
        try writePublicKey(spki, to: publicKeyPath)
        report.append(("public-key", .text(publicKeyPath)))
    }

    func signingKey(for account: FactoryAccount, _ options: FactoryAccountOptions) throws(FactoryError) -> (TPMSigner, Bool) {
        do {
            if !options.regenerateKey, let existing = try signingKeys.existingKey(account.keyID) { return (existing, false) }
            guard options.generateKey || options.regenerateKey else {
                throw FactoryError.usage("\(options.securityMode) needs a TPM key: add --generate-key")
            }
            return (try signingKeys.generateKey(account.keyID), true)
        } catch let error as FactoryError {
            throw error
        } catch {
            throw .tpm("key \(account.keyID): \(error)")
        }
    }

    /// Copies the server's public key (PEM or DER SubjectPublicKeyInfo) as DER, refusing
    /// anything but an ECDSA P-256 key (what the RPK suites use).
    func importServerPublicKey(_ path: String, to destination: String) throws(FactoryError) {
        let der: [UInt8]
        do { der = try KeyFile.der(path).copyBytes() } catch { throw .file("\(error)") }
        if let problem = RawPublicKeyShape.problem(der) { throw .file("\(path): the server's public key \(problem)") }
        do {
            try Directory.create("\(configuration.stateDirectory)/certificates")
            try AtomicFile.write(der, to: destination, mode: 0o644)
        } catch {
            throw .file("\(error)")
        }
    }

    /// Writes a PEM CSR with CN = the endpoint name, signed by `signer`.
    func writeCSR(signer: Signer, to path: String) throws(FactoryError) {
        let name = try endpointName()
        let pem: String
        do {
            try MbedTLSGuard.check()
            pem = try CertificateRequest.pem(commonName: name, signer: signer, random: { secureRandomBytes($0) })
        } catch {
            throw .tpm("CSR: \(error)")
        }
        do {
            try AtomicFile.write(Array(pem.utf8), to: path, mode: 0o644)
        } catch {
            throw .file("\(error)")
        }
    }

    /// Writes a public key as PEM (`-----BEGIN PUBLIC KEY-----`).
    func writePublicKey(_ spki: [UInt8], to path: String) throws(FactoryError) {
        let base64 = Array(Base64.encode(spki).utf8)
        var pem = "-----BEGIN PUBLIC KEY-----\n"
        for start in stride(from: 0, to: base64.count, by: 64) {
            pem += String(decoding: base64[start..<min(start + 64, base64.count)], as: UTF8.self) + "\n"
        }
        pem += "-----END PUBLIC KEY-----\n"
        do {
            try AtomicFile.write(Array(pem.utf8), to: path, mode: 0o644)
        } catch {
            throw .file("\(error)")
        }
    }

    /// Writes a new CSR for the account's existing TPM key.
    public func writeCSR(_ account: FactoryAccount, to path: String) throws(FactoryError) -> FactoryReport {
        let signer: TPMSigner?
        do { signer = try signingKeys.existingKey(account.keyID) } catch { throw .tpm("\(error)") }
        guard let signer else { throw .usage("\(account.name) has no TPM key (set it up with --generate-key)") }
        try writeCSR(signer: signer, to: path)
        let spki = PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint)
        return .object([("account", .text(account.name)), ("csr", .text(path)),
                        ("public-key-sha256", .text(hexString(PublicKeyInfo.sha256(spki))))])
    }

    /// Attaches the certificate issued for the account's TPM key.
    public func setCertificate(_ account: FactoryAccount, file: String) throws(FactoryError) -> FactoryReport {
        guard var settings = settings(of: account), FactoryFile.value("security-mode", in: settings) == "certificate" else {
            throw .usage("\(account.name) is not a certificate account")
        }
        let path = certificatePath(account.name, "client")
        try checkCertificateMatchesKey(file, account: account)
        try importCertificate(file, to: path)
        settings.removeAll { $0.key == "client-certificate-file" }
        settings.append(.init("client-certificate-file", path))
        var updated = factory
        switch account {
        case .bootstrap: updated.bootstrap = settings
        case .server(let ssid): updated.servers[ssid] = settings
        }
        try save(updated)
        return .object([("account", .text(account.name)), ("client-certificate-file", .text(path))])
    }

    /// Throws unless the certificate in `file` is for the account's TPM key.
    func checkCertificateMatchesKey(_ file: String, account: FactoryAccount) throws(FactoryError) {
        let signer: TPMSigner?
        do { signer = try signingKeys.existingKey(account.keyID) } catch { throw .tpm("\(error)") }
        guard let signer else { throw .usage("\(account.name) has no TPM key (set it up with --generate-key)") }
        let certificateKey: [UInt8]
        do {
            let der = try KeyFile.der(file)
            certificateKey = try PublicKeyInfo.der(ofCertificate: der.copyBytes())
        } catch let error as KeyFileError {
            throw .file("\(error)")
        } catch {
            throw .file("\(file): not an X.509 certificate (\(error))")
        }
        guard certificateKey == PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint) else {
            throw .file("\(file): the certificate is for another key than \(account.keyID)")
        }
    }

    /// Removes factory server `ssid`, its sealed secret, key and certificates.
    public func removeServer(_ ssid: UInt16) throws(FactoryError) -> FactoryReport {
        let account = FactoryAccount.server(ssid)
        let existed = factory.servers[ssid] != nil
        var updated = factory
        updated.servers[ssid] = nil
        try save(updated)
        try? credentials.remove(account.secretID)
        try? signingKeys.removeSigningKey(account.keyID)
        try? AtomicFile.remove(certificatePath(account.name, "client"))
        try? AtomicFile.remove(certificatePath(account.name, "server"))
        try? AtomicFile.remove(certificatePath(account.name, "public-key"))
        try? AtomicFile.remove(certificatePath(account.name, "server-public-key"))
        return .object([("account", .text(account.name)), ("removed", .flag(existed))])
    }
}
