/*
 * buf.c - a growable string (see buf.h).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"


void
id_buf_add(id_buf_t *b, const char *s, size_t n)
{
    char  *nb;
    size_t cap;

    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        nb = realloc(b->buf, cap);
        if (nb == NULL) {
            b->oom = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}


void
id_buf_adds(id_buf_t *b, const char *s)
{
    id_buf_add(b, s, strlen(s));
}


char *
id_buf_done(id_buf_t *b)
{
    if (b->oom) {
        free(b->buf);
        return NULL;
    }
    if (b->buf == NULL) {
        return strdup("");
    }
    return b->buf;
}
