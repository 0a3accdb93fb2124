// The TPM2 Software Stack (tpm2-tss 3.2, Debian libtss2-dev), loaded with dlopen: Swift calls
// the TSS through the function pointers in `ctss2_api`, filled by dlsym from four libraries
// (Sources/TPM/TSS2Library.swift). Each wrapper casts its pointer back to the type of the function
// it stands for (taken from the TSS declaration itself with __typeof__, so a signature cannot
// drift from the header). Nothing here links the TSS: only the types and declarations are used.
#ifndef LWM2M_AGENT_CTSS2_SHIM_H
#define LWM2M_AGENT_CTSS2_SHIM_H

#include <tss2/tss2_common.h>
#include <tss2/tss2_tpm2_types.h>
#include <tss2/tss2_tcti.h>
#include <tss2/tss2_tctildr.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

/// The TSS functions the agent uses, as dlsym returned them (one field per function, named after it).
typedef struct ctss2_api {
    // libtss2-esys.so.0
    void *Esys_Initialize, *Esys_Finalize, *Esys_Free;
    void *Esys_TR_SetAuth, *Esys_TR_Close, *Esys_TR_FromTPMPublic, *Esys_TR_GetName, *Esys_TRSess_SetAttributes;
    void *Esys_CreatePrimary, *Esys_EvictControl, *Esys_ReadPublic, *Esys_Create, *Esys_Load, *Esys_FlushContext;
    void *Esys_Unseal, *Esys_Sign, *Esys_StartAuthSession, *Esys_PolicyPCR, *Esys_PolicyGetDigest;
    // libtss2-mu.so.0
    void *Tss2_MU_TPM2B_PUBLIC_Marshal, *Tss2_MU_TPM2B_PUBLIC_Unmarshal;
    void *Tss2_MU_TPM2B_PRIVATE_Marshal, *Tss2_MU_TPM2B_PRIVATE_Unmarshal;
    // libtss2-rc.so.0
    void *Tss2_RC_Decode;
    // libtss2-tctildr.so.0
    void *Tss2_TctiLdr_Initialize, *Tss2_TctiLdr_Finalize;
} ctss2_api;

#define CTSS2(api, name) ((__typeof__(&name))(api)->name)

// MARK: ESAPI context

static inline TSS2_RC ctss2_Esys_Initialize(const ctss2_api *api, ESYS_CONTEXT **esys, TSS2_TCTI_CONTEXT *tcti,
                                            TSS2_ABI_VERSION *abiVersion) {
    return CTSS2(api, Esys_Initialize)(esys, tcti, abiVersion);
}
static inline void ctss2_Esys_Finalize(const ctss2_api *api, ESYS_CONTEXT **esys) { CTSS2(api, Esys_Finalize)(esys); }
static inline void ctss2_Esys_Free(const ctss2_api *api, void *pointer) { CTSS2(api, Esys_Free)(pointer); }

// MARK: ESAPI resources and sessions

static inline TSS2_RC ctss2_Esys_TR_SetAuth(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR handle,
                                            TPM2B_AUTH const *authValue) {
    return CTSS2(api, Esys_TR_SetAuth)(esys, handle, authValue);
}
static inline TSS2_RC ctss2_Esys_TR_Close(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR *handle) {
    return CTSS2(api, Esys_TR_Close)(esys, handle);
}
static inline TSS2_RC ctss2_Esys_TR_FromTPMPublic(const ctss2_api *api, ESYS_CONTEXT *esys, TPM2_HANDLE tpmHandle,
                                                  ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                                  ESYS_TR *object) {
    return CTSS2(api, Esys_TR_FromTPMPublic)(esys, tpmHandle, session1, session2, session3, object);
}
static inline TSS2_RC ctss2_Esys_TR_GetName(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR handle,
                                            TPM2B_NAME **name) {
    return CTSS2(api, Esys_TR_GetName)(esys, handle, name);
}
static inline TSS2_RC ctss2_Esys_TRSess_SetAttributes(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR session,
                                                      TPMA_SESSION flags, TPMA_SESSION mask) {
    return CTSS2(api, Esys_TRSess_SetAttributes)(esys, session, flags, mask);
}

