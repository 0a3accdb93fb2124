import AgentCommon
import AgentDaemon
import AgentCLI
import Credentials
import DTLS
import Glibc
import Transport

/// The `coap` command's DTLS options: PSK, X.509 or raw-public-key credentials for `coaps://` URIs.
///
/// Keys are read from files only, never from the command line (argv is visible to every user).
enum DTLSOptions {
    static let valueOptions: Set<String> = [
        "psk-identity", "psk-key-file", "ca", "server-cert", "cert", "key", "rpk-key", "server-public-key", "sni", "cipher-suites",
        "dtls-min-timeout", "dtls-max-timeout",
    ]

    static let usage = """
        coaps options (DTLS 1.2):
          --psk-identity ID       PSK identity (UTF-8)
          --psk-key-file PATH     PSK key: a file holding hex text or the raw key bytes
          --cert PATH             client certificate (DER)
          --key PATH              client private key (PKCS#8 or SEC1 DER, P-256)
          --ca PATH               trust anchor (DER): the server chain must lead to it (usage 2)
          --server-cert PATH      pinned server certificate (DER), nothing else checked (usage 3)
          --rpk-key PATH          raw public keys (RFC 7250): our private key (PKCS#8 or SEC1, P-256)
          --server-public-key PATH  the server's public key (SubjectPublicKeyInfo, DER or PEM), pinned
          --sni NAME              server name for SNI and the certificate check (default: URI host)
          --cipher-suites LIST    IANA numbers in preference order, e.g. 0xC0A8,0xC0AE
          --dtls-min-timeout S    first handshake retransmission (default 2)
          --dtls-max-timeout S    longest retransmission timeout (default 60)
        """

    /// The DTLS configuration the options describe; `nil` when none was given.
    static func configuration(from parsed: ParsedArguments) throws(UsageError) -> DTLSConfiguration? {
        let authentication: DTLSConfiguration.Authentication
        if let identity = parsed.value("psk-identity") {
            guard let path = parsed.value("psk-key-file") else { throw .missingArgument("--psk-key-file for --psk-identity") }
            guard parsed.value("cert") == nil else { throw .invalidValue("cert", "", "use either PSK or a certificate") }
            authentication = .psk(identity: Array(identity.utf8), key: try pskKey(path))
        } else if let keyPath = parsed.value("rpk-key") {
            guard parsed.value("cert") == nil else { throw .invalidValue("cert", "", "use either a certificate or a raw public key") }
            guard let serverPath = parsed.value("server-public-key") else {
                throw .missingArgument("--server-public-key for --rpk-key (the server's key is pinned)")
            }
            let key = try secretFile("rpk-key", keyPath)
            let signer: SoftwareSigner
            do { signer = try SoftwareSigner(privateKey: key, random: { secureRandomBytes($0) }) } catch {
                throw .invalidValue("rpk-key", keyPath, "\(error)")
            }
            authentication = .rawPublicKey(key: signer, serverPublicKey: try file("server-public-key", serverPath))
        } else if let certificatePath = parsed.value("cert") {
            guard let keyPath = parsed.value("key") else { throw .missingArgument("--key for --cert") }
            let certificate = try file("cert", certificatePath)
            let key = try secretFile("key", keyPath)
            let signer: SoftwareSigner
            do { signer = try SoftwareSigner(privateKey: key, random: { secureRandomBytes($0) }) } catch {
                throw .invalidValue("key", keyPath, "\(error)")
            }
            authentication = .certificate(chain: [certificate], key: signer)
        } else {
            return nil
        }
        var configuration = DTLSConfiguration(authentication: authentication)
        if case .certificate = authentication {
            if let path = parsed.value("ca") {
                configuration.serverTrust = ServerTrust(usage: .trustAnchorAssertion, certificate: try file("ca", path))
            } else if let path = parsed.value("server-cert") {
                configuration.serverTrust = ServerTrust(usage: .domainIssuedCertificate, certificate: try file("server-cert", path))
            } else {
                throw .missingArgument("--ca or --server-cert to check the server's certificate")
            }
        }
        configuration.serverNameIndication = parsed.value("sni")
        if let list = parsed.value("cipher-suites") {
            configuration.cipherSuites = try list.split(separator: ",").map { item throws(UsageError) in
                let text = item.hasPrefix("0x") || item.hasPrefix("0X") ? item.dropFirst(2) : item[...]
                guard let number = UInt16(text, radix: item.count == text.count ? 10 : 16) else {
                    throw .invalidValue("cipher-suites", String(item), "expected IANA numbers such as 0xC0A8 or 49320")
                }
                return number
            }
        }
        if let minimum = try parsed.seconds("dtls-min-timeout", default: nil) { configuration.handshakeTimeoutMin = minimum }
        if let maximum = try parsed.seconds("dtls-max-timeout", default: nil) { configuration.handshakeTimeoutMax = maximum }
        guard configuration.handshakeTimeoutMin <= configuration.handshakeTimeoutMax else {
            throw .invalidValue("dtls-min-timeout", "", "must not exceed --dtls-max-timeout")
        }
        return configuration
    }

    private static func file(_ option: String, _ path: String) throws(UsageError) -> [UInt8] {
        do { return try KeyFile.der(path).copyBytes() } catch { throw .invalidValue(option, path, error.reason) }
    }

    private static func secretFile(_ option: String, _ path: String) throws(UsageError) -> SecretBytes {
        do { return try KeyFile.der(path) } catch { throw .invalidValue(option, path, error.reason) }
    }

    static func pskKey(_ path: String) throws(UsageError) -> SecretBytes {
        do { return try KeyFile.pskKey(path) } catch { throw .invalidValue("psk-key-file", path, error.reason) }
    }
}
