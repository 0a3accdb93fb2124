// GnuTLS 3.7 (Debian libgnutls28-dev) for the raw-public-key DTLS sessions, loaded with dlopen:
// Swift calls GnuTLS through the function pointers in `cgnutls_api`, filled by dlsym
// (Sources/DTLSGnuTLS/GnuTLSLibrary.swift). Each wrapper casts its pointer back to the type of
// the function it stands for (taken from the GnuTLS declaration itself with __typeof__, so a
// signature cannot drift from the header).
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/dtls.h>
#include <errno.h>

/// The GnuTLS functions the agent uses, as dlsym returned them.
typedef struct cgnutls_api {
    void *check_version, *strerror, *error_is_fatal, *alert_get, *alert_get_name;
    void *init, *deinit, *priority_set_direct, *credentials_set, *server_name_set;
    void *session_set_ptr, *session_get_ptr;
    void *certificate_allocate_credentials, *certificate_free_credentials, *certificate_set_key;
    void *certificate_set_verify_function, *certificate_type_get2, *certificate_get_peers;
    void *pcert_import_rawpk_raw, *pcert_deinit;
    void *privkey_init, *privkey_deinit, *privkey_import_ext4;
    void *transport_set_ptr, *transport_set_push_function, *transport_set_pull_function;
    void *transport_set_pull_timeout_function, *transport_set_errno;
    void *dtls_set_timeouts, *dtls_set_mtu, *dtls_get_timeout;
    void *handshake, *record_send, *record_recv, *bye;
    void *cipher_get, *kx_get, *mac_get, *cipher_suite_get_name;
    void *malloc_pointer;  // the address of the variable gnutls_malloc
} cgnutls_api;

#define CGNUTLS(api, name) ((__typeof__(&gnutls_##name))(api)->name)

