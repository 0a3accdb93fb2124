// swift-tools-version:6.0
// lwm2m-agent: an LwM2M device-management agent for ARM Linux gateway boards.
import PackageDescription

// Full cross-module optimisation of the engine (see CoAP below). An unsafe flag: SwiftPM refuses
// it in a package depended on by version, so this package exports no library product (only its
// executables); the flag stays on internal targets, where it is allowed.
let releaseOptimisation: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

// Release executables link with lld and pack their relative relocations (DT_RELR, glibc >= 2.36:
// Debian bookworm): ~32,000 RELATIVE entries of 24 bytes become a 6 KB bitmap, the stripped
// daemon is ~0.8 MB smaller and the loader applies them faster. And the C++ runtime under the
// static Swift runtime is linked in too (libstdc++.a, libgcc): packaging/link/ holds a linker script
// named libstdc++.so that turns -lstdc++ into the archive; two shared libraries fewer at start
// (docs/performance.md). With a dynamic Swift runtime the executable itself needs no C++, so nothing
// is pulled from the archives. And no dynamic symbol table of the executable's own ~9,400 functions:
// the static Swift runtime's link arguments export them (-export-dynamic) for function names in
// crash backtraces, but the package ships no swift-backtrace to print them; 0.8 MB and ~0.08 ms
// per start fewer. And identical functions folded into one (--icf=all: executable sections only;
// lld never folds data without --ignore-data-address-equality): the many per-file copies of the
// same outlined value copies, metadata and witness functions had no symbol the daemon's symbol
// order could name, so each kept a 64 KiB block of the text in memory; 0.5 MB and ~0.6 MiB of RSS
// fewer (docs/performance.md).
let releaseLinking: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                  "-L\(Context.packageDirectory)/packaging/link", "-Xclang-linker", "-static-libgcc",
                  "-Xlinker", "--no-export-dynamic", "-Xlinker", "--icf=all"],
                 .when(configuration: .release)),
]

// For the tests that call mbedTLS directly; the agent's own modules load it with dlopen
// (Sources/DTLS/MbedTLSLibrary.swift). Link order for static linking: ssl -> x509 -> crypto.
let mbedTLSLibraries: [LinkerSetting] = [.linkedLibrary("mbedtls"), .linkedLibrary("mbedx509"), .linkedLibrary("mbedcrypto")]

// The daemon's release link places the functions a registered daemon runs first, in the order of
// packaging/link/lwm2m-agentd.order (made by scripts/symbol-order.sh from callgrind profiles of
// lwm2m-bench compare's workload): the kernel maps a file's text in 64 KiB blocks per fault, so
// packed running code is ~2 MiB less RSS (docs/performance.md). Names that have gone are ignored.
let daemonSymbolOrder: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/packaging/link/lwm2m-agentd.order",
                  "-Xlinker", "--no-warn-symbol-ordering"],
                 .when(configuration: .release)),
]

