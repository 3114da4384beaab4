/*
 * test_buf.c - the growable string (lib/buf.c).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"


int
main(void)
{
    int      i, ok = 1;
    char    *s;
    id_buf_t b = ID_BUF_INIT;

    s = id_buf_done(&b);
    UNIT_OK(s != NULL && strcmp(s, "") == 0, "nothing added: \"\"");
    free(s);

    b = (id_buf_t) ID_BUF_INIT;
    id_buf_adds(&b, "Hi ");
    id_buf_add(&b, "Ann, and more", 3);
    UNIT_OK(b.len == 6 && strcmp(b.buf, "Hi Ann") == 0,
            "add n bytes, adds a string, kept terminated");
    for (i = 0; i < 1000; i++) {
        id_buf_adds(&b, "0123456789");
    }
    ok = b.len == 10006 && b.buf[10006] == '\0' &&
         memcmp(b.buf + 9996, "0123456789", 10) == 0;
    UNIT_OK(ok, "grows past its first allocation");
    s = id_buf_done(&b);
    UNIT_OK(s == b.buf && strncmp(s, "Hi Ann0123", 10) == 0,
            "done hands over the string");
    free(s);

    b = (id_buf_t) ID_BUF_INIT;
    id_buf_adds(&b, "x");
    b.oom = 1; /* as after a failed realloc */
    id_buf_adds(&b, "y");
    UNIT_OK(b.len == 1, "nothing is added after running out of memory");
    UNIT_OK(id_buf_done(&b) == NULL, "done is NULL then (and frees)");

    return UNIT_DONE();
}
