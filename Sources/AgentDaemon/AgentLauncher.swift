import AgentCommon
import Board
import CoAP
import Credentials
import DTLS
import Glibc
import LwM2M
import Files
import TPM
import Transport

/// Why the daemon could not start in configuration mode.
public enum AgentLaunchError: Error, CustomStringConvertible {
    case configuration(path: String, ConfigFileError)
    case unreadableConfiguration(path: String, FileError)
    case stateDirectory(FileError)
    case credentialStoreUnavailable(String)
    case accountFile(KeyFileError)
    case secretFileNeedsDevelopmentStore(String)
    case board(BoardDefinitionError)
    case firmware(String)

    public var description: String {
        switch self {
        case .configuration(let path, let error): "\(path): \(error)"
        case .unreadableConfiguration(_, let error): "cannot read the configuration: \(error)"
        case .stateDirectory(let error): "state directory: \(error)"
        case .credentialStoreUnavailable(let why): why
        case .accountFile(let error): "account file \(error)"
        case .secretFileNeedsDevelopmentStore(let path):
            "secret-key-file \(path): a key in a plain file is for credential-store = development only; provision the key into the TPM instead"
        case .board(let error): "board: \(error)"
        case .firmware(let why): why
        }
    }
}

/// Builds the running agent from a configuration file: credential store, state, objects,
/// client and runtime.
public enum AgentLauncher {
    /// Reads and checks the configuration file at `path`, then applies the factory file
    /// (`factory-file`, default `<state-dir>/factory.conf`) when it exists.
    public static func loadConfiguration(_ path: String) throws(AgentLaunchError) -> AgentConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(path)
        } catch {
            throw .unreadableConfiguration(path: path, error)
        }
        var configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration(parsing: String(decoding: bytes, as: UTF8.self), requireAccounts: false)
        } catch {
            throw .configuration(path: path, error)
        }
        if let factory = try loadFactoryFile(configuration.factoryFile) {
            do {
                try configuration.apply(factory)
            } catch {
                throw .configuration(path: configuration.factoryFile, error)
            }
        }
        do {
            try configuration.checkAccounts()
        } catch {
            throw .configuration(path: path, error)
        }
        return configuration
    }

    /// The factory file at `path`; nil when there is none.
    public static func loadFactoryFile(_ path: String) throws(AgentLaunchError) -> FactoryFile? {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(path)
        } catch {
            if error.isNotFound { return nil }
            throw .unreadableConfiguration(path: path, error)
        }
        do {
            return try FactoryFile(parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .configuration(path: path, error)
        }
    }

    /// The board this machine runs with (`board`, `board-dir`; docs/boards.md), read from the
    /// files under `root` ("/" on a board).
    public static func loadBoard(_ configuration: AgentConfiguration,
                                 root: SystemRoot = .live) throws(AgentLaunchError) -> BoardChoice {
        do {
            return try BoardCatalog.select(configuration.board, directory: configuration.boardDirectory, root: root)
        } catch {
            throw .board(error)
        }
    }

    /// The runtime for `configuration`, ready to `run()`; `device` (default: from the chosen
    /// board) says where /3/0 reads from and how Reboot reboots.
    public static func makeRuntime(_ configuration: AgentConfiguration, configurationPath: String, log: Logger,
                                   signals: SignalMonitor?, device given: DeviceInputs? = nil) throws(AgentLaunchError) -> ClientRuntime {
        // The board: the objects backed by its hardware are built from `board.definition`.
        let board = try loadBoard(configuration, root: .daemon)
        log.notice("board \(board.definition.name) (\(board.file ?? "compiled in")): \(board.reason)")
        let device = given ?? DeviceInputs(board: board.definition, configuration: configuration)
        let credentials: CredentialStore
        var signingKeys: SigningKeyStore?
        switch configuration.credentialStore {
        case .development:
            log.warning("credential-store = development: secrets live in memory only and are never saved; do not use on a deployed board")
            credentials = EphemeralCredentialStore()
        case .tpm:
            do {
                let tpm = TPMConfiguration(tcti: try TCTI(parsing: configuration.tcti),
                                           stateDirectory: configuration.stateDirectory)
                // The transport is checked now (no TPM: the daemon does not start); the TSS is
                // loaded by the first seal, unseal or signature (none for NoSec-only accounts).
                let context = try TPMContext(configuration: tpm, opening: .onFirstUse)
                credentials = TPMCredentialStore(context: context)
                signingKeys = TPMSigningKeyStore(context: context)
                log.info("credentials sealed by the TPM (\(configuration.tcti)), blobs in \(configuration.stateDirectory)")
            } catch {
                throw .credentialStoreUnavailable("TPM credential store (\(configuration.tcti)): \(error)")
            }
        }
        // Watched, so the status can tell how the store's last operation went (never what it carried).
        let monitored = MonitoredCredentialStore(credentials)
        var configuration = configuration
        try loadAccountFiles(&configuration, into: monitored)
        // Every mode: mbedTLS (PSK, X.509) and GnuTLS (raw public keys) are loaded and checked by
        // the first session that needs them, so a NoSec daemon maps neither; a missing or foreign
        // library fails that connection with a clear error, which the fallback policy handles.
        let securityModes: Set<SecurityMode> = [.noSecurity, .preSharedKey, .certificate, .rawPublicKey]
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
        case .unreadable(let why, let aside?):
            log.error("saved configuration unreadable (\(why)); moved to \(aside), starting from the factory accounts")
        case .unreadable(let why, nil):
            log.error("saved configuration unreadable (\(why)); starting from the factory accounts")
        }

        var clientConfiguration = ClientConfiguration(endpointName: configuration.endpointName)
        clientConfiguration.bootstrapOnEveryStart = configuration.bootstrapOnEveryStart
        clientConfiguration.bootstrapRetryInitial = configuration.bootstrapRetryInitial
        clientConfiguration.bootstrapRetryMaximum = configuration.bootstrapRetryMaximum
        clientConfiguration.bootstrapSessionTimeout = configuration.bootstrapSessionTimeout
        clientConfiguration.endpoint.transmission.ackTimeout = configuration.ackTimeout
        clientConfiguration.endpoint.transmission.maxRetransmit = configuration.maxRetransmit
        clientConfiguration.supportedSecurityModes = securityModes

        let requests = DeviceRequests()
        let registry = ObjectRegistry()
        let platform = KernelDevicePlatform(device.platform)
        // A Read of /3/0 serves platform readings at most 1 s old (docs/lwm2m-responder.md).
        registry.register(DeviceObject(platform: platform, freshness: DeviceInputs.readingFreshness,
                                       reboot: { requests.reboot = true },
                                       factoryReset: { requests.factoryReset = true }))
        // Temperature (3303, per thermal zone) and Connectivity Monitoring (4) from the kernel.
        let sensors = SensorObjects.make(SensorInputs(board: board.definition))
        for warning in sensors.warnings { log.warning(warning) }
        for object in sensors.objects { registry.register(object) }
        // Digital Input/Output, Push Button and Light Control (3200, 3201, 3347, 3311) on the
        // board's GPIO lines and LEDs: requested now, held until the agent exits.
        let gpio = GPIOObjects(board: board.definition, stateDirectory: configuration.stateDirectory)
        for line in gpio.summary { log.info(line) }
        for problem in gpio.problems { log.error(problem) }
        for object in gpio.objects { registry.register(object) }
        // Firmware Update (5): registered before the client is made, so the client's endpoint
        // streams Block1 writes of /5/*/0 (the registry's streaming rules).
        var firmware: FirmwareRunner?
        if configuration.firmware.enabled {
            do {
                firmware = try FirmwareSetup.make(configuration.firmware, stateDirectory: configuration.stateDirectory,
                                                  credentials: monitored, log: log)
            } catch {
                throw .firmware("\(error)")
            }
            firmware!.ackTimeout = configuration.ackTimeout
            registry.register(firmware!.object)
        }
        let client = LwM2MClient(configuration: clientConfiguration, registry: registry,
                                 factory: configuration.factorySnapshot, state: state,
                                 seed: secureRandomUInt64(), now: MonotonicClock.now())
        log.notice("endpoint \(configuration.endpointName), state in \(configuration.stateDirectory)")
        let runtime = ClientRuntime(client: client, store: store, credentials: monitored, signals: signals,
                                    log: log, deviceRequests: requests)
        runtime.signingKeys = signingKeys
        runtime.statusContext = StatusContext(
            endpoint: configuration.endpointName, stateDirectory: configuration.stateDirectory,
            board: AgentStatus.Board(name: board.definition.name, file: board.file, reason: "\(board.reason)"),
            credentialStore: configuration.credentialStore.rawValue,
            tcti: configuration.credentialStore == .tpm ? configuration.tcti : nil, credentials: monitored)
        gpio.attach(to: runtime, log: log)
        if let firmware {
            // The state as restored; logged after the first Register (at info level the line
            // looks the download protocols up).
            let object = firmware.object, restored = object.state
            runtime.attach(firmware)
            runtime.whenStarted {
                log.info("firmware update (/5): \(restored), protocols \(object.protocols.map(\.scheme).sorted().joined(separator: ", "))")
            }
        }
        runtime.reboot = (device.reboot.description, { () throws in try SystemReboot.perform(device.reboot) })
        runtime.dtlsTimers = DTLSTimers(minimum: configuration.dtlsTimeoutMinimum, maximum: configuration.dtlsTimeoutMaximum)
        runtime.reload = {
            let reloaded = try loadConfiguration(configurationPath)
            return (reloaded.factorySnapshot, reloaded.logLevel)
        }
        return runtime
    }
}

