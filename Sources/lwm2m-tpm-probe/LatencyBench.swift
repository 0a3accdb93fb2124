import Credentials
import TPM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Median latencies of the TPM operations a DTLS handshake needs: unsealing a PSK
/// (load + unseal + flush) and an ECDSA P-256 signature (with and without keeping the key loaded).
struct LatencyBench {
    let context: TPMContext
    let iterations: Int

    func run() throws(TPMError) {
        #if DEBUG
        print("warning: debug build; use swift build -c release for figures")
        #endif
        let store = TPMCredentialStore(context: context)
        let id = CredentialID("bench/psk")!
        var secret = [UInt8](repeating: 0x5A, count: 16)
        let mode = context.configuration.encryptsParameters ? "salted session" : "password session"
        print("parameter encryption: \(mode)")
        try measure("seal 16-byte secret (create + write blob)") { () throws(TPMError) in
            try store.seal(SecretBytes(secret), as: id)
        }
        zeroize(&secret)
        try measure("unseal 16-byte secret (read blob + load + unseal + flush)") { () throws(TPMError) in
            _ = try store.unseal(id)
        }
        try store.seal(SecretBytes([UInt8](repeating: 0x33, count: 300)), as: id)
        try measure("unseal 300-byte secret (3 sealed chunks)") { () throws(TPMError) in
            _ = try store.unseal(id)
        }
        // The same without parameter encryption (password session, secret in clear on the bus).
        var plain = context.configuration
        plain.encryptsParameters = false
        let plainContext = try TPMContext(configuration: plain)
        defer { plainContext.close() }
        let plainStore = TPMCredentialStore(context: plainContext)
        try plainStore.seal(SecretBytes([UInt8](repeating: 0x5A, count: 16)), as: id)
        try measure("unseal 16-byte secret without parameter encryption") { () throws(TPMError) in
            _ = try plainStore.unseal(id)
        }
        let keys = TPMSigningKeyStore(context: context)
        let keyID = CredentialID("bench/key")!
        let signer = try keys.generateKey(keyID)
        let digest = [UInt8](repeating: 0xA5, count: 32)
        try measure("sign P-256 (load + sign + flush)") { () throws(TPMError) in
            _ = try signer.signInTPM(digest: digest)
        }
        keys.keepsKeysLoaded = true
        let loaded = try keys.generateKey(CredentialID("bench/loaded-key")!)
        try measure("sign P-256 (key kept loaded)") { () throws(TPMError) in
            _ = try loaded.signInTPM(digest: digest)
        }
        loaded.close()
        try measure("generate P-256 key in TPM (create + write blob)", count: max(5, iterations / 20)) { () throws(TPMError) in
            _ = try keys.generateKey(keyID)
        }
    }

    private func measure(_ name: String, count: Int? = nil, _ body: () throws(TPMError) -> Void) throws(TPMError) {
        try body()  // warm-up
        var samples: [Double] = []
        for _ in 0..<(count ?? iterations) {
            let start = now()
            try body()
            samples.append(now() - start)
        }
        samples.sort()
        let median = samples[samples.count / 2]
        let p90 = samples[samples.count * 9 / 10]
        print("\(name): median \(format(median)) ms, p90 \(format(p90)) ms (n=\(samples.count))")
    }

    private func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }

    private func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
