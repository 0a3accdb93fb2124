import AgentCommon
import Files
import Firmware
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `lwm2m-agent firmware keygen|sign|verify`: the vendor's tools for signed firmware packages
/// (docs/firmware-update.md, "Package format"). Keys are PEM files; the private key never goes
/// on a device.
public enum FirmwarePackageCommand {
    /// The `firmware` subcommands this command handles (`firmware fetch` is another command's).
    public static let subcommands: Set<String> = ["keygen", "sign", "verify"]

    static let exitStatus: [CommandHelp.Item] = [
        .init("0", "done (verify: the package is valid)"),
        .init("1", "refused or failed"),
        .init("2", "usage error"),
    ]

    /// The help of `firmware keygen`, `sign` and `verify` (`--help` and the manual page).
    public static let help: [CommandHelp] = [
        CommandHelp(
            name: "lwm2m-agent firmware keygen",
            summary: "create a vendor key pair (ECDSA P-256, PEM)",
            synopsis: ["lwm2m-agent firmware keygen --private-key-out FILE --public-key-out FILE"],
            description: ["The private key signs packages and never goes on a device; an existing private key "
                            + "file is not overwritten. The public key is installed on the devices."],
            options: [
                .init("--private-key-out FILE", "where the private key goes (mode 0600)"),
                .init("--public-key-out FILE", "where the public key goes"),
            ],
            exitStatus: exitStatus),
        CommandHelp(
            name: "lwm2m-agent firmware sign",
            summary: "make a signed package of a firmware image",
            synopsis: ["lwm2m-agent firmware sign IMAGE --key FILE --board NAME --version V --out PACKAGE"],
            options: [
                .init("--key FILE", "the vendor's private key (PEM)"),
                .init("--board NAME", "the board the image is for"),
                .init("--version V", "the image's version"),
                .init("--out PACKAGE", "where the package goes"),
            ],
            exitStatus: exitStatus),
        CommandHelp(
            name: "lwm2m-agent firmware verify",
            summary: "check a package's signature, board and digest as a device would",
            synopsis: ["lwm2m-agent firmware verify PACKAGE --public-key FILE [--board NAME] [--json]"],
            options: [
                .init("--public-key FILE", "the vendor's public key (PEM)"),
                .init("--board NAME", "refuse a package made for another board"),
                .init("--json", "one JSON object on standard output (with the Update Result when refused)"),
            ],
            exitStatus: exitStatus),
    ]

    /// The usage text of a usage error.
    public static var usage: String { help.map(\.text).joined(separator: "\n") }

    public static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, valueOptions: [
                "private-key-out", "public-key-out", "key", "public-key", "board", "version", "out",
            ], flagOptions: ["json"])
        } catch {
            return usageFailure("\(error)")
        }
        let operands = Array(parsed.positional.dropFirst())
        do {
            switch parsed.positional.first {
            case "keygen":
                guard operands.isEmpty else { return usageFailure("keygen takes no operand") }
                return try keygen(parsed)
            case "sign":
                guard operands.count == 1 else { return usageFailure("expected one IMAGE") }
                return try sign(operands[0], parsed)
            case "verify":
                guard operands.count == 1 else { return usageFailure("expected one PACKAGE") }
                return try verify(operands[0], parsed)
            case let other?:
                return usageFailure("unknown firmware subcommand \"\(other)\"")
            case nil:
                return usageFailure("missing firmware subcommand")
            }
        } catch let error as UsageError {
            return usageFailure("\(error)")
        } catch {
            Console.error("lwm2m-agent firmware: \(error)\n")
            return 1
        }
    }

    static func required(_ parsed: ParsedArguments, _ name: String, _ what: String) throws(UsageError) -> String {
        guard let value = parsed.value(name) else { throw .missingArgument("--\(name) \(what)") }
        return value
    }

    static func keygen(_ parsed: ParsedArguments) throws -> Int32 {
        let privatePath = try required(parsed, "private-key-out", "FILE")
        let publicPath = try required(parsed, "public-key-out", "FILE")
        guard !FileReader.exists(privatePath) else {
            Console.error("lwm2m-agent firmware: \(privatePath) exists; not overwriting a key\n")
            return 1
        }
        let key = try PackageSigningKey()
        try AtomicFile.write(key.privateKeyPEM, to: privatePath, mode: 0o600)
        try AtomicFile.write(key.publicKeyPEM, to: publicPath, mode: 0o644)
        print("private key: \(privatePath) (keep it off the devices)\npublic key: \(publicPath) (install it on the devices)")
        return 0
    }

    static func sign(_ image: String, _ parsed: ParsedArguments) throws -> Int32 {
        let keyPath = try required(parsed, "key", "FILE")
        let board = try required(parsed, "board", "NAME")
        let version = try required(parsed, "version", "V")
        let output = try required(parsed, "out", "PACKAGE")
        let key = try PackageSigningKey(encoded: FileReader.read(keyPath, maximumSize: 16_384))
        let manifest = try PackageFile.sign(image: image, to: output, board: board, version: version, key: key)
        print("signed \(output): board \(manifest.board), version \(manifest.version), \(manifest.size) bytes")
        return 0
    }

    static func verify(_ package: String, _ parsed: ParsedArguments) throws -> Int32 {
        let keyPath = try required(parsed, "public-key", "FILE")
        let key = try PackagePublicKey(encoded: FileReader.read(keyPath, maximumSize: 16_384))
        let json = parsed.flag("json")
        do {
            let (manifest, offset) = try PackageFile.verify(package, key: key, board: parsed.value("board"))
            let digest = manifest.sha256.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            if json {
                print("{\"valid\":true,\"board\":\"\(manifest.board)\",\"version\":\"\(manifest.version)\","
                      + "\"size\":\(manifest.size),\"sha256\":\"\(digest)\",\"image_offset\":\(offset)}")
            } else {
                print("valid: board \(manifest.board), version \(manifest.version), \(manifest.size) bytes, "
                      + "sha256 \(digest), image at offset \(offset)")
            }
            return 0
        } catch {
            if json, case .package(let reason) = error {
                print("{\"valid\":false,\"error\":\"\(jsonEscaped("\(reason)"))\",\"update_result\":\(reason.updateResult.rawValue)}")
            }
            Console.error("lwm2m-agent firmware: \(package): \(error)\n")
            return 1
        }
    }

    static func jsonEscaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func usageFailure(_ message: String) -> Int32 {
        Console.error("lwm2m-agent firmware: \(message)\n\n\(usage)\n")
        return 2
    }
}
