import AgentCLI
import AgentCommon

/// The help of `lwm2m-agent firmware`: packages (keygen, sign, verify: FirmwarePackageCommand) and
/// downloads (fetch).
extension FirmwareCommand {
    static let fetch = CommandHelp(
        name: "lwm2m-agent firmware fetch",
        summary: "download an image as the agent does (coap, coaps, http, https)",
        synopsis: ["lwm2m-agent firmware fetch URI --output FILE [options]"],
        description: ["The same download code as the agent's firmware pull, for trying a server or a URI by hand."],
        options: [
            .init("--output FILE", "where the image goes"),
            .init("--resume", "continue FILE where it stopped (the validator is kept in FILE.validator)"),
            .init("--http-ca PATH", "PEM CA file for https:// (default: the system trust store)"),
            .init("--block-size N", "CoAP block size asked for: 16 ... 1024 (default 1024)"),
            .init("--ack-timeout SECONDS", "CoAP ACK_TIMEOUT (default 2)"),
            .init("--max-retransmit N", "CoAP MAX_RETRANSMIT (default 4): the engine gives up after it"),
            .init("--connect-timeout S", "HTTP connection time-out (default 30)"),
            .init("--stall-timeout S", "HTTP: less than 1 byte/s for this long is a lost connection (default 60)"),
            .init("--max-size BYTES", "refuse images larger than this"),
            .init("--timeout SECONDS", "give up after this long (default 3600)"),
            .init("--progress", "print progress to standard error"),
            .init("--report-memory", "print the RSS before, once 1 MiB arrived, and the peak (VmHWM), to standard error"),
        ] + CoreHelp.dtlsOptions,
        exitStatus: [
            .init("0", "done"),
            .init("1", "failed"),
            .init("2", "usage error"),
            .init("3", "connection lost or timed out (resumable with --resume)"),
        ])

    static let help = CommandHelp(
        name: "lwm2m-agent firmware",
        summary: "signed firmware packages, and firmware downloads by hand",
        synopsis: ["lwm2m-agent firmware keygen|sign|verify|fetch ..."],
        description: ["Package format and signing: docs/firmware-update.md."],
        exitStatus: [
            .init("0", "done (verify: the package is valid)"),
            .init("1", "refused or failed"),
            .init("2", "usage error"),
            .init("3", "fetch: connection lost or timed out (resumable with --resume)"),
        ],
        subcommands: FirmwarePackageCommand.help + [fetch])

    /// The usage text of a usage error.
    static var usage: String { fetch.text }
}
