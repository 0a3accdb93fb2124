#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>

#include "CTransport.h"

int lwm2m_recvmmsg(int fd, void *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

size_t lwm2m_mmsghdr_size(void) { return sizeof(struct mmsghdr); }

size_t lwm2m_mmsghdr_len_offset(void) { return offsetof(struct mmsghdr, msg_len); }
