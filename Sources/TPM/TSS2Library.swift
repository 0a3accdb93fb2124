import CTSS2
import DynamicLoading

/// The TPM2 Software Stack, loaded with `dlopen` when the TPM is first used (the first seal,
/// unseal, signature or blob parse) and kept loaded. Linking it would map libtss2-esys, -mu, -rc,
/// -tctildr, libtss2-sys and OpenSSL's libcrypto (behind esys) into every agent and relocate them
/// at each start, whether or not a secret is ever needed.
///
/// Every TSS call of this module goes through ``api`` (the `ctss2_*` wrappers of CTSS2's shim).
final class TSS2Library: @unchecked Sendable {
    /// The sonames tried for each library, in order.
    struct Sonames: Sendable {
        var esys: [String]
        var mu: [String]
        var rc: [String]
        var tctildr: [String]
    }

    /// The function pointers (never freed: the libraries stay loaded).
    let api: UnsafeMutablePointer<ctss2_api>

    /// The stack, or why it cannot be used. Loaded once, thread-safely (a Swift global).
    static let shared: Result<TSS2Library, TPMError> = load(sonames)

    /// What Debian bookworm ships (tpm2-tss 3.2: libtss2-esys-3.0.2-0, libtss2-mu0, libtss2-rc0,
    /// libtss2-tctildr0). Versioned names only: another ABI under the bare `.so` is not this one.
    static let sonames = Sonames(esys: ["libtss2-esys.so.0"], mu: ["libtss2-mu.so.0"], rc: ["libtss2-rc.so.0"],
                                 tctildr: ["libtss2-tctildr.so.0"])

    private init(api: UnsafeMutablePointer<ctss2_api>) { self.api = api }

    /// The loaded stack's functions; throws `.stackUnavailable` when a library or symbol is missing.
    static func functions() throws(TPMError) -> UnsafeMutablePointer<ctss2_api> {
        try shared.get().api
    }

    /// Loads the four libraries from `sonames` and binds every function of `ctss2_api`.
    /// Internal (not `private`) so a test can load a soname list that does not exist.
    static func load(_ sonames: Sonames) -> Result<TSS2Library, TPMError> {
        var libraries: [DynamicLibrary] = []
        for names in sonames.all {
            switch DynamicLibrary.load(names) {
            case .success(let library): libraries.append(library)
            case .failure(let error): return .failure(.stackUnavailable(error.reason))
            }
        }
        let api = UnsafeMutablePointer<ctss2_api>.allocate(capacity: 1)
        api.initialize(to: ctss2_api())
        var unbound: [String] = []
        func bind(_ index: Int, _ name: String) -> UnsafeMutableRawPointer? {
            let symbol = libraries[index].symbol(name)
            if symbol == nil { unbound.append("\(name) (\(sonames.all[index].first ?? "?"))") }
            return symbol
        }
        api.pointee.Esys_Initialize = bind(0, "Esys_Initialize")
        api.pointee.Esys_Finalize = bind(0, "Esys_Finalize")
        api.pointee.Esys_Free = bind(0, "Esys_Free")
        api.pointee.Esys_TR_SetAuth = bind(0, "Esys_TR_SetAuth")
        api.pointee.Esys_TR_Close = bind(0, "Esys_TR_Close")
        api.pointee.Esys_TR_FromTPMPublic = bind(0, "Esys_TR_FromTPMPublic")
        api.pointee.Esys_TR_GetName = bind(0, "Esys_TR_GetName")
        api.pointee.Esys_TRSess_SetAttributes = bind(0, "Esys_TRSess_SetAttributes")
        api.pointee.Esys_CreatePrimary = bind(0, "Esys_CreatePrimary")
        api.pointee.Esys_EvictControl = bind(0, "Esys_EvictControl")
        api.pointee.Esys_ReadPublic = bind(0, "Esys_ReadPublic")
        api.pointee.Esys_Create = bind(0, "Esys_Create")
        api.pointee.Esys_Load = bind(0, "Esys_Load")
        api.pointee.Esys_FlushContext = bind(0, "Esys_FlushContext")
        api.pointee.Esys_Unseal = bind(0, "Esys_Unseal")
        api.pointee.Esys_Sign = bind(0, "Esys_Sign")
        api.pointee.Esys_StartAuthSession = bind(0, "Esys_StartAuthSession")
        api.pointee.Esys_PolicyPCR = bind(0, "Esys_PolicyPCR")
        api.pointee.Esys_PolicyGetDigest = bind(0, "Esys_PolicyGetDigest")
        api.pointee.Tss2_MU_TPM2B_PUBLIC_Marshal = bind(1, "Tss2_MU_TPM2B_PUBLIC_Marshal")
        api.pointee.Tss2_MU_TPM2B_PUBLIC_Unmarshal = bind(1, "Tss2_MU_TPM2B_PUBLIC_Unmarshal")
        api.pointee.Tss2_MU_TPM2B_PRIVATE_Marshal = bind(1, "Tss2_MU_TPM2B_PRIVATE_Marshal")
        api.pointee.Tss2_MU_TPM2B_PRIVATE_Unmarshal = bind(1, "Tss2_MU_TPM2B_PRIVATE_Unmarshal")
        api.pointee.Tss2_RC_Decode = bind(2, "Tss2_RC_Decode")
        api.pointee.Tss2_TctiLdr_Initialize = bind(3, "Tss2_TctiLdr_Initialize")
        api.pointee.Tss2_TctiLdr_Finalize = bind(3, "Tss2_TctiLdr_Finalize")
        guard unbound.isEmpty else {
            api.deallocate()
            return .failure(.stackUnavailable("missing \(unbound.joined(separator: ", "))"))
        }
        return .success(TSS2Library(api: api))
    }
}

extension TSS2Library.Sonames {
    /// esys, mu, rc, tctildr: the order `load` opens them in.
    var all: [[String]] { [esys, mu, rc, tctildr] }
}
