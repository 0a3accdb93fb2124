@testable import AgentDaemon
import CoAP
import Credentials
import DTLS
import Firmware
import LwM2M
import Testing
import Transport

// Issue 14 (h-coaps): a coaps Package URI takes the DTLS credentials of the Security instance
// for its host and port, built as for a server connection, from the accounts' secret store.

private let key: [UInt8] = Array(0..<16)

/// A Security object with a NoSec management account (/0/1) and a PSK download account (/0/2)
/// for `downloadURI` whose key is `fw/key` in the credential store.
private func security(downloadURI: String) -> ObjectSnapshot {
    var snapshot = ObjectSnapshot()
    snapshot.instances[1] = [0: .single(.string("coap://dm.example")), 1: .single(.boolean(false)),
                             2: .single(.integer(3)), 10: .single(.integer(101))]
    snapshot.instances[2] = [0: .single(.string(downloadURI)), 1: .single(.boolean(false)),
                             2: .single(.integer(0)), 3: .single(.opaque(Array("gw-fw".utf8))),
                             10: .single(.integer(102))]
    snapshot.secrets[2] = [5: "fw/key"]
    return snapshot
}

private func credentials() throws -> EphemeralCredentialStore {
    let store = EphemeralCredentialStore()
    try store.store(SecretBytes(key), as: CredentialID("fw/key")!)
    return store
}

@Suite struct FirmwareDownloadCredentialsTests {
    @Test func theMatchingAccountsPSKIsUsedForTheDownloadsHost() throws {
        let timers = DTLSTimers(minimum: .milliseconds(300), maximum: .seconds(5))
        let result = FirmwareDownloadCredentials.configuration(
            for: try CoAPURI("coaps://FW.example/images/1"), security: security(downloadURI: "coaps://fw.example:5684"),
            credentials: try credentials(), signingKeys: nil, timers: timers)
        guard case .success(let (instance, configuration)) = result,
              case .psk(let identity, let secret) = configuration.authentication else {
            Issue.record("expected a PSK configuration, got \(result)")
            return
        }
        #expect(instance == 2)
        #expect(identity == Array("gw-fw".utf8) && secret.copyBytes() == key)
        #expect(configuration.serverName == "fw.example")
        #expect(configuration.handshakeTimeoutMin == .milliseconds(300) && configuration.handshakeTimeoutMax == .seconds(5))
    }

    @Test func noMatchingAccountIsNoCredentialsWithUpdateResult7() throws {
        let result = FirmwareDownloadCredentials.configuration(
            for: try CoAPURI("coaps://fw.example:6000/fw"), security: security(downloadURI: "coaps://fw.example"),
            credentials: try credentials(), signingKeys: nil, timers: DTLSTimers())
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error == .noCredentials(
            "no Security instance (/0) has the Server URI coaps://fw.example:6000 (a bootstrap server writes one for a download server)"))
        #expect(error.updateResultCode == 7 && !error.isResumable)
    }

    @Test func aMissingSecretIsNoCredentialsNamingTheInstanceNotTheKey() throws {
        let result = FirmwareDownloadCredentials.configuration(
            for: try CoAPURI("coaps://fw.example/fw"), security: security(downloadURI: "coaps://fw.example"),
            credentials: EphemeralCredentialStore(), signingKeys: nil, timers: DTLSTimers())
        guard case .failure(.noCredentials(let why)) = result else {
            Issue.record("expected noCredentials, got \(result)")
            return
        }
        #expect(why.hasPrefix("Security instance /0/2: "))
    }

    @Test func anX509AccountWithATPMKeySignsWithTheStoresSignerAndLoadsNoSecret() throws {
        try MbedTLSGuard.check()
        final class OneKey: SigningKeyStore {
            let signer: Signer
            var asked: [CredentialID] = []
            init() throws { signer = try SoftwareSigner(generatingWith: { secureRandomBytes($0) }) }
            func generateSigningKey(_ id: CredentialID) throws(CredentialStoreError) -> Signer { signer }
            func signer(for id: CredentialID) throws(CredentialStoreError) -> Signer {
                asked.append(id)
                return signer
            }
            func removeSigningKey(_ id: CredentialID) throws(CredentialStoreError) {}
        }
        var snapshot = security(downloadURI: "coaps://fw.example")
        snapshot.instances[2]?[2] = .single(.integer(2))
        snapshot.instances[2]?[3] = .single(.opaque([0x30, 0x00]))
        snapshot.instances[2]?[4] = .single(.opaque([0x30, 0x00]))
        snapshot.secrets[2] = [5: "\(FactoryFile.tpmKeyPrefix)factory/fw/key"]
        let keys = try OneKey()
        let result = FirmwareDownloadCredentials.configuration(
            for: try CoAPURI("coaps://fw.example/fw"), security: snapshot, credentials: EphemeralCredentialStore(),
            signingKeys: keys, timers: DTLSTimers())
        guard case .success(let (instance, configuration)) = result,
              case .certificate(_, let key) = configuration.authentication else {
            Issue.record("expected a certificate configuration, got \(result)")
            return
        }
        #expect(instance == 2 && key === keys.signer && keys.asked == [CredentialID("factory/fw/key")!])
    }

    @Test func protocolSupportListsCoaps() throws {
        try MbedTLSGuard.check()
        #expect(FirmwareSetup.supportedProtocols().isSuperset(of: [.coap, .coaps]))
    }

    /// Protocol Support finds mbedTLS and libcurl without loading them: by name, in the dynamic
    /// linker's cache or the library directories.
    @Test func installedLibrariesAreFoundByNameOnly() {
        #expect(FirmwareSetup.installedLibraries(among: ["libc.so.6", "libmbedtls.so.14", "libmbedtls.so.97"])
                == ["libc.so.6", "libmbedtls.so.14"])
        #expect(FirmwareSetup.installedLibraries(among: []).isEmpty)
    }
}
