/*
 * passwd.c - the password policy and NFKC (see passwd.h), over libpwquality
 * (cracklib's dictionary) and libunistring.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <pwquality.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "passwd.h"
#include "problem.h"

#define ID_PASSWD_PIECE_MIN 4 /* characters of a name word or address piece */
#define ID_PASSWD_CORE_MIN 4  /* letters left once digits/symbols go */

#define ID_PASSWD_COMMON                                                       \
    "is too common: it is, or is based on, a dictionary word or a "            \
    "well-known password"
#define ID_PASSWD_SIMPLE                                                       \
    "is too simple: a sequence, a keyboard pattern or too few different "      \
    "characters"
#define ID_PASSWD_GUESSABLE "is too easy to guess"
#define ID_PASSWD_ADDRESS "must not contain your email address"
#define ID_PASSWD_NAME "must not contain your name"
#define ID_PASSWD_ERROR "could not be checked"

/* cracklib keeps state in statics while it looks a word up */
static pthread_mutex_t id_passwd_lock = PTHREAD_MUTEX_INITIALIZER;


char *
id_passwd_normalize(const char *pw, size_t len, size_t *outlen)
{
    size_t   n = 0;
    uint8_t *nf;
    char    *out;

    if (u8_check((const uint8_t *) pw, len) != NULL) {
        return NULL;
    }
    nf = u8_normalize(UNINORM_NFKC, (const uint8_t *) pw, len, NULL, &n);
    if (nf == NULL) {
        return NULL;
    }
    out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, nf, n);
        out[n] = '\0';
        if (outlen != NULL) {
            *outlen = n;
        }
    }
    OPENSSL_cleanse(nf, n);
    free(nf);
    return out;
}


/* s case-folded in NFKC (new, NUL-terminated) or NULL. */
static char *
id_passwd_fold(const char *s, size_t len, size_t *outlen)
{
    size_t   n = 0;
    uint8_t *f;
    char    *out;

    if (u8_check((const uint8_t *) s, len) != NULL) {
        return NULL;
    }
    f = u8_casefold((const uint8_t *) s, len, NULL, UNINORM_NFKC, NULL, &n);
    if (f == NULL && len > 0) {
        return NULL;
    }
    out = malloc(n + 1);
    if (out != NULL) {
        if (n > 0) {
            memcpy(out, f, n);
        }
        out[n] = '\0';
        *outlen = n;
    }
    if (f != NULL) {
        OPENSSL_cleanse(f, n);
    }
    free(f);
    return out;
}


/* 1 if the folded word s[0..n) (of at least min characters) is in pw. */
static int
id_passwd_has(const char *pw, size_t pwlen, const char *s, size_t n, size_t min)
{
    if (n == 0 || u8_mbsnlen((const uint8_t *) s, n) < min) {
        return 0;
    }
    return memmem(pw, pwlen, s, n) != NULL;
}


/* 1 if pw (folded) contains a run of s (folded) between separators. */
static int
id_passwd_has_piece(const char *pw, size_t pwlen, const char *s, size_t len,
                    const char *seps)
{
    size_t i, start = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || strchr(seps, s[i]) != NULL) {
            if (id_passwd_has(pw, pwlen, s + start, i - start,
                              ID_PASSWD_PIECE_MIN)) {
                return 1;
            }
            start = i + 1;
        }
    }
    return 0;
}


/* The context checks: 0 none matched, 1 (*why set), -1 error. */
static int
id_passwd_context(const char *pw, const char *email, const char *const *names,
                  size_t nnames, const char **why)
{
    int         rc = -1;
    size_t      i, pwlen, n, local;
    char       *fpw, *f = NULL;
    const char *at;

    fpw = id_passwd_fold(pw, strlen(pw), &pwlen);
    if (fpw == NULL) {
        return -1;
    }
    if (email != NULL && email[0] != '\0') {
        f = id_passwd_fold(email, strlen(email), &n);
        if (f == NULL) {
            goto done;
        }
        at = strrchr(f, '@');
        local = at != NULL ? (size_t) (at - f) : n;
        if (id_passwd_has(fpw, pwlen, f, n, 1) ||
            id_passwd_has(fpw, pwlen, f, local, 3) ||
            id_passwd_has_piece(fpw, pwlen, f, local, ".+_-")) {
            *why = ID_PASSWD_ADDRESS;
            rc = 1;
            goto done;
        }
        OPENSSL_cleanse(f, n);
        free(f);
        f = NULL;
    }
    for (i = 0; i < nnames; i++) {
        if (names == NULL || names[i] == NULL || names[i][0] == '\0') {
            continue;
        }
        f = id_passwd_fold(names[i], strlen(names[i]), &n);
        if (f == NULL) {
            goto done;
        }
        if (id_passwd_has_piece(fpw, pwlen, f, n, " \t-.,'")) {
            *why = ID_PASSWD_NAME;
            rc = 1;
            goto done;
        }
        free(f);
        f = NULL;
    }
    rc = 0;

done:

    if (f != NULL) {
        OPENSSL_cleanse(f, strlen(f));
    }
    free(f);
    OPENSSL_cleanse(fpw, pwlen);
    free(fpw);
    return rc;
}


