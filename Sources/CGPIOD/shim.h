#ifndef LWM2M_AGENT_CGPIOD_SHIM_H
#define LWM2M_AGENT_CGPIOD_SHIM_H

#include <gpiod.h>

#endif