static inline const char *cgnutls_check_version(const cgnutls_api *api, const char *required) {
    return CGNUTLS(api, check_version)(required);
}
static inline const char *cgnutls_strerror(const cgnutls_api *api, int error) { return CGNUTLS(api, strerror)(error); }
static inline int cgnutls_error_is_fatal(const cgnutls_api *api, int error) { return CGNUTLS(api, error_is_fatal)(error); }
static inline int cgnutls_alert_get(const cgnutls_api *api, gnutls_session_t session) {
    return (int)CGNUTLS(api, alert_get)(session);
}
static inline const char *cgnutls_alert_get_name(const cgnutls_api *api, int alert) {
    return CGNUTLS(api, alert_get_name)((gnutls_alert_description_t)alert);
}
static inline int cgnutls_init(const cgnutls_api *api, gnutls_session_t *session, unsigned int flags) {
    return CGNUTLS(api, init)(session, flags);
}
static inline void cgnutls_deinit(const cgnutls_api *api, gnutls_session_t session) { CGNUTLS(api, deinit)(session); }
static inline int cgnutls_priority_set_direct(const cgnutls_api *api, gnutls_session_t session, const char *priorities,
                                              const char **error_position) {
    return CGNUTLS(api, priority_set_direct)(session, priorities, error_position);
}
static inline int cgnutls_credentials_set_certificate(const cgnutls_api *api, gnutls_session_t session,
                                                      gnutls_certificate_credentials_t credentials) {
    return CGNUTLS(api, credentials_set)(session, GNUTLS_CRD_CERTIFICATE, credentials);
}
static inline int cgnutls_server_name_set(const cgnutls_api *api, gnutls_session_t session, const char *name, size_t length) {
    return CGNUTLS(api, server_name_set)(session, GNUTLS_NAME_DNS, name, length);
}
static inline void cgnutls_session_set_ptr(const cgnutls_api *api, gnutls_session_t session, void *pointer) {
    CGNUTLS(api, session_set_ptr)(session, pointer);
}
static inline void *cgnutls_session_get_ptr(const cgnutls_api *api, gnutls_session_t session) {
    return CGNUTLS(api, session_get_ptr)(session);
}
static inline int cgnutls_certificate_allocate_credentials(const cgnutls_api *api, gnutls_certificate_credentials_t *credentials) {
    return CGNUTLS(api, certificate_allocate_credentials)(credentials);
}
static inline void cgnutls_certificate_free_credentials(const cgnutls_api *api, gnutls_certificate_credentials_t credentials) {
    CGNUTLS(api, certificate_free_credentials)(credentials);
}
static inline int cgnutls_certificate_set_key(const cgnutls_api *api, gnutls_certificate_credentials_t credentials,
                                              gnutls_pcert_st *pcert, gnutls_privkey_t key) {
    return CGNUTLS(api, certificate_set_key)(credentials, NULL, 0, pcert, 1, key);
}
static inline void cgnutls_certificate_set_verify_function(const cgnutls_api *api, gnutls_certificate_credentials_t credentials,
                                                           int (*function)(gnutls_session_t)) {
    CGNUTLS(api, certificate_set_verify_function)(credentials, function);
}
static inline int cgnutls_server_certificate_type(const cgnutls_api *api, gnutls_session_t session) {
    return (int)CGNUTLS(api, certificate_type_get2)(session, GNUTLS_CTYPE_SERVER);
}
static inline const gnutls_datum_t *cgnutls_certificate_get_peers(const cgnutls_api *api, gnutls_session_t session,
                                                                  unsigned int *count) {
    return CGNUTLS(api, certificate_get_peers)(session, count);
}
static inline int cgnutls_pcert_import_rawpk_der(const cgnutls_api *api, gnutls_pcert_st *pcert, const gnutls_datum_t *spki) {
    return CGNUTLS(api, pcert_import_rawpk_raw)(pcert, spki, GNUTLS_X509_FMT_DER, 0, 0);
}
static inline void cgnutls_pcert_deinit(const cgnutls_api *api, gnutls_pcert_st *pcert) { CGNUTLS(api, pcert_deinit)(pcert); }
static inline int cgnutls_privkey_init(const cgnutls_api *api, gnutls_privkey_t *key) { return CGNUTLS(api, privkey_init)(key); }
static inline void cgnutls_privkey_deinit(const cgnutls_api *api, gnutls_privkey_t key) { CGNUTLS(api, privkey_deinit)(key); }
static inline int cgnutls_privkey_import_ext4(const cgnutls_api *api, gnutls_privkey_t key, void *userdata,
                                              gnutls_privkey_sign_hash_func sign_hash, gnutls_privkey_deinit_func deinit,
                                              gnutls_privkey_info_func info) {
    return CGNUTLS(api, privkey_import_ext4)(key, userdata, NULL, sign_hash, NULL, deinit, info, 0);
}
static inline void cgnutls_transport_set_ptr(const cgnutls_api *api, gnutls_session_t session, void *pointer) {
    CGNUTLS(api, transport_set_ptr)(session, pointer);
}
static inline void cgnutls_transport_set_functions(const cgnutls_api *api, gnutls_session_t session, gnutls_push_func push,
                                                   gnutls_pull_func pull, gnutls_pull_timeout_func pull_timeout) {
    CGNUTLS(api, transport_set_push_function)(session, push);
    CGNUTLS(api, transport_set_pull_function)(session, pull);
    CGNUTLS(api, transport_set_pull_timeout_function)(session, pull_timeout);
}
static inline void cgnutls_transport_set_errno(const cgnutls_api *api, gnutls_session_t session, int error) {
    CGNUTLS(api, transport_set_errno)(session, error);
}
static inline void cgnutls_dtls_set_timeouts(const cgnutls_api *api, gnutls_session_t session, unsigned int retransmission,
                                             unsigned int total) {
    CGNUTLS(api, dtls_set_timeouts)(session, retransmission, total);
}
static inline void cgnutls_dtls_set_mtu(const cgnutls_api *api, gnutls_session_t session, unsigned int mtu) {
    CGNUTLS(api, dtls_set_mtu)(session, mtu);
}
static inline unsigned int cgnutls_dtls_get_timeout(const cgnutls_api *api, gnutls_session_t session) {
    return CGNUTLS(api, dtls_get_timeout)(session);
}
static inline int cgnutls_handshake(const cgnutls_api *api, gnutls_session_t session) { return CGNUTLS(api, handshake)(session); }
static inline ssize_t cgnutls_record_send(const cgnutls_api *api, gnutls_session_t session, const void *data, size_t count) {
    return CGNUTLS(api, record_send)(session, data, count);
}
static inline ssize_t cgnutls_record_recv(const cgnutls_api *api, gnutls_session_t session, void *data, size_t count) {
    return CGNUTLS(api, record_recv)(session, data, count);
}
static inline int cgnutls_bye(const cgnutls_api *api, gnutls_session_t session) {
    return CGNUTLS(api, bye)(session, GNUTLS_SHUT_WR);
}
static inline const char *cgnutls_cipher_suite_name(const cgnutls_api *api, gnutls_session_t session) {
    return CGNUTLS(api, cipher_suite_get_name)(CGNUTLS(api, kx_get)(session), CGNUTLS(api, cipher_get)(session),
                                                 CGNUTLS(api, mac_get)(session));
}
/// A copy of `count` bytes in memory from gnutls_malloc (GnuTLS frees signatures it is given).
static inline void *cgnutls_malloc_copy(const cgnutls_api *api, const void *bytes, size_t count) {
    gnutls_alloc_function allocate = *(gnutls_alloc_function *)api->malloc_pointer;
    void *copy = allocate(count);
    if (copy != NULL) __builtin_memcpy(copy, bytes, count);
    return copy;
}

