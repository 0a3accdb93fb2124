import CoAP
import Credentials
import Glibc
import LwM2M
import Storage
import Transport

/// Why the daemon could not start in configuration mode.
public enum AgentLaunchError: Error, CustomStringConvertible {
    case configuration(path: String, ConfigFileError)
    case unreadableConfiguration(path: String, FileError)
    case stateDirectory(FileError)
    case credentialStoreUnavailable(String)

    public var description: String {
        switch self {
        case .configuration(let path, let error): "\(path): \(error)"
        case .unreadableConfiguration(_, let error): "cannot read the configuration: \(error)"
        case .stateDirectory(let error): "state directory: \(error)"
        case .credentialStoreUnavailable(let why): why
        }
    }
}

/// Builds the running agent from a configuration file: credential store, state, objects,
/// client and runtime.
public enum AgentLauncher {
    /// Reads and checks the configuration file at `path`.
    public static func loadConfiguration(_ path: String) throws(AgentLaunchError) -> AgentConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            throw .unreadableConfiguration(path: path, error)
        }
        do {
            return try AgentConfiguration(parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .configuration(path: path, error)
        }
    }

    /// The runtime for `configuration`, ready to `run()`.
    public static func makeRuntime(_ configuration: AgentConfiguration, configurationPath: String, log: Logger,
                                   signals: SignalMonitor?) throws(AgentLaunchError) -> ClientRuntime {
        let credentials: CredentialStore
        switch configuration.credentialStore {
        case .development:
            log.warning("credential-store = development: secrets live in memory only and are never saved; do not use on a deployed board")
            credentials = EphemeralCredentialStore()
        case .tpm:
            throw .credentialStoreUnavailable(
                "credential-store = tpm: the TPM credential store is not in this build yet; use credential-store = development for NoSec or test setups")
        }
        let store: StateStore
        do {
            store = try StateStore(directory: configuration.stateDirectory)
        } catch {
            throw .stateDirectory(error)
        }
        var state: ConfigurationSnapshot?
        switch store.load() {
        case .none:
            log.info("no saved configuration in \(configuration.stateDirectory): starting from the factory accounts")
        case .state(let saved):
            state = saved
            log.info("loaded the saved configuration from \(store.path)")
        case .unreadable(let why, let aside):
            log.error("saved configuration unreadable (\(why)); moved to \(aside), starting from the factory accounts")
        }

        var clientConfiguration = ClientConfiguration(endpointName: configuration.endpointName)
        clientConfiguration.bootstrapOnEveryStart = configuration.bootstrapOnEveryStart
        clientConfiguration.bootstrapRetryInitial = configuration.bootstrapRetryInitial
        clientConfiguration.bootstrapRetryMaximum = configuration.bootstrapRetryMaximum
        clientConfiguration.bootstrapSessionTimeout = configuration.bootstrapSessionTimeout
        clientConfiguration.endpoint.transmission.ackTimeout = configuration.ackTimeout
        clientConfiguration.supportedSecurityModes = [.noSecurity]

        let requests = DeviceRequests()
        let registry = ObjectRegistry()
        registry.register(SystemDevice.make(serialFile: configuration.serialFile,
                                            reboot: { requests.reboot = true },
                                            factoryReset: { requests.factoryReset = true }))
        let client = LwM2MClient(configuration: clientConfiguration, registry: registry,
                                 factory: configuration.factorySnapshot, state: state, credentials: credentials,
                                 seed: secureRandomUInt64(), now: MonotonicClock.now())
        log.notice("endpoint \(configuration.endpointName), state in \(configuration.stateDirectory)")
        let runtime = ClientRuntime(client: client, store: store, credentials: credentials, signals: signals,
                                    log: log, deviceRequests: requests)
        runtime.reload = {
            let reloaded = try loadConfiguration(configurationPath)
            return (reloaded.factorySnapshot, reloaded.logLevel)
        }
        return runtime
    }
}

/// Device-object executes (/3/0/4 Reboot, /3/0/5 Factory Reset) waiting for the loop, which
/// acts on them after their 2.04 went out.
public final class DeviceRequests {
    public var reboot = false
    public var factoryReset = false

    public init() {}
}
