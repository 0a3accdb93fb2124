// recvmmsg(2) for the Transport module: glibc declares it (and struct mmsghdr) only under
// _GNU_SOURCE, which the Swift Glibc module is not built with. The Swift side lays out its own
// mmsghdr (a struct msghdr, then the received length); lwm2m_mmsghdr_size() and
// lwm2m_mmsghdr_len_offset() let it check that layout against the C one.
#ifndef LWM2M_CTRANSPORT_H
#define LWM2M_CTRANSPORT_H

#include <stddef.h>

/// recvmmsg(fd, messages, count, flags, NULL): `messages` points at `count` struct mmsghdr.
int lwm2m_recvmmsg(int fd, void *messages, unsigned int count, int flags);

/// sizeof(struct mmsghdr) and offsetof(struct mmsghdr, msg_len) on this platform.
size_t lwm2m_mmsghdr_size(void);
size_t lwm2m_mmsghdr_len_offset(void);

#endif
