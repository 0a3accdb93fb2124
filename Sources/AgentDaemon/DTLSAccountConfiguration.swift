import AgentCommon
import CoAP
import Credentials
import DTLS
import LwM2M
import Transport

/// Why an account's DTLS settings cannot be built (before any packet is sent).
enum AccountSecurityError: Error, CustomStringConvertible {
    case unsupportedMode(String)
    case missingSecret(String)
    case credentials(CredentialStoreError)
    case dtls(DTLSError)
    /// The account's keys do not fit together (an RPK /0/x/3 that is not the /0/x/5 key's).
    case inconsistentKeys(String)

    var description: String {
        switch self {
        case .unsupportedMode(let why): why
        case .missingSecret(let what): "no \(what) provisioned"
        case .credentials(let error): "\(error)"
        case .dtls(let error): "\(error)"
        case .inconsistentKeys(let why): why
        }
    }
}

/// The handshake timers used for every DTLS session (configuration keys
/// `dtls-timeout-min`/`dtls-timeout-max`).
public struct DTLSTimers: Sendable {
    public var minimum: Duration
    public var maximum: Duration

    public init(minimum: Duration = .seconds(2), maximum: Duration = .seconds(60)) {
        self.minimum = minimum
        self.maximum = maximum
    }
}

extension DTLSConfiguration {
    /// The DTLS settings of Security-object account `account` (/0/x/2 mode, /0/x/3 identity or
    /// certificate, /0/x/4 server certificate, /0/x/5 secret from `credentials`, /0/x/14 SNI,
    /// /0/x/15 certificate usage, /0/x/16 cipher suites) for a server at `host`. The secret is
    /// loaded only here, handed to mbedTLS and wiped.
    /// A secret-key name `tpm-key:NAME` means the TPM signing key NAME in `signingKeys`: the
    /// handshake is signed in the TPM and no private key is loaded.
    /// Mode 1 (RPK): /0/x/3 is our SubjectPublicKeyInfo (it must be the /0/x/5 key's, when set),
    /// /0/x/4 the server's, pinned; the session runs on GnuTLS (`DTLSSessionFactory`).
    static func forAccount(_ account: SecurityAccount, host: String, credentials: CredentialStore,
                           signingKeys: SigningKeyStore? = nil,
                           timers: DTLSTimers) throws(AccountSecurityError) -> DTLSConfiguration {
        func secret(_ what: String) throws(AccountSecurityError) -> SecretBytes {
            guard let name = account.secretKey, let id = CredentialID(name) else { throw .missingSecret(what) }
            do {
                return try credentials.load(id)
            } catch {
                throw .credentials(error)
            }
        }
        /// The /0/x/5 key: a TPM key (`tpm-key:NAME`) or a software key from the store.
        func accountSigner() throws(AccountSecurityError) -> Signer {
            if let name = account.secretKey, name.hasPrefix(FactoryFile.tpmKeyPrefix) {
                return try tpmSigner(String(name.dropFirst(FactoryFile.tpmKeyPrefix.count)), signingKeys: signingKeys)
            }
            let key = try secret("private key (/0/\(account.instance)/5)")
            defer { key.wipe() }
            do {
                return try SoftwareSigner(privateKey: key, random: { secureRandomBytes($0) })
            } catch {
                throw .dtls(error)
            }
        }
        var configuration: DTLSConfiguration
        switch account.mode {
        case .preSharedKey?:
            guard !account.identity.isEmpty else { throw .missingSecret("PSK identity (/0/\(account.instance)/3)") }
            configuration = DTLSConfiguration(authentication: .psk(identity: account.identity,
                                                                   key: try secret("PSK key (/0/\(account.instance)/5)")))
        case .rawPublicKey?:
            let signer = try accountSigner()
            if !account.identity.isEmpty, account.identity != PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint) {
                throw .inconsistentKeys("Public Key (/0/\(account.instance)/3) is not the public key of the Secret Key (/0/\(account.instance)/5)")
            }
            guard !account.serverPublicKey.isEmpty else { throw .missingSecret("server public key (/0/\(account.instance)/4)") }
            configuration = DTLSConfiguration(authentication: .rawPublicKey(key: signer, serverPublicKey: account.serverPublicKey))
        case .certificate?:
            let signer = try accountSigner()
            let usage = CertificateUsage(rawValue: UInt8(clamping: account.certificateUsage)) ?? .domainIssuedCertificate
            configuration = DTLSConfiguration(authentication: .certificate(chain: [account.identity], key: signer),
                                              serverTrust: ServerTrust(usage: usage, certificate: account.serverPublicKey))
        case let mode:
            throw .unsupportedMode("Security Mode \(mode.map { "\($0)" } ?? "unknown") cannot be used over DTLS here")
        }
        configuration.serverName = host
        configuration.serverNameIndication = account.serverNameIndication
        let suites = account.cipherSuites.compactMap { UInt16(exactly: $0) }
        if !suites.isEmpty { configuration.cipherSuites = suites }
        configuration.handshakeTimeoutMin = timers.minimum
        configuration.handshakeTimeoutMax = timers.maximum
        return configuration
    }

    /// The signer of TPM key `name`.
    private static func tpmSigner(_ name: String, signingKeys: SigningKeyStore?) throws(AccountSecurityError) -> Signer {
        guard let signingKeys else {
            throw .unsupportedMode("TPM key \(name) needs credential-store = tpm")
        }
        guard let id = CredentialID(name) else { throw .missingSecret("TPM key \"\(name)\" (bad name)") }
        do {
            return try signingKeys.signer(for: id)
        } catch {
            throw .credentials(error)
        }
    }
}