extension AgentLauncher {
    /// Reads the certificate files of every account into the configuration and, with the
    /// development store only, puts `secret-key-file` keys into the store under
    /// `factory/<account>/secret-key`.
    static func loadAccountFiles(_ configuration: inout AgentConfiguration,
                                 into credentials: CredentialStore) throws(AgentLaunchError) {
        let isDevelopmentStore = configuration.credentialStore == .development
        func load(_ account: inout AgentConfiguration.Account, name: String) throws(AgentLaunchError) {
            do {
                if let path = account.serverCertificateFile { account.serverPublicKey = try KeyFile.der(path).copyBytes() }
                if let path = account.clientCertificateFile { account.identity = try KeyFile.der(path).copyBytes() }
                if let path = account.secretKeyFile {
                    guard isDevelopmentStore else { throw AgentLaunchError.secretFileNeedsDevelopmentStore(path) }
                    let secret = account.securityMode == .preSharedKey ? try KeyFile.pskKey(path) : try KeyFile.der(path)
                    defer { secret.wipe() }
                    let id = CredentialID("factory/\(name)/secret-key")!
                    try? credentials.store(secret, as: id)
                    account.secretKey = id.rawValue
                    // RPK: /0/x/3 is the key's SubjectPublicKeyInfo when no public-key-file gives it.
                    if account.securityMode == .rawPublicKey, account.identity.isEmpty,
                       let signer = try? SoftwareSigner(privateKey: secret, random: { secureRandomBytes($0) }) {
                        account.identity = PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint)
                    }
                }
            } catch let error as KeyFileError {
                throw .accountFile(error)
            } catch let error as AgentLaunchError {
                throw error
            } catch {
                throw .credentialStoreUnavailable("\(error)")
            }
        }
        if var bootstrap = configuration.bootstrap {
            try load(&bootstrap, name: "bootstrap")
            configuration.bootstrap = bootstrap
        }
        for index in configuration.servers.indices {
            try load(&configuration.servers[index].account, name: "server-\(configuration.servers[index].shortServerID)")
        }
    }
}

/// Device-object executes (/3/0/4 Reboot, /3/0/5 Factory Reset) waiting for the loop, which
/// acts on them after their 2.04 went out.
public final class DeviceRequests {
    public var reboot = false
    public var factoryReset = false

    public init() {}
}