// MARK: TPM commands

static inline TSS2_RC ctss2_Esys_CreatePrimary(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR primaryHandle,
                                               ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                               const TPM2B_SENSITIVE_CREATE *inSensitive, const TPM2B_PUBLIC *inPublic,
                                               const TPM2B_DATA *outsideInfo, const TPML_PCR_SELECTION *creationPCR,
                                               ESYS_TR *objectHandle, TPM2B_PUBLIC **outPublic,
                                               TPM2B_CREATION_DATA **creationData, TPM2B_DIGEST **creationHash,
                                               TPMT_TK_CREATION **creationTicket) {
    return CTSS2(api, Esys_CreatePrimary)(esys, primaryHandle, session1, session2, session3, inSensitive, inPublic,
                                          outsideInfo, creationPCR, objectHandle, outPublic, creationData,
                                          creationHash, creationTicket);
}
static inline TSS2_RC ctss2_Esys_EvictControl(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR auth,
                                              ESYS_TR objectHandle, ESYS_TR session1, ESYS_TR session2,
                                              ESYS_TR session3, TPMI_DH_PERSISTENT persistentHandle,
                                              ESYS_TR *newObjectHandle) {
    return CTSS2(api, Esys_EvictControl)(esys, auth, objectHandle, session1, session2, session3, persistentHandle,
                                         newObjectHandle);
}
static inline TSS2_RC ctss2_Esys_ReadPublic(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR objectHandle,
                                            ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                            TPM2B_PUBLIC **outPublic, TPM2B_NAME **name,
                                            TPM2B_NAME **qualifiedName) {
    return CTSS2(api, Esys_ReadPublic)(esys, objectHandle, session1, session2, session3, outPublic, name,
                                       qualifiedName);
}
static inline TSS2_RC ctss2_Esys_Create(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR parentHandle,
                                        ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                        const TPM2B_SENSITIVE_CREATE *inSensitive, const TPM2B_PUBLIC *inPublic,
                                        const TPM2B_DATA *outsideInfo, const TPML_PCR_SELECTION *creationPCR,
                                        TPM2B_PRIVATE **outPrivate, TPM2B_PUBLIC **outPublic,
                                        TPM2B_CREATION_DATA **creationData, TPM2B_DIGEST **creationHash,
                                        TPMT_TK_CREATION **creationTicket) {
    return CTSS2(api, Esys_Create)(esys, parentHandle, session1, session2, session3, inSensitive, inPublic,
                                   outsideInfo, creationPCR, outPrivate, outPublic, creationData, creationHash,
                                   creationTicket);
}
static inline TSS2_RC ctss2_Esys_Load(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR parentHandle,
                                      ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                      const TPM2B_PRIVATE *inPrivate, const TPM2B_PUBLIC *inPublic,
                                      ESYS_TR *objectHandle) {
    return CTSS2(api, Esys_Load)(esys, parentHandle, session1, session2, session3, inPrivate, inPublic,
                                 objectHandle);
}
static inline TSS2_RC ctss2_Esys_FlushContext(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR flushHandle) {
    return CTSS2(api, Esys_FlushContext)(esys, flushHandle);
}
static inline TSS2_RC ctss2_Esys_Unseal(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR itemHandle,
                                        ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                        TPM2B_SENSITIVE_DATA **outData) {
    return CTSS2(api, Esys_Unseal)(esys, itemHandle, session1, session2, session3, outData);
}
static inline TSS2_RC ctss2_Esys_Sign(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR keyHandle,
                                      ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                      const TPM2B_DIGEST *digest, const TPMT_SIG_SCHEME *inScheme,
                                      const TPMT_TK_HASHCHECK *validation, TPMT_SIGNATURE **signature) {
    return CTSS2(api, Esys_Sign)(esys, keyHandle, session1, session2, session3, digest, inScheme, validation,
                                 signature);
}
static inline TSS2_RC ctss2_Esys_StartAuthSession(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR tpmKey,
                                                  ESYS_TR bind, ESYS_TR session1, ESYS_TR session2,
                                                  ESYS_TR session3, const TPM2B_NONCE *nonceCaller,
                                                  TPM2_SE sessionType, const TPMT_SYM_DEF *symmetric,
                                                  TPMI_ALG_HASH authHash, ESYS_TR *sessionHandle) {
    return CTSS2(api, Esys_StartAuthSession)(esys, tpmKey, bind, session1, session2, session3, nonceCaller,
                                             sessionType, symmetric, authHash, sessionHandle);
}
static inline TSS2_RC ctss2_Esys_PolicyPCR(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR policySession,
                                           ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                           const TPM2B_DIGEST *pcrDigest, const TPML_PCR_SELECTION *pcrs) {
    return CTSS2(api, Esys_PolicyPCR)(esys, policySession, session1, session2, session3, pcrDigest, pcrs);
}
static inline TSS2_RC ctss2_Esys_PolicyGetDigest(const ctss2_api *api, ESYS_CONTEXT *esys, ESYS_TR policySession,
                                                 ESYS_TR session1, ESYS_TR session2, ESYS_TR session3,
                                                 TPM2B_DIGEST **policyDigest) {
    return CTSS2(api, Esys_PolicyGetDigest)(esys, policySession, session1, session2, session3, policyDigest);
}

