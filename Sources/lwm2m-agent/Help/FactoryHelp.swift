import AgentCommon

/// The help of `lwm2m-agent factory` and its subcommands (docs/factory-provisioning.md).
extension FactoryCommand {
    typealias Item = CommandHelp.Item

    static let common: [Item] = [
        .init("--config FILE", "the daemon's configuration file (credential-store = tpm; it names the factory file)"),
        .init("--json", "one JSON object on standard output"),
        .init("--no-qr", "no QR code of the public-key hash"),
    ]

    static let accountOptions: [Item] = [
        .init("--uri URI", "the server's URI: coap://HOST[:PORT] or coaps://HOST[:PORT]"),
        .init("--security-mode MODE", "psk, certificate, rpk (raw public keys, RFC 7250) or nosec"),
        .init("--psk-identity ID", "PSK identity (psk)"),
        .init("--psk-key-file PATH", "PSK key (hex text or raw bytes) from a file; sealed in the TPM"),
        .init("--psk-key-stdin", "PSK key from standard input (keys are never taken from the command line)"),
        .init("--generate-key", "certificate, rpk: create a P-256 key in the TPM unless the account has one"),
        .init("--regenerate-key", "certificate, rpk: replace the account's TPM key"),
        .init("--csr-out PATH", "certificate: write a CSR (CN = endpoint name) signed by the TPM key"),
        .init("--public-key-out PATH", "certificate, rpk: write the TPM key's public key (PEM)"),
        .init("--client-certificate-file FILE", "certificate: the certificate issued for the TPM key"),
        .init("--server-certificate-file FILE", "certificate: the server's certificate or trust anchor"),
        .init("--server-public-key-file FILE", "rpk: the server's public key (SubjectPublicKeyInfo, DER or PEM, P-256), pinned"),
        .init("--certificate-usage N", "certificate: how the server certificate is checked, 0 to 3"),
        .init("--sni NAME", "certificate: server name for SNI and the certificate check"),
    ]

    static let exitStatus: [Item] = [
        .init("0", "done"),
        .init("1", "the operation failed (TPM, files, verification)"),
        .init("2", "usage error"),
    ]

    static func sub(_ word: String, _ summary: String, _ synopsis: String, _ description: [String] = [],
                    options: [Item] = []) -> CommandHelp {
        CommandHelp(name: "lwm2m-agent factory \(word)", summary: summary,
                    synopsis: ["lwm2m-agent factory \(synopsis)"], description: description,
                    options: options + common, exitStatus: exitStatus)
    }

    static let help = CommandHelp(
        name: "lwm2m-agent factory",
        summary: "factory provisioning: endpoint name, accounts, TPM-sealed secrets and keys",
        synopsis: ["lwm2m-agent factory SUBCOMMAND [OPERANDS] --config FILE [options]"],
        description: [
            "Writes the factory file the daemon starts from and seals its secrets in the TPM "
                + "(docs/factory-provisioning.md). Secrets are never taken from the command line and never printed.",
        ],
        options: common,
        exitStatus: exitStatus,
        subcommands: [
            sub("set-endpoint", "set the endpoint name, e.g. gw-{serial}", "set-endpoint NAME_OR_TEMPLATE --config FILE",
                ["NAME_OR_TEMPLATE is a literal name or a template such as gw-{serial}, urn:dev:{machine-id} or {iccid}, "
                    + "checked by expanding it on this board; the daemon expands it at each start."]),
            sub("set-bootstrap", "set the bootstrap server account",
                "set-bootstrap --config FILE --uri URI --security-mode MODE [account options]",
                options: accountOptions),
            sub("set-bootstrap-certificate", "attach the certificate issued for the bootstrap account's TPM key",
                "set-bootstrap-certificate FILE --config FILE"),
            sub("add-server", "add or replace the LwM2M server account SSID (1 to 65534)",
                "add-server SSID --config FILE --uri URI --security-mode MODE [account options] [--lifetime N] [--binding B]",
                options: accountOptions + [
                    .init("--lifetime N", "registration lifetime in seconds"),
                    .init("--binding B", "binding mode, e.g. U"),
                ]),
            sub("set-server-certificate", "attach the certificate issued for server SSID's TPM key",
                "set-server-certificate SSID FILE --config FILE"),
            sub("remove-server", "remove the server account SSID", "remove-server SSID --config FILE"),
            sub("csr", "write a new CSR for an account's TPM key", "csr bootstrap|SSID --csr-out PATH --config FILE",
                options: [.init("--csr-out PATH", "where the CSR goes")]),
            sub("show", "show the accounts and TPM credentials (never secrets)", "show --config FILE"),
            sub("verify", "unseal and sign once with every credential", "verify --config FILE"),
            sub("wipe", "remove the factory file, sealed secrets, keys and saved state", "wipe --config FILE"),
        ])

    /// The usage text of a usage error.
    static var usage: String { help.text }
}
