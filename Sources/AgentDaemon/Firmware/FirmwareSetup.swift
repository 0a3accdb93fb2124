import AgentCommon
import Credentials
import DTLS
import Files
import Firmware
import LwM2M

/// Builds the Firmware Update object (5) and its ``FirmwareRunner`` from the `[firmware]`
/// settings: the image store in `<state-dir>/firmware` (through the signature check when
/// packages must be signed), the state persisted before a restart, the installer, and
/// Protocol Support as this build and machine can serve it.
enum FirmwareSetup {
    /// Why object 5 cannot be served as configured.
    enum Failure: Error, CustomStringConvertible {
        case directory(String, FileError)
        case vendorKey(String, String)

        var description: String {
            switch self {
            case .directory(let path, let error): "firmware directory \(path): \(error)"
            case .vendorKey(let path, let why): "[firmware] vendor-key \(path): \(why)"
            }
        }
    }

    static func make(_ settings: FirmwareSettings, stateDirectory: String, credentials: (any CredentialStore)? = nil,
                     log: Logger) throws(Failure) -> FirmwareRunner {
        let directory = "\(stateDirectory)/firmware"
        do { try Directory.create(directory) } catch { throw .directory(directory, error) }
        let paths = FirmwarePaths(stateDirectory: stateDirectory)
        let files = FileFirmwareImageStore(stateDirectory: stateDirectory, maximumSize: settings.maximumSize,
                                           reserve: settings.reserve)
        var signed: SignedPackageStore?
        if settings.requireSignature, let keyPath = settings.vendorKey, let board = settings.boardName {
            let key: PackagePublicKey
            do {
                key = try PackagePublicKey(encoded: try FileReader.read(keyPath, maximumSize: 16_384))
            } catch {
                throw .vendorKey(keyPath, "\(error)")
            }
            signed = SignedPackageStore(files: files, key: key, board: board)
        }

        var restored: FirmwareUpdateObject.PersistentState?
        if let bytes = try? FileReader.read(paths.state, maximumSize: 65_536) {
            do {
                restored = try FirmwareUpdateObject.PersistentState(parsing: bytes)
            } catch {
                log.error("firmware: saved update state unreadable (\(error)); starting in Idle")
            }
        }
        // The state file holds the Package URI without its credentials; the whole URI is sealed.
        var uriSeal = PackageURISeal(store: credentials, log: log)
        let savedURI = restored?.packageURI
        restored?.packageURI = uriSeal.restore(savedURI)
        // A pull in progress continues from what is on disk: the partial image re-hashed.
        if let state = restored, state.state == .downloading, state.packageURI != nil {
            if let signed {
                let offset = signed.resume()
                log.notice("firmware: resuming the download at package byte \(offset)")
            } else {
                let stored = (try? files.resume()) ?? 0
                log.notice("firmware: resuming the download at byte \(stored)")
            }
        }
        let store: any FirmwareImageStore = signed ?? files
        // Protocol Support is looked up when first needed (a Read of /5/0/8, a pull), not before
        // the first Register.
        let object = FirmwareUpdateObject(acceptsPush: true, protocols: { supportedProtocols() }, store: store,
                                          restoring: restored)
        let installer = makeInstaller(settings, marker: LeftoverInstallers(stateDirectory: stateDirectory).marker)
        let runner = FirmwareRunner(object: object, settings: settings, paths: paths, installer: installer,
                                    signedStore: signed, log: log)
        runner.filesStore = files
        runner.uriSeal = uriSeal
        if installer == nil {
            log.warning("firmware: no installer configured ([firmware] installer): images download, Update fails (result 8)")
        }
        return runner
    }

    /// The configured installer; `marker` ("NAME=value", `LeftoverInstallers`) goes into the
    /// environment of every installer program it runs.
    static func makeInstaller(_ settings: FirmwareSettings, marker: String? = nil) -> (any FirmwareInstaller)? {
        let process = InstallerProcess(timeout: settings.installerTimeout, environment: marker.map { [$0] } ?? [])
        switch settings.installer {
        case nil: return nil
        case .script(let path): return ScriptHookInstaller(hook: path, process: process)
        case .rauc(let command): return RaucInstaller(command: command, process: process)
        case .swupdate(let command, let reboot, let hook):
            return SWUpdateInstaller(command: command, rebootRequired: reboot, confirmHook: hook, process: process)
        }
    }

    /// libcurl's sonames, as the downloader opens them.
    static let curlSonames = ["libcurl.so.4", "libcurl-gnutls.so.4"]

    /// Protocol Support (/5/0/8): coap always; coaps when mbedTLS is installed (the same DTLS
    /// client as the server connections, which checks the library when the download's session
    /// starts; the credentials are the Security instance of the download's host and port,
    /// `DownloadServerAccount`); http and https when libcurl is installed. Both libraries are
    /// loaded only when a download needs them, so here their presence is looked up in the dynamic
    /// linker's cache and the usual library directories. Called by the object the first time the
    /// protocols are needed.
    static func supportedProtocols() -> Set<FirmwareProtocol> {
        var protocols: Set<FirmwareProtocol> = [.coap]
        let installed = installedLibraries(among: MbedTLSLibrary.sonames + curlSonames)
        if !installed.isDisjoint(with: MbedTLSLibrary.sonames) { protocols.insert(.coaps) }
        if !installed.isDisjoint(with: curlSonames) { protocols.formUnion([.http, .https]) }
        return protocols
    }

    /// Which of `names` the dynamic linker would find, without loading any of them.
    static func installedLibraries(among names: [String]) -> Set<String> {
        var found = Set<String>()
        if let cache = try? FileReader.read("/etc/ld.so.cache", maximumSize: 8 << 20) {
            for name in names where ByteSearch.contains(cache, Array(name.utf8) + [0]) { found.insert(name) }
        }
        let directories = ["/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib",
                           "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf"]
        for name in names where !found.contains(name) {
            if directories.contains(where: { FileReader.exists("\($0)/\(name)") }) { found.insert(name) }
        }
        return found
    }
}
