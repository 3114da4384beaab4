/*
 * test_bcrypt.c - imported bcrypt hashes through the one password check of
 * every flow (id_crypto_password_verify, lib/crypto.c): known vectors of
 * each prefix, wrong passwords, malformed hashes refused without a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "unit.h"

/* crypt_blowfish's test vectors ("U*U", cost 5); for ASCII passwords the
 * three prefixes hash alike */
#define UU_2A "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define UU_2B "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define UU_2Y "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define UU_2X "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
/* OpenBSD's: 72 bytes count, the rest is ignored */
#define LONG_2A "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
#define LONG_PW                                                                \
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
/* 8-bit password: $2y$ (and $2b$) hash it right, as PHP does */
#define FF_2Y "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"


static int
verify(const char *hash, const char *pw)
{
    return id_crypto_password_verify(hash, pw, strlen(pw));
}


int
main(void)
{
    id_argon2_params_t p = { 64, 1, 1 };
    char              *h, bad[64];

    UNIT_INT(verify(UU_2A, "U*U"), 0, "$2a$ vector verifies");
    UNIT_INT(verify(UU_2B, "U*U"), 0, "$2b$ vector verifies");
    UNIT_INT(verify(UU_2Y, "U*U"), 0, "$2y$ vector verifies");
    UNIT_INT(verify(UU_2A, "U*V"), 1, "$2a$: wrong password mismatches");
    UNIT_INT(verify(UU_2B, "U*U "), 1, "$2b$: wrong password mismatches");
    UNIT_INT(verify(UU_2Y, ""), 1, "$2y$: empty password mismatches");
    UNIT_INT(verify(LONG_2A, LONG_PW "chars after 72 are ignored"), 0,
             "bcrypt's 72-byte limit as the importing system had it");
    UNIT_INT(verify(LONG_2A, LONG_PW), 0, "the first 72 bytes alone");
    UNIT_INT(verify(FF_2Y, "\xff\xff\xa3"), 0, "$2y$ 8-bit vector verifies");
    UNIT_INT(id_crypto_password_verify(UU_2B, "U*U\0x", 5), 1,
             "a password with a NUL byte never matches");
    UNIT_INT(id_crypto_password_is_bcrypt(UU_2B), 1, "is_bcrypt: $2b$");
    UNIT_INT(id_crypto_password_is_bcrypt("$argon2id$v=19$m=64,t=1,p=1$x$y"), 0,
             "is_bcrypt: argon2id is not");

    /* malformed: refused (-1), never a match, never a crash */
    UNIT_INT(verify(UU_2X, "U*U"), -1, "$2x$ (the buggy variant) refused");
    UNIT_INT(verify("$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvy",
                    "U*U"),
             -1, "truncated hash refused");
    UNIT_INT(verify(UU_2B "x", "U*U"), -1, "over-long hash refused");
    UNIT_INT(
        verify("$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
               "U*U"),
        -1, "cost below 4 refused");
    UNIT_INT(
        verify("$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
               "U*U"),
        -1, "cost above the bound refused (no hour-long login)");
    UNIT_INT(
        verify("$2b$0a$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
               "U*U"),
        -1, "non-digit cost refused");
    UNIT_INT(
        verify("$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyO!W",
               "U*U"),
        -1, "a character outside bcrypt's base64 refused");
    UNIT_INT(
        verify("$2b$05XCCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
               "U*U"),
        -1, "missing separator refused");
    UNIT_INT(verify("$2b$", "U*U"), -1, "prefix alone refused");
    UNIT_INT(verify("", "U*U"), -1, "empty hash refused");
    UNIT_INT(id_crypto_password_verify(NULL, "U*U", 3), -1, "NULL refused");
    UNIT_INT(verify("*0", "U*U"), -1, "a crypt failure token refused");
    UNIT_INT(verify("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "x"), -1,
             "MD5-crypt is not accepted");
    memset(bad, 'A', sizeof(bad) - 1);
    bad[sizeof(bad) - 1] = '\0';
    memcpy(bad, "$2b$05$", 7);
    UNIT_INT(verify(bad, "U*U"), -1, "63 characters refused");

    /* the same entry point keeps verifying Argon2id */
    h = id_crypto_argon2_hash(&p, "velvet orbit canyon 42", 22);
    UNIT_INT(verify(h, "velvet orbit canyon 42"), 0, "argon2id verifies");
    UNIT_INT(verify(h, "velvet orbit canyon 43"), 1, "argon2id mismatches");
    UNIT_INT(id_crypto_password_is_bcrypt(h), 0, "argon2id is not bcrypt");
    free(h);
    return UNIT_DONE();
}
