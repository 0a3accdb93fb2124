import AgentCommon
import AgentDaemon
import Credentials
import DTLS
import Files
import TPM
import Transport

/// The factory provisioning operations behind `lwm2m-agent factory` (docs/factory-provisioning.md):
/// edits `<state-dir>/factory.conf`, seals PSK keys and generates P-256 keys in the TPM.
///
/// Every operation is idempotent: repeating it leaves the same state (a PSK is sealed again,
/// an existing TPM key is reused unless a new one is asked for).
public final class FactoryProvisioner {
    /// The agent configuration file alone (the factory file not applied).
    public let configuration: AgentConfiguration
    /// The sealed-secret store.
    public let credentials: TPMCredentialStore
    /// The TPM signing keys.
    public let signingKeys: TPMSigningKeyStore
    /// The factory file as it is now.
    public internal(set) var factory: FactoryFile

    /// Opens the TPM named by the agent configuration at `configurationPath`.
    public init(configurationPath: String) throws(FactoryError) {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(configurationPath)
        } catch {
            throw .configuration(.unreadableConfiguration(path: configurationPath, error))
        }
        do {
            configuration = try AgentConfiguration(parsing: String(decoding: bytes, as: UTF8.self), requireAccounts: false)
        } catch {
            throw .configuration(.configuration(path: configurationPath, error))
        }
        guard configuration.credentialStore == .tpm else {
            throw .usage("factory provisioning seals secrets in the TPM: set credential-store = tpm in \(configurationPath)")
        }
        do {
            factory = try AgentLauncher.loadFactoryFile(configuration.factoryFile) ?? FactoryFile()
        } catch {
            throw .configuration(error)
        }
        do {
            try Directory.create(configuration.stateDirectory)
            let tpm = TPMConfiguration(tcti: try TCTI(parsing: configuration.tcti), stateDirectory: configuration.stateDirectory)
            let context = try TPMContext(configuration: tpm)
            credentials = TPMCredentialStore(context: context)
            signingKeys = TPMSigningKeyStore(context: context)
        } catch let error as TPMError {
            throw .tpm("\(configuration.tcti): \(error)")
        } catch {
            throw .file("state directory: \(error)")
        }
    }

    /// The endpoint name the daemon will use (the factory file's template expanded).
    public func endpointName() throws(FactoryError) -> String {
        var merged = configuration
        do {
            try merged.apply(FactoryFile.identityOnly(factory))
        } catch {
            throw .configuration(.configuration(path: configuration.factoryFile, error))
        }
        return merged.endpointName
    }

    /// Sets `[identity] endpoint-name` after checking that the template expands here.
    public func setEndpoint(_ template: String) throws(FactoryError) -> FactoryReport {
        var updated = factory
        updated.endpointName = template
        var merged = configuration
        do {
            try merged.apply(FactoryFile.identityOnly(updated))
        } catch {
            throw .usage("endpoint name: \(error.message)")
        }
        try save(updated)
        return .object([("endpoint-template", .text(template)), ("endpoint-name", .text(merged.endpointName))])
    }

    /// Writes the factory file atomically (0600).
    func save(_ updated: FactoryFile) throws(FactoryError) {
        do {
            _ = try FactoryFile(parsing: updated.rendered())
        } catch {
            throw .usage("the resulting factory file would be invalid: \(error)")
        }
        do {
            try AtomicFile.write(Array(updated.rendered().utf8), to: configuration.factoryFile, mode: 0o600)
        } catch {
            throw .file("\(error)")
        }
        factory = updated
    }

    /// Where copies of an account's certificates live.
    func certificatePath(_ account: String, _ kind: String) -> String {
        "\(configuration.stateDirectory)/certificates/\(account)-\(kind).der"
    }

    /// Copies a certificate file (PEM or DER) into the state directory as DER (0644).
    func importCertificate(_ path: String, to destination: String) throws(FactoryError) {
        do {
            let der = try KeyFile.der(path)
            try Directory.create("\(configuration.stateDirectory)/certificates")
            try AtomicFile.write(der.copyBytes(), to: destination, mode: 0o644)
        } catch let error as KeyFileError {
            throw .file("\(error)")
        } catch {
            throw .file("\(error)")
        }
    }
}

extension FactoryFile {
    /// A copy with only the identity (applying it leaves the agent file's accounts alone).
    static func identityOnly(_ file: FactoryFile) -> FactoryFile {
        var copy = FactoryFile()
        copy.endpointName = file.endpointName
        return copy
    }
}
