#ifndef LWM2M_AGENT_CMBEDTLS_SHIM_H
#define LWM2M_AGENT_CMBEDTLS_SHIM_H

/* Mbed TLS 2.28: every public header pulls in mbedtls/config.h itself. */
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

#endif