/// GnuTLS's codes and flags the Swift side needs (some are macros Swift does not import).
enum {
    CGNUTLS_E_AGAIN = GNUTLS_E_AGAIN,
    CGNUTLS_E_INTERRUPTED = GNUTLS_E_INTERRUPTED,
    CGNUTLS_E_TIMEDOUT = GNUTLS_E_TIMEDOUT,
    CGNUTLS_E_FATAL_ALERT_RECEIVED = GNUTLS_E_FATAL_ALERT_RECEIVED,
    CGNUTLS_E_WARNING_ALERT_RECEIVED = GNUTLS_E_WARNING_ALERT_RECEIVED,
    CGNUTLS_E_CERTIFICATE_ERROR = GNUTLS_E_CERTIFICATE_ERROR,
    CGNUTLS_E_CERTIFICATE_VERIFICATION_ERROR = GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR,
    CGNUTLS_E_PK_SIGN_FAILED = GNUTLS_E_PK_SIGN_FAILED,
    CGNUTLS_E_INVALID_REQUEST = GNUTLS_E_INVALID_REQUEST,
    CGNUTLS_E_MEMORY_ERROR = GNUTLS_E_MEMORY_ERROR,
    CGNUTLS_E_LARGE_PACKET = GNUTLS_E_LARGE_PACKET,
    CGNUTLS_E_UNSUPPORTED_CERTIFICATE_TYPE = GNUTLS_E_UNSUPPORTED_CERTIFICATE_TYPE,
    CGNUTLS_E_NO_CERTIFICATE_FOUND = GNUTLS_E_NO_CERTIFICATE_FOUND,
    CGNUTLS_E_PREMATURE_TERMINATION = GNUTLS_E_PREMATURE_TERMINATION,
    CGNUTLS_CLIENT_FLAGS = GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_ENABLE_RAWPK | GNUTLS_NO_TICKETS,
    CGNUTLS_CRT_RAWPK = GNUTLS_CRT_RAWPK,
    CGNUTLS_PK_ECDSA = GNUTLS_PK_ECDSA,
    CGNUTLS_SIGN_ECDSA_SHA256 = GNUTLS_SIGN_ECDSA_SHA256,
    CGNUTLS_SIGN_ECDSA_SECP256R1_SHA256 = GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
    CGNUTLS_PRIVKEY_INFO_PK_ALGO = GNUTLS_PRIVKEY_INFO_PK_ALGO,
    CGNUTLS_PRIVKEY_INFO_SIGN_ALGO = GNUTLS_PRIVKEY_INFO_SIGN_ALGO,
    CGNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO = GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO,
    CGNUTLS_PRIVKEY_INFO_PK_ALGO_BITS = GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS,
};
/// The signature algorithm a GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO query asks about.
static inline unsigned int cgnutls_flags_to_sign_algo(unsigned int flags) { return GNUTLS_FLAGS_TO_SIGN_ALGO(flags); }
