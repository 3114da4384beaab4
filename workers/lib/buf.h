/*
 * buf.h - a growable string: appends that never fail half-way, one check
 * at the end.
 *
 *   id_buf_t b = ID_BUF_INIT;
 *   id_buf_add(&b, s, n)   appends n bytes of s (kept NUL-terminated); after
 *       an allocation failure it does nothing and b.oom is set.
 *   id_buf_adds(&b, s)     the same for a C string.
 *   id_buf_done(&b)        the string, owned by the caller (free()); "" if
 *       nothing was added; NULL if memory ran out (what was built is freed).
 *
 * b.buf and b.len may be read in between (b.buf NULL until the first add).
 */
#ifndef ID_BUF_H
#define ID_BUF_H

#include <stddef.h>

typedef struct {
    char  *buf;
    size_t len;
    size_t cap;
    int    oom;
} id_buf_t;

#define ID_BUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0, 0                                                          \
    }

void  id_buf_add(id_buf_t *b, const char *s, size_t n);
void  id_buf_adds(id_buf_t *b, const char *s);
char *id_buf_done(id_buf_t *b);

#endif
