/*
 * authlog.c - authentication failures in the log (see authlog.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "authlog.h"
#include "crypto.h"
#include "log.h"

/* Set once by id_authlog_init() before threads start; read-only afterwards. */
static const char *id_authlog_key;

/* Domain separation: the same secret also keys the OTP hashes. */
#define ID_AUTHLOG_LABEL "authlog-subject:"


void
id_authlog_init(const char *secret)
{
    id_authlog_key = secret;
}


int
id_authlog_subject(const char *address, char out[ID_AUTHLOG_SUBJECT_LEN])
{
    int           rc = -1;
    size_t        i, n;
    char          msg[320];
    unsigned char mac[ID_SHA256_LEN];

    if (id_authlog_key == NULL || address == NULL) {
        return -1;
    }
    n = strlen(ID_AUTHLOG_LABEL);
    if (n + strlen(address) >= sizeof(msg)) {
        return -1;
    }
    memcpy(msg, ID_AUTHLOG_LABEL, n);
    for (i = 0; address[i] != '\0'; i++) {
        msg[n++] = (char) tolower((unsigned char) address[i]);
    }
    if (id_crypto_hmac_sha256(id_authlog_key, strlen(id_authlog_key), msg, n,
                              mac) == 0) {
        /* 128 bits: no collisions among real addresses, short in the log */
        rc = id_crypto_b64url_encode(mac, 16, out, ID_AUTHLOG_SUBJECT_LEN);
    }
    OPENSSL_cleanse(msg, sizeof(msg));
    return rc;
}


void
id_authlog_failure(id_http_req_t *r, const char *kind, const char *reason,
                   const char *user_id, const char *address)
{
    char        subject[ID_AUTHLOG_SUBJECT_LEN];
    const char *subj = NULL;

    if (user_id == NULL && address != NULL &&
        id_authlog_subject(address, subject) == 0) {
        subj = subject;
    }
    id_log_warn("auth.failure", "kind", kind, "reason", reason, "user_id",
                user_id, "subject", subj, "client_ip",
                r != NULL ? r->client_ip : NULL, NULL);
}
