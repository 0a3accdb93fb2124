#ifndef LWM2M_AGENT_CMBEDTLS_SHIM_H
#define LWM2M_AGENT_CMBEDTLS_SHIM_H

/* Mbed TLS 2.28 (Debian libmbedtls-dev), loaded with dlopen: nothing here links it. The headers
 * give the types and constants; `cmbedtls_api` holds the address of every function (and the one
 * data symbol) the agent uses, filled by dlsym when DTLS's MbedTLSLibrary first loads
 * libmbedtls.so.14 (which brings libmbedx509 and libmbedcrypto). Each field has the type of the
 * symbol it stands for, taken from the declaration itself with __typeof__, so a signature cannot
 * drift from the header; Swift calls `mbedTLS.mbedtls_ssl_setup(...)` as it called the function.
 * Every public header pulls in mbedtls/config.h itself. */
#include <mbedtls/version.h>
#include <mbedtls/error.h>
#include <mbedtls/platform.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
/* Internal in 2.x but installed by Debian: mbedtls_pk_info_t, needed for a TPM-backed PK. */
#include <mbedtls/pk_internal.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/timing.h>
#include <mbedtls/debug.h>

/* The symbols the agent uses, by the library that defines them. Adding a call to another mbedTLS
 * function means adding its name here (the link fails otherwise: no mbedTLS library is linked). */
#define CMBEDTLS_SYMBOLS(X) \
    /* libmbedcrypto.so.7 */ \
    X(mbedtls_ecdsa_write_signature) \
    X(mbedtls_ecp_check_pubkey) \
    X(mbedtls_ecp_gen_key) \
    X(mbedtls_ecp_group_load) \
    X(mbedtls_ecp_keypair_free) \
    X(mbedtls_ecp_keypair_init) \
    X(mbedtls_ecp_point_cmp) \
    X(mbedtls_ecp_point_read_binary) \
    X(mbedtls_ecp_point_write_binary) \
    X(mbedtls_pk_free) \
    X(mbedtls_pk_get_type) \
    X(mbedtls_pk_info_from_type) \
    X(mbedtls_pk_init) \
    X(mbedtls_pk_parse_key) \
    X(mbedtls_pk_parse_public_key) \
    X(mbedtls_pk_setup) \
    X(mbedtls_pk_sign) \
    X(mbedtls_pk_verify) \
    X(mbedtls_pk_write_key_pem) \
    X(mbedtls_pk_write_pubkey_der) \
    X(mbedtls_pk_write_pubkey_pem) \
    X(mbedtls_sha256_clone) \
    X(mbedtls_sha256_finish_ret) \
    X(mbedtls_sha256_free) \
    X(mbedtls_sha256_init) \
    X(mbedtls_sha256_ret) \
    X(mbedtls_sha256_starts_ret) \
    X(mbedtls_sha256_update_ret) \
    X(mbedtls_strerror) \
    X(mbedtls_version_check_feature) \
    X(mbedtls_version_get_number) \
    /* libmbedx509.so.1 */ \
    X(mbedtls_x509_crt_free) \
    X(mbedtls_x509_crt_init) \
    X(mbedtls_x509_crt_parse_der) \
    X(mbedtls_x509_crt_verify_info) \
    X(mbedtls_x509write_csr_free) \
    X(mbedtls_x509write_csr_init) \
    X(mbedtls_x509write_csr_pem) \
    X(mbedtls_x509write_csr_set_key) \
    X(mbedtls_x509write_csr_set_md_alg) \
    X(mbedtls_x509write_csr_set_subject_name) \
    /* libmbedtls.so.14 */ \
    X(mbedtls_ssl_ciphersuite_from_id) \
    X(mbedtls_ssl_close_notify) \
    X(mbedtls_ssl_conf_authmode) \
    X(mbedtls_ssl_conf_ca_chain) \
    X(mbedtls_ssl_conf_ciphersuites) \
    X(mbedtls_ssl_conf_handshake_timeout) \
    X(mbedtls_ssl_conf_min_version) \
    X(mbedtls_ssl_conf_own_cert) \
    X(mbedtls_ssl_conf_psk) \
    X(mbedtls_ssl_conf_rng) \
    X(mbedtls_ssl_conf_session_tickets) \
    X(mbedtls_ssl_conf_verify) \
    X(mbedtls_ssl_config_defaults) \
    X(mbedtls_ssl_config_free) \
    X(mbedtls_ssl_config_init) \
    X(mbedtls_ssl_free) \
    X(mbedtls_ssl_get_ciphersuite) \
    X(mbedtls_ssl_get_session) \
    X(mbedtls_ssl_get_verify_result) \
    X(mbedtls_ssl_handshake_step) \
    X(mbedtls_ssl_init) \
    X(mbedtls_ssl_read) \
    X(mbedtls_ssl_session_free) \
    X(mbedtls_ssl_session_init) \
    X(mbedtls_ssl_session_load) \
    X(mbedtls_ssl_session_save) \
    X(mbedtls_ssl_set_bio) \
    X(mbedtls_ssl_set_hostname) \
    X(mbedtls_ssl_set_mtu) \
    X(mbedtls_ssl_set_session) \
    X(mbedtls_ssl_set_timer_cb) \
    X(mbedtls_ssl_setup) \
    X(mbedtls_ssl_write) \
    X(mbedtls_eckey_info) /* data: the EC key vtable SignerKey copies */

/* One field per symbol, in list order, each of the symbol's own pointer type (never null once
 * bound: MbedTLSLibrary refuses a library missing one). */
typedef struct cmbedtls_api {
#define CMBEDTLS_FIELD(name) __typeof__(&name) _Nonnull name;
    CMBEDTLS_SYMBOLS(CMBEDTLS_FIELD)
#undef CMBEDTLS_FIELD
} cmbedtls_api;

/* The name of field `index` of cmbedtls_api, or NULL past the last one: what the binder passes
 * to dlsym, in field order. */
static inline const char *_Nullable cmbedtls_symbol_name(unsigned index) {
#define CMBEDTLS_NAME(name) #name,
    static const char *const names[] = { CMBEDTLS_SYMBOLS(CMBEDTLS_NAME) };
#undef CMBEDTLS_NAME
    return index < sizeof names / sizeof names[0] ? names[index] : 0;
}

#endif