let package = Package(
    name: "lwm2m-agent",
    products: [
        .executable(name: "lwm2m-agentd", targets: ["lwm2m-agentd"]),
        .executable(name: "lwm2m-agent", targets: ["lwm2m-agent"]),
        .executable(name: "lwm2m-demo", targets: ["lwm2m-demo"]),
    ],
    targets: [
        // MARK: Protocol cores (sans-IO, no Foundation)
        // Points on a monotonic timeline (`Instant`): what the cores are fed instead of a clock.
        .target(name: "Time"),

        // Full cross-module optimisation lets the executables specialise the generic engine for
        // their peer type (SocketAddress); without it every call goes through runtime generics.
        .target(name: "CoAP", dependencies: ["Time"], swiftSettings: releaseOptimisation),

        // LwM2M data model, content formats and operations (sans-IO, no Foundation)
        .target(name: "LwM2M", dependencies: ["CoAP", "Credentials", "Time"], swiftSettings: releaseOptimisation),

        // Secrets and signing keys behind small protocols (no Foundation, no C).
        .target(name: "Credentials"),

        // DTLS 1.2 client sessions over mbedTLS 2.28, sans-IO (no Foundation).
        .target(name: "DTLS", dependencies: ["CMbedTLS", "DynamicLoading", "Credentials", "Time"]),
        // DTLS 1.2 client sessions with raw public keys (RFC 7250) over GnuTLS, behind the same
        // `DTLSSession` interface; GnuTLS is dlopen'ed on the first such session (no Foundation).
        .target(name: "DTLSGnuTLS", dependencies: ["CGnuTLS", "DTLS", "DynamicLoading", "Credentials", "Time"]),

        // MARK: Outer layer: sockets, poll loop, clocks, DNS
        // (CoAP for EndpointRunner; the poll loop, sockets and the clock need only Time.)
        .target(name: "Transport", dependencies: ["Time", "CoAP", "CTransport"]),
        // recvmmsg(2), which glibc declares only under _GNU_SOURCE (one C function).
        .target(name: "CTransport"),

        // `DynamicLibrary`: C libraries loaded with dlopen on first use (GnuTLS, libcurl, the TSS,
        // libgpiod), so an agent that never needs one neither maps nor relocates it at start. A
        // module of its own (Glibc only) so GPIO and TPM can use it without depending on DTLS
        // (and mbedTLS behind it), which the hardware layers have no other use for.
        .target(name: "DynamicLoading"),

        // Files: atomic durable writes (`AtomicFile`), bounded reads of state, config, /proc and
        // /sys files (`FileReader`), state directories (`Directory`).
        .target(name: "Files"),

        // TPM 2.0 credential store and signing keys over ESAPI (sealed blobs in the state dir); the
        // TSS is dlopen'ed (DynamicLoading) when the TPM is first used.
        .target(name: "TPM", dependencies: ["CTSS2", "DynamicLoading", "Credentials", "Files"]),

        // GPIO lines over libgpiod v1 (Debian bookworm's 1.6): chips, lines by name, inputs with
        // edge events (their descriptors go into the one poll loop), outputs; no Foundation.
        // libgpiod is dlopen'ed (DynamicLoading) on the first GPIO use.
        .target(name: "GPIO", dependencies: ["CGPIOD", "DynamicLoading", "Time"]),

        // Firmware update, outer layer: downloads (CoAP Block2 and HTTP(S) pulls streamed to a sink,
        // resumable; libcurl's multi interface on the agent's EventLoop, loaded on first use), the
        // image store on disk, signed packages (mbedTLS), installers (script hook, RAUC, SWUpdate)
        // run with posix_spawn; no Foundation.
        .target(name: "Firmware", dependencies: ["CoAP", "Transport", "DTLS", "DTLSGnuTLS", "CCurl", "DynamicLoading", "Credentials", "Time", "Files",
                                                 "CMbedTLS", "LwM2M"]),

        // MARK: The agent (outer layer), one target per product
        // What the daemon, the CLI and the demo share: logging, signals, version, console,
        // command-line parsing, the crash-report policy.
        .target(name: "AgentCommon", dependencies: ["Transport"]),
        // The daemon: configuration, state file, ClientRuntime running the client on sockets
        // and DTLS, launcher, single-instance lock.
        .target(name: "AgentDaemon", dependencies: ["AgentCommon", "CoAP", "LwM2M", "Transport", "DTLS", "DTLSGnuTLS", "TPM",
                                                    "Credentials", "Files", "Board", "GPIO", "Firmware"]),
        // The CLI: one-shot CoAP/DTLS clients, factory provisioning (with its QR encoder).
        .target(name: "AgentCLI", dependencies: ["AgentCommon", "AgentDaemon", "CoAP", "LwM2M", "Transport", "DTLS", "DTLSGnuTLS",
                                                 "TPM", "Credentials", "Files", "Firmware"]),
        // The board layer: board definitions (board/*.conf) and the kernel's files (sysfs, procfs)
        // behind the platform objects, every path under a `SystemRoot` so tests use fixture trees.
        .target(name: "Board", dependencies: ["AgentCommon", "LwM2M", "Files", "GPIO"]),
        // The demo resource tree and its CoAP server: linked only by lwm2m-demo, the bench and tests.
        .target(name: "AgentDemo", dependencies: ["AgentCommon", "CoAP", "LwM2M", "Transport"]),

        // MARK: C libraries (system-library targets; later issues add the Swift wrappers)
        // The TSS's headers only: TPM dlopens libtss2-esys, -mu, -rc and -tctildr on the TPM's first use.
        .systemLibrary(
            name: "CTSS2", path: "Sources/CTSS2",
            providers: [.apt(["libtss2-dev"])]),
        // mbedTLS's headers only (Debian's libmbedtls-dev ships no pkg-config file): DTLS dlopens
        // libmbedtls.so.14 on first use (MbedTLSLibrary); tests that call mbedTLS directly link it.
        .systemLibrary(
            name: "CMbedTLS", path: "Sources/CMbedTLS",
            providers: [.apt(["libmbedtls-dev"])]),
        // libcurl's headers only: Firmware dlopens libcurl.so.4 on the first HTTP(S) download.
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        // GnuTLS's headers only: DTLSGnuTLS dlopens libgnutls.so.30 on the first RPK session.
        .systemLibrary(
            name: "CGnuTLS", path: "Sources/CGnuTLS",
            providers: [.apt(["libgnutls28-dev"])]),
        // libgpiod's header only: GPIO dlopens libgpiod.so.2 on the first GPIO use (no pkg-config:
        // its Libs would link the library into every executable again).
        .systemLibrary(
            name: "CGPIOD", path: "Sources/CGPIOD",
            providers: [.apt(["libgpiod-dev"])]),

        // MARK: Executables
        .executableTarget(name: "lwm2m-agentd", dependencies: ["AgentCommon", "AgentDaemon", "CoAP", "LwM2M", "Transport",
                                                             "Credentials"],
                          linkerSettings: releaseLinking + daemonSymbolOrder),
        .executableTarget(name: "lwm2m-agent", dependencies: ["AgentCommon", "AgentDaemon", "AgentCLI", "CoAP", "LwM2M",
                                                            "Transport", "DTLS", "Credentials", "Board", "GPIO", "Time",
                                                            "Firmware", "Files"],
                          linkerSettings: releaseLinking),
        // The demo CoAP server (the demo resources on [::]:5683 by default); not part of the daemon.
        .executableTarget(name: "lwm2m-demo", dependencies: ["AgentCommon", "AgentDemo", "CoAP", "Transport"]),
        .executableTarget(name: "lwm2m-bench", dependencies: ["AgentCommon", "AgentDemo", "CoAP", "LwM2M", "Transport", "AgentCLI", "DTLS", "Credentials"]),
        // Second process for the TPM tests (seal/check/sign) and the TPM latency figures.
        .executableTarget(name: "lwm2m-tpm-probe", dependencies: ["TPM", "Credentials"]),
        // Guest-side probe of the GPIO benchmark (Tests/vm/bench_gpio.py): edge → notification datagram.
        .executableTarget(name: "lwm2m-edge-probe"),

        // MARK: Tests
        // Shared test support: `requires(condition, reason)` (skip for want of a peer or IPv6, but
        // fail under CI=true), `startThread` (a POSIX thread for a blocking loop), `ChildProcess`
        // (peers and commands), scratch files, free ports, and the openssl-made `TestPKI`.
        .target(name: "TestSupport", dependencies: ["CoAP", "Transport", "Credentials", "DTLS"], path: "Tests/TestSupport"),
        .testTarget(name: "CoAPTests", dependencies: ["CoAP"]),
        .testTarget(name: "TransportTests", dependencies: ["CoAP", "Transport", "TestSupport"]),
        .testTarget(name: "LwM2MTests", dependencies: ["LwM2M", "CoAP", "Credentials"]),
        .testTarget(name: "AgentTests", dependencies: ["AgentCommon", "AgentDaemon", "AgentCLI", "AgentDemo", "CoAP", "LwM2M", "Transport", "Credentials", "Files", "DTLS",
                                                    "Board", "TestSupport"]),
        .testTarget(name: "GPIOTests", dependencies: ["GPIO", "CGPIOD", "DynamicLoading", "TestSupport"]),
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials"]),
        .testTarget(name: "FilesTests", dependencies: ["Files", "TestSupport"]),
        // Fixtures/: copies of machines' /proc and /sys files, read through #filePath (not resources).
        .testTarget(name: "BoardTests", dependencies: ["Board", "AgentCommon", "LwM2M", "Files", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS", "DTLSGnuTLS", "DynamicLoading", "CMbedTLS", "Credentials", "CoAP", "Transport", "TPM", "TestSupport"],
                    linkerSettings: mbedTLSLibraries),
        .testTarget(name: "TPMTests", dependencies: ["TPM", "CTSS2", "Credentials", "Files", "TestSupport"]),
        .testTarget(name: "FirmwareTests", dependencies: ["Firmware", "CoAP", "Transport", "Files", "LwM2M", "TestSupport"]),
        // Calls the TSS and mbedTLS directly (CTSS2 and CMbedTLS link nothing: TPM and DTLS load
        // them with dlopen), and libgpiod through GPIO's loader (nothing links libgpiod, not even
        // the test binary).
        .testTarget(name: "SystemLibraryTests", dependencies: ["CTSS2", "CMbedTLS", "CGPIOD", "GPIO"],
                    linkerSettings: [.linkedLibrary("tss2-esys"), .linkedLibrary("tss2-mu"), .linkedLibrary("tss2-rc"),
                                     .linkedLibrary("tss2-tctildr")] + mbedTLSLibraries),
    ]
)

// Release builds of every Swift module emit the metadata of the generic types they use with
// concrete arguments ([String], [UInt16: LwM2MRecord], Optional<…>) at compile time instead of
// having the runtime build it by demangling names on first use: exec -> exit and exec -> registered
// about 15 % faster, the served Read 10-20 % (docs/performance.md, "prespecialised generic metadata").
// And each function in a section of its own (-function-sections), so the linker's --gc-sections
// drops what nothing calls (0.5 MB of the daemon) and the daemon's symbol order (above) can place
// every running function, not whole files of them (docs/performance.md).
let prespecialisedMetadata = SwiftSetting.unsafeFlags(["-Xfrontend", "-prespecialize-generic-metadata",
                                                       "-Xfrontend", "-function-sections"],
                                                      .when(configuration: .release))
let cTargets: Set<String> = ["CTransport"]
for target in package.targets where [.regular, .executable].contains(target.type) && !cTargets.contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [prespecialisedMetadata]
}
