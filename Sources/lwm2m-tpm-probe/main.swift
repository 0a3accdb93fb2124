// lwm2m-tpm-probe: a second process for the TPM tests and the TPM latency figures.
//
//   lwm2m-tpm-probe seal  <tcti> <state-dir> <id>         secret as hex on stdin
//   lwm2m-tpm-probe check <tcti> <state-dir> <id>         expected secret as hex on stdin;
//                                                        exit 0 if equal, 1 if not
//   lwm2m-tpm-probe sign  <tcti> <state-dir> <key-id> <digest-hex>
//                                                        prints "<public point hex> <DER signature hex>"
//   lwm2m-tpm-probe bench <tcti> <state-dir> [iterations] median latencies (use a release build)
//
// Errors print the TPMError text and exit 2. Secrets never go to stdout or stderr.
import Credentials
import TPM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Closed before any exit: exit() skips defers, and without a resource manager (swtpm over TCP)
/// the context's session would stay in the TPM.
nonisolated(unsafe) var openContext: TPMContext?

func fail(_ message: String) -> Never {
    openContext?.close()
    let line = Array("lwm2m-tpm-probe: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func parseHex(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
    }
    return bytes
}

func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case 0x30...0x39: return digit - 0x30
    case 0x61...0x66: return digit - 0x61 + 10
    case 0x41...0x46: return digit - 0x41 + 10
    default: return nil
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

func secretFromStandardInput() -> SecretBytes {
    guard let line = readLine(strippingNewline: true), var bytes = parseHex(line) else {
        fail("expected the secret as hex on stdin")
    }
    defer { zeroize(&bytes) }
    return SecretBytes(bytes)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3 else {
    fail("usage: lwm2m-tpm-probe seal|check|sign|bench <tcti> <state-dir> ...")
}
do throws(TPMError) {
    let configuration = TPMConfiguration(tcti: try TCTI(parsing: arguments[1]), stateDirectory: arguments[2])
    let context = try TPMContext(configuration: configuration)
    openContext = context
    defer { context.close() }
    switch arguments[0] {
    case "seal" where arguments.count == 4:
        guard let id = CredentialID(arguments[3]) else { fail("bad credential id") }
        try TPMCredentialStore(context: context).seal(secretFromStandardInput(), as: id)
    case "check" where arguments.count == 4:
        guard let id = CredentialID(arguments[3]) else { fail("bad credential id") }
        let expected = secretFromStandardInput()
        guard let secret = try TPMCredentialStore(context: context).unseal(id) else { fail("no credential \(id)") }
        let equal = secret == expected
        context.close()  // exit() skips the defer: without a resource manager the session would leak
        exit(equal ? 0 : 1)
    case "sign" where arguments.count == 5:
        guard let id = CredentialID(arguments[3]), let digest = parseHex(arguments[4]) else { fail("bad arguments") }
        let keys = TPMSigningKeyStore(context: context)
        var signer = try keys.existingKey(id)
        if signer == nil { signer = try keys.generateKey(id) }
        guard let signer else { fail("no key") }
        print(hex(signer.publicKeyPoint), hex(try signer.signInTPM(digest: digest)))
    case "bench":
        let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 200 : 200
        try LatencyBench(context: context, iterations: iterations).run()
    default:
        fail("unknown command or wrong arguments: \(arguments.joined(separator: " "))")
    }
} catch {
    fail(error.description)
}
