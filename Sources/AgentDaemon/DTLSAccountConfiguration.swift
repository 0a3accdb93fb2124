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

    var description: String {
        switch self {
        case .unsupportedMode(let why): why
        case .missingSecret(let what): "no \(what) provisioned"
        case .credentials(let error): "\(error)"
        case .dtls(let error): "\(error)"
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
        var configuration: DTLSConfiguration
        switch account.mode {
        case .preSharedKey?:
            guard !account.identity.isEmpty else { throw .missingSecret("PSK identity (/0/\(account.instance)/3)") }
            configuration = DTLSConfiguration(authentication: .psk(identity: account.identity,
                                                                   key: try secret("PSK key (/0/\(account.instance)/5)")))
        case .certificate?:
            let signer: Signer
            if let name = account.secretKey, name.hasPrefix(FactoryFile.tpmKeyPrefix) {
                signer = try tpmSigner(String(name.dropFirst(FactoryFile.tpmKeyPrefix.count)), signingKeys: signingKeys)
            } else {
                let key = try secret("private key (/0/\(account.instance)/5)")
                defer { key.wipe() }
                do {
                    signer = try SoftwareSigner(privateKey: key, random: { secureRandomBytes($0) })
                } catch {
                    throw .dtls(error)
                }
            }
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