// MARK: Marshalling (libtss2-mu)

static inline TSS2_RC ctss2_Tss2_MU_TPM2B_PUBLIC_Marshal(const ctss2_api *api, TPM2B_PUBLIC const *source,
                                                         uint8_t buffer[], size_t size, size_t *offset) {
    return CTSS2(api, Tss2_MU_TPM2B_PUBLIC_Marshal)(source, buffer, size, offset);
}
static inline TSS2_RC ctss2_Tss2_MU_TPM2B_PUBLIC_Unmarshal(const ctss2_api *api, uint8_t const buffer[], size_t size,
                                                           size_t *offset, TPM2B_PUBLIC *destination) {
    return CTSS2(api, Tss2_MU_TPM2B_PUBLIC_Unmarshal)(buffer, size, offset, destination);
}
static inline TSS2_RC ctss2_Tss2_MU_TPM2B_PRIVATE_Marshal(const ctss2_api *api, TPM2B_PRIVATE const *source,
                                                          uint8_t buffer[], size_t size, size_t *offset) {
    return CTSS2(api, Tss2_MU_TPM2B_PRIVATE_Marshal)(source, buffer, size, offset);
}
static inline TSS2_RC ctss2_Tss2_MU_TPM2B_PRIVATE_Unmarshal(const ctss2_api *api, uint8_t const buffer[], size_t size,
                                                            size_t *offset, TPM2B_PRIVATE *destination) {
    return CTSS2(api, Tss2_MU_TPM2B_PRIVATE_Unmarshal)(buffer, size, offset, destination);
}

// MARK: Response codes (libtss2-rc) and the TCTI loader (libtss2-tctildr)

static inline const char *ctss2_Tss2_RC_Decode(const ctss2_api *api, TSS2_RC rc) {
    return CTSS2(api, Tss2_RC_Decode)(rc);
}
static inline TSS2_RC ctss2_Tss2_TctiLdr_Initialize(const ctss2_api *api, const char *nameConf,
                                                    TSS2_TCTI_CONTEXT **context) {
    return CTSS2(api, Tss2_TctiLdr_Initialize)(nameConf, context);
}
static inline void ctss2_Tss2_TctiLdr_Finalize(const ctss2_api *api, TSS2_TCTI_CONTEXT **context) {
    CTSS2(api, Tss2_TctiLdr_Finalize)(context);
}

#undef CTSS2

#endif