/* libpwquality with cracklib's checks only (no composition rules). */
static pwquality_settings_t *
id_passwd_settings(void)
{
    size_t                i;
    pwquality_settings_t *q;

    static const int zero[] = {
        PWQ_SETTING_DIG_CREDIT,   PWQ_SETTING_UP_CREDIT,
        PWQ_SETTING_LOW_CREDIT,   PWQ_SETTING_OTH_CREDIT,
        PWQ_SETTING_MIN_CLASS,    PWQ_SETTING_MAX_REPEAT,
        PWQ_SETTING_MAX_SEQUENCE, PWQ_SETTING_MAX_CLASS_REPEAT,
        PWQ_SETTING_GECOS_CHECK,  PWQ_SETTING_USER_CHECK,
        PWQ_SETTING_DIFF_OK,
    };

    q = pwquality_default_settings();
    if (q == NULL) {
        return NULL;
    }
    /* the length is the callers' policy; cracklib refuses below 6 anyway */
    pwquality_set_int_value(q, PWQ_SETTING_MIN_LENGTH, 6);
    for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
        pwquality_set_int_value(q, zero[i], 0);
    }
    pwquality_set_int_value(q, PWQ_SETTING_DICT_CHECK, 1);
    return q;
}


/*
 * cracklib's verdict on s: 0 fine, 1 refused (*why), -1 error.  With
 * words_only, only "a dictionary word" counts (for the core of a password,
 * which may be short or plain).
 */
static int
id_passwd_dictionary(const char *s, int words_only, const char **why)
{
    int                   rc;
    void                 *aux = NULL;
    const char           *msg;
    pwquality_settings_t *q;

    q = id_passwd_settings();
    if (q == NULL) {
        return -1;
    }
    pthread_mutex_lock(&id_passwd_lock);
    rc = pwquality_check(q, s, NULL, NULL, &aux);
    pthread_mutex_unlock(&id_passwd_lock);
    pwquality_free_settings(q);
    if (rc >= 0) {
        return 0;
    }
    if (rc == PWQ_ERROR_MEM_ALLOC) {
        return -1;
    }
    /* for CRACKLIB_CHECK, aux is cracklib's static message */
    msg = rc == PWQ_ERROR_CRACKLIB_CHECK && aux != NULL ? aux : "";
    if (strstr(msg, "error loading") != NULL) {
        return -1; /* no dictionary: not the password's fault */
    }
    if (strstr(msg, "dictionary word") != NULL) {
        *why = ID_PASSWD_COMMON;
        return 1;
    }
    if (words_only) {
        return 0;
    }
    if (strstr(msg, "simplistic") != NULL || strstr(msg, "DIFFERENT") != NULL ||
        strstr(msg, "whitespace") != NULL) {
        *why = ID_PASSWD_SIMPLE;
    } else {
        *why = ID_PASSWD_GUESSABLE;
    }
    return 1;
}


static int
id_passwd_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}


int
id_passwd_policy(const char *pw, const char *email, const char *const *names,
                 size_t nnames, const char **why)
{
    int    rc;
    char  *nf, *core;
    size_t len, start, end;

    *why = ID_PASSWD_ERROR;
    rc = id_passwd_context(pw, email, names, nnames, why);
    if (rc != 0) {
        return rc;
    }
    nf = id_passwd_normalize(pw, strlen(pw), &len);
    if (nf == NULL) {
        return -1;
    }
    rc = id_passwd_dictionary(nf, 0, why);
    if (rc == 0) {
        /* "Password123!", "!!monkey2024": the word under the decoration */
        for (start = 0; start < len && !id_passwd_letter(nf[start]); start++) {
        }
        for (end = len; end > start && !id_passwd_letter(nf[end - 1]); end--) {
        }
        if ((start > 0 || end < len) &&
            u8_mbsnlen((const uint8_t *) nf + start, end - start) >=
                ID_PASSWD_CORE_MIN) {
            core = strndup(nf + start, end - start);
            rc = core != NULL ? id_passwd_dictionary(core, 1, why) : -1;
            if (core != NULL) {
                OPENSSL_cleanse(core, end - start);
            }
            free(core);
        }
    }
    OPENSSL_cleanse(nf, len);
    free(nf);
    return rc;
}


int
id_passwd_init(char *err, size_t errlen)
{
    const char *why;

    if (id_passwd_dictionary("password", 1, &why) != 1 ||
        id_passwd_dictionary("quartz lantern meadow 7", 0, &why) != 0) {
        snprintf(err, errlen,
                 "the password dictionary does not work (cracklib: install "
                 "cracklib-runtime, which builds %s)",
                 "/var/cache/cracklib/cracklib_dict.*");
        return -1;
    }
    return 0;
}


int
id_passwd_field(json_t *errors, const char *field, const char *pw,
                const char *email, const json_t *profile)
{
    int         rc;
    const char *why, *names[3];

    names[0] = json_string_value(json_object_get(profile, "name"));
    names[1] = json_string_value(json_object_get(profile, "first_name"));
    names[2] = json_string_value(json_object_get(profile, "last_name"));
    rc = id_passwd_policy(pw, email, names, 3, &why);
    if (rc != 0) {
        id_problem_add_error(errors, field, why);
    }
    return rc;
}
