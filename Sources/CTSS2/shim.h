#ifndef LWM2M_AGENT_CTSS2_SHIM_H
#define LWM2M_AGENT_CTSS2_SHIM_H

#include <tss2/tss2_common.h>
#include <tss2/tss2_tpm2_types.h>
#include <tss2/tss2_tcti.h>
#include <tss2/tss2_tctildr.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#endif
