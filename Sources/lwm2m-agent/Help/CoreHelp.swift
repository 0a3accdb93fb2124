import AgentCommon

/// The help of the commands CLI.swift runs itself: coap, state, factory-reset, version, help.
enum CoreHelp {
    static let coap = CommandHelp(
        name: "lwm2m-agent coap",
        summary: "send one CoAP request (or a CoAP ping) and print the response payload",
        synopsis: ["lwm2m-agent coap get|post|put|delete|fetch|ipatch URI [options]",
                   "lwm2m-agent coap ping URI [options]"],
        description: [
            "URI is coap://HOST[:PORT]/PATH[?QUERY], or coaps:// for DTLS 1.2 with the DTLS options below. "
                + "Payloads larger than the block size go block-wise (Block1, Block2). The response payload goes "
                + "to standard output; ping sends an empty confirmable message and prints pong when the peer "
                + "answers with a reset.",
            "Keys are read from files only, never from the command line (every user can read the command line).",
        ],
        options: [
            .init("--payload TEXT", "request payload (UTF-8)"),
            .init("--payload-file PATH", "request payload read from a file (\"-\" for standard input)"),
            .init("--content-format N", "Content-Format of the payload"),
            .init("--accept N", "Accept option"),
            .init("--non", "send a non-confirmable request"),
            .init("--block-size N", "largest block to send or ask for: 16, 32, ..., 1024 (default 1024)"),
            .init("--ack-timeout SECONDS", "CoAP ACK_TIMEOUT (default 2)"),
            .init("--timeout SECONDS", "give up after this long (default 100)"),
            .init("--verbose", "print the response code and options (coaps: the cipher suite and the handshake time) "
                    + "to standard error"),
        ] + dtlsOptions,
        exitStatus: [
            .init("0", "a 2.xx response (ping: the peer answered)"),
            .init("1", "a 4.xx or 5.xx response"),
            .init("2", "usage error"),
            .init("3", "no response (time-out, reset, DTLS handshake failed)"),
        ])

    /// The DTLS options of `coap` and `firmware fetch` for coaps:// URIs.
    static let dtlsOptions: [CommandHelp.Item] = [
        .init("--psk-identity ID", "coaps: PSK identity (UTF-8)"),
        .init("--psk-key-file PATH", "coaps: PSK key, a file holding hex text or the raw key bytes"),
        .init("--cert PATH", "coaps: client certificate (DER)"),
        .init("--key PATH", "coaps: client private key (PKCS#8 or SEC1 DER, P-256)"),
        .init("--ca PATH", "coaps: trust anchor (DER): the server chain must lead to it (certificate usage 2)"),
        .init("--server-cert PATH", "coaps: pinned server certificate (DER), nothing else checked (certificate usage 3)"),
        .init("--rpk-key PATH", "coaps: raw public keys (RFC 7250, over GnuTLS): our private key (PKCS#8 or SEC1, DER or PEM, P-256)"),
        .init("--server-public-key PATH", "coaps: raw public keys: the server's public key (SubjectPublicKeyInfo, DER or PEM); "
                + "the handshake fails unless the server presents exactly this key"),
        .init("--sni NAME", "coaps: server name for SNI and the certificate check (default: the URI's host)"),
        .init("--cipher-suites LIST", "coaps: IANA numbers in preference order, e.g. 0xC0A8,0xC0AE"),
        .init("--dtls-min-timeout S", "coaps: first handshake retransmission time-out (default 2)"),
        .init("--dtls-max-timeout S", "coaps: longest handshake retransmission time-out (default 60)"),
    ]

    static let state = CommandHelp(
        name: "lwm2m-agent state",
        summary: "show the accounts the agent uses (never secrets)",
        synopsis: ["lwm2m-agent state show --config FILE [--json]"],
        description: [
            "state show prints the saved configuration (what bootstrap wrote), or the factory accounts when "
                + "none is saved. It only reads: a saved configuration it cannot read is reported and left as it is.",
        ],
        options: [
            .init("--config FILE", "the daemon's configuration file (it names the state directory)"),
            .init("--json", "one JSON object on standard output"),
        ],
        exitStatus: [
            .init("0", "shown"),
            .init("1", "the configuration or the saved state cannot be read"),
            .init("2", "usage error"),
        ])

    static let factoryReset = CommandHelp(
        name: "lwm2m-agent factory-reset",
        summary: "go back to the factory accounts",
        synopsis: ["lwm2m-agent factory-reset --config FILE"],
        description: [
            "Asks a running lwm2m-agentd to return to the factory accounts (SIGUSR1: it de-registers, drops the "
                + "bootstrapped configuration and starts over), or removes the saved configuration when the daemon "
                + "is not running, so that its next start uses the factory accounts.",
        ],
        options: [.init("--config FILE", "the daemon's configuration file (it names the state directory)")],
        exitStatus: [
            .init("0", "requested from the daemon, or the saved configuration removed"),
            .init("1", "the configuration cannot be read, or the saved configuration cannot be removed"),
            .init("2", "usage error"),
        ])

    static let version = CommandHelp(
        name: "lwm2m-agent version",
        summary: "print the version",
        synopsis: ["lwm2m-agent version", "lwm2m-agent --version"],
        exitStatus: [.init("0", "always")])

    static let help = CommandHelp(
        name: "lwm2m-agent help",
        summary: "print the help of a command",
        synopsis: ["lwm2m-agent help [COMMAND [SUBCOMMAND]]", "lwm2m-agent COMMAND [SUBCOMMAND] --help"],
        description: [
            "Prints the same text as COMMAND --help (or -h): usage, options, exit status. The manual pages "
                + "lwm2m-agent(1) and lwm2m-agentd(8) are generated from the same text.",
        ],
        exitStatus: [.init("0", "printed"), .init("2", "no such command")])
}
