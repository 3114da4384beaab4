/*
 * test_authlog.c - the keyed address hash of the authentication log.
 */
#include <string.h>

#include "authlog.h"
#include "unit.h"


static void
test_subject(void)
{
    char a[ID_AUTHLOG_SUBJECT_LEN], b[ID_AUTHLOG_SUBJECT_LEN];
    char c[ID_AUTHLOG_SUBJECT_LEN];

    id_authlog_init(NULL);
    UNIT_OK(id_authlog_subject("ann@example.com", a) == -1,
            "no key: no subject");

    id_authlog_init("0123456789abcdef0123456789abcdef");
    UNIT_OK(id_authlog_subject("ann@example.com", a) == 0, "subject made");
    UNIT_OK(strlen(a) == 22, "22 characters");
    UNIT_OK(strstr(a, "ann") == NULL, "the address is not in it");
    UNIT_OK(id_authlog_subject("Ann@Example.COM", b) == 0 && strcmp(a, b) == 0,
            "the same address in other case gives the same subject");
    UNIT_OK(id_authlog_subject("bob@example.com", c) == 0 && strcmp(a, c) != 0,
            "another address gives another subject");

    id_authlog_init("fedcba9876543210fedcba9876543210");
    UNIT_OK(id_authlog_subject("ann@example.com", c) == 0 && strcmp(a, c) != 0,
            "another key gives another subject");
}


int
main(void)
{
    test_subject();
    return unit_done();
}
