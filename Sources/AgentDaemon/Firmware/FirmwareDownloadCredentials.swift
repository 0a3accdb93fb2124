import CoAP
import Credentials
import DTLS
import Firmware
import LwM2M

/// The DTLS settings of a `coaps://` firmware download: the Security instance whose Server URI
/// names the download's host and port (`DownloadServerAccount`: no fallback to another
/// account), built exactly as for a server connection (`DTLSConfiguration.forAccount`: the PSK
/// or private key loaded from the credential store the accounts use, handed to mbedTLS and
/// wiped; a `tpm-key:NAME` key signs in the TPM).
enum FirmwareDownloadCredentials {
    /// The Security instance used and its DTLS settings, or `noCredentials` saying why there
    /// are none (Update Result 7). Messages name instances and hosts, never secret bytes.
    static func configuration(for uri: CoAPURI, security: ObjectSnapshot, credentials: CredentialStore,
                              signingKeys: SigningKeyStore?, timers: DTLSTimers)
        -> Result<(UInt16, DTLSConfiguration), FirmwareDownloadError>
    {
        let account: SecurityAccount
        do {
            account = try DownloadServerAccount.account(for: uri, in: security)
        } catch {
            return .failure(.noCredentials("\(error)"))
        }
        do {
            let configuration = try DTLSConfiguration.forAccount(account, host: uri.host, credentials: credentials,
                                                                 signingKeys: signingKeys, timers: timers)
            return .success((account.instance, configuration))
        } catch {
            return .failure(.noCredentials("Security instance /0/\(account.instance): \(error)"))
        }
    }
}
