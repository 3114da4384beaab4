/*
 * identity-keygen - makes (and rotates) the access-token signing keys, and
 * the notify worker's key pair for the codes sealed in notification jobs.
 *
 *   identity-keygen --alg ES256|RS256|HS256 --kid <kid> \
 *                   --private <file> --public <jwks file> \
 *                   [--force | --rotate [--keep N]]
 *   identity-keygen --alg X25519 --private <file> --public <file> \
 *                   [--force | --rotate [--keep N]]
 *
 * --private gets a JWK set {"keys":[<private JWK>...]} (mode 0600) for the
 * auth worker's JWT_SIGNING_KEY_FILE; --public gets the public JWKS for
 * nginx's identity_jwt_keys.  HS256 has no public half: the "public" file
 * then holds the shared secret too and is written 0600 as well.
 *
 * Existing files are never overwritten without --force.  --rotate keeps the
 * existing private set: the new key goes first (the auth worker signs with
 * the first key) and at most N (default 2) previous keys follow, so tokens
 * they signed keep verifying at the gateway until they expire.  Files are
 * replaced atomically (temporary file + rename).
 *
 * X25519 (libsodium crypto_box): --private gets the secret key, unpadded
 * base64url on one line (mode 0600), for notify's NOTIFY_SECRET_KEY_FILE;
 * --public the public key the same way, the value of NOTIFY_PUBLIC_KEY for
 * the workers that send jobs.  --rotate puts the new key first and keeps at
 * most N previous ones on the lines after it: notify still opens jobs
 * sealed to them while they drain.  No --kid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "crypto.h"


static void
keygen_usage(FILE *f)
{
    fprintf(f, "usage: identity-keygen --alg ES256|RS256|HS256 --kid <kid> "
               "--private <file> --public <jwks file>\n"
               "                       [--force | --rotate [--keep N]]\n"
               "       identity-keygen --alg X25519 --private <file> "
               "--public <file>\n"
               "                       [--force | --rotate [--keep N]]\n");
}


/* Writes text (a malloc'd string, freed here) to path with mode, via a
 * temporary file and rename(2). */
static int
keygen_write_text(const char *path, char *text, mode_t mode)
{
    int     fd;
    char    tmp[4096];
    size_t  len, off = 0;
    ssize_t n;

    if (text == NULL) {
        return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "identity-keygen: %s: %s\n", tmp, strerror(errno));
        OPENSSL_cleanse(text, strlen(text));
        free(text);
        return -1;
    }
    len = strlen(text);
    while (off < len) {
        n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            break;
        }
        off += (size_t) n;
    }
    OPENSSL_cleanse(text, len);
    free(text);
    if (off != len || fchmod(fd, mode) != 0 || fsync(fd) != 0 ||
        close(fd) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "identity-keygen: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}


/* Writes set to path with mode (JSON, a newline at the end). */
static int
keygen_write(const char *path, const json_t *set, mode_t mode)
{
    size_t len;
    char  *text, *out;

    text = json_dumps(set, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        return -1;
    }
    len = strlen(text);
    out = realloc(text, len + 2);
    if (out == NULL) {
        OPENSSL_cleanse(text, len);
        free(text);
        return -1;
    }
    out[len] = '\n';
    out[len + 1] = '\0';
    return keygen_write_text(path, out, mode);
}


/*
 * --alg X25519: a new key pair, the secret key first in priv (the previous
 * ones of priv after it with rotate, at most keep), the public key in pub.
 */
static int
keygen_x25519(const char *priv, const char *pub, int rotate, long keep)
{
    int           rc = -1;
    char          line[256], sk64[ID_BOX_KEY_B64_LEN + 1];
    char          pk64[ID_BOX_KEY_B64_LEN + 1], *text = NULL;
    long          kept = 0;
    size_t        len, cap;
    FILE         *f;
    unsigned char pk[ID_BOX_KEY_LEN], sk[ID_BOX_KEY_LEN], old[ID_BOX_KEY_LEN];

    if (id_crypto_box_keypair(pk, sk) != 0 ||
        id_crypto_b64url_encode(sk, sizeof(sk), sk64, sizeof(sk64)) != 0 ||
        id_crypto_b64url_encode(pk, sizeof(pk), pk64, sizeof(pk64)) != 0) {
        fprintf(stderr, "identity-keygen: key generation failed\n");
        goto done;
    }
    cap = (size_t) (keep + 1) * (ID_BOX_KEY_B64_LEN + 1) + 1;
    text = malloc(cap);
    if (text == NULL) {
        goto done;
    }
    snprintf(text, cap, "%s\n", sk64);
    if (rotate) {
        f = fopen(priv, "r");
        if (f == NULL) {
            fprintf(stderr, "identity-keygen: %s: %s\n", priv, strerror(errno));
            goto done;
        }
        while (fgets(line, sizeof(line), f) != NULL) {
            if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line)) {
                continue;
            }
            if (id_crypto_box_key_parse(line, old) != 0) {
                fprintf(stderr,
                        "identity-keygen: %s: not a file of X25519 "
                        "secret keys\n",
                        priv);
                fclose(f);
                goto done;
            }
            if (kept < keep) {
                len = strlen(text);
                id_crypto_b64url_encode(old, sizeof(old), text + len,
                                        cap - len);
                strcat(text, "\n");
                kept++;
            }
        }
        fclose(f);
    }
    rc = keygen_write_text(priv, text, 0600);
    text = NULL; /* freed by keygen_write_text */
    if (rc != 0) {
        goto done;
    }
    len = strlen(pk64);
    text = malloc(len + 2);
    if (text == NULL) {
        goto done;
    }
    memcpy(text, pk64, len);
    memcpy(text + len, "\n", 2);
    rc = keygen_write_text(pub, text, 0644);
    text = NULL;
    if (rc == 0) {
        fprintf(stderr,
                "identity-keygen: X25519 key pair: %ld key(s) in %s, the "
                "public key in %s\n",
                kept + 1, priv, pub);
    }

done:

    OPENSSL_cleanse(sk, sizeof(sk));
    OPENSSL_cleanse(old, sizeof(old));
    OPENSSL_cleanse(sk64, sizeof(sk64));
    OPENSSL_cleanse(line, sizeof(line));
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    return rc == 0 ? 0 : 1;
}


/* jwk (cjose's JSON export) + kid, alg, use; a new json_t or NULL. */
static json_t *
keygen_jwk(const cjose_jwk_t *jwk, int priv, const char *kid, const char *alg)
{
    char     *text;
    json_t   *key;
    cjose_err err;

    text = cjose_jwk_to_json(jwk, priv, &err);
    if (text == NULL) {
        fprintf(stderr, "identity-keygen: export: %s\n", err.message);
        return NULL;
    }
    key = json_loads(text, 0, NULL);
    free(text);
    if (key != NULL) {
        json_object_set_new(key, "kid", json_string(kid));
        json_object_set_new(key, "alg", json_string(alg));
        json_object_set_new(key, "use", json_string("sig"));
    }
    return key;
}


/* Appends up to keep keys of the existing private set at path to priv and
 * their public halves to pub.  *secret = 1 if one is symmetric.  0 ok. */
static int
keygen_previous(const char *path, const char *kid, long keep, json_t *priv,
                json_t *pub, int *secret)
{
    size_t       i;
    char        *text;
    const char  *okid, *alg, *kty;
    json_t      *old, *keys, *k, *p;
    json_error_t jerr;
    cjose_err    err;
    cjose_jwk_t *jwk;

    old = json_load_file(path, 0, &jerr);
    keys = old ? json_object_get(old, "keys") : NULL;
    if (!json_is_array(keys)) {
        fprintf(stderr, "identity-keygen: %s: not a JWK set (%s)\n", path,
                old ? "no \"keys\" array" : jerr.text);
        json_decref(old);
        return -1;
    }
    json_array_foreach(keys, i, k)
    {
        if ((long) i >= keep) {
            break;
        }
        okid = json_string_value(json_object_get(k, "kid"));
        alg = json_string_value(json_object_get(k, "alg"));
        kty = json_string_value(json_object_get(k, "kty"));
        if (okid == NULL || alg == NULL || kty == NULL) {
            fprintf(stderr, "identity-keygen: %s: key %zu lacks kid/alg\n",
                    path, i);
            json_decref(old);
            return -1;
        }
        if (strcmp(okid, kid) == 0) {
            fprintf(stderr, "identity-keygen: kid \"%s\" is already in %s\n",
                    kid, path);
            json_decref(old);
            return -1;
        }
        text = json_dumps(k, JSON_COMPACT);
        jwk = text ? cjose_jwk_import(text, strlen(text), &err) : NULL;
        free(text);
        if (jwk == NULL) {
            fprintf(stderr, "identity-keygen: %s: key \"%s\" unreadable\n",
                    path, okid);
            json_decref(old);
            return -1;
        }
        *secret |= strcmp(kty, "oct") == 0;
        p = keygen_jwk(jwk, strcmp(kty, "oct") == 0, okid, alg);
        cjose_jwk_release(jwk);
        if (p == NULL) {
            json_decref(old);
            return -1;
        }
        json_array_append(priv, k);
        json_array_append_new(pub, p);
    }
    json_decref(old);
    return 0;
}


int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "alg", required_argument, NULL, 'a' },
        { "kid", required_argument, NULL, 'k' },
        { "private", required_argument, NULL, 'p' },
        { "public", required_argument, NULL, 'P' },
        { "force", no_argument, NULL, 'f' },
        { "rotate", no_argument, NULL, 'r' },
        { "keep", required_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const uint8_t e65537[] = { 0x01, 0x00, 0x01 };
    int                  c, force = 0, rotate = 0, rc = 1, secret = 0;
    long                 keep = 2;
    char                *end;
    const char          *alg = "ES256", *kid = NULL, *priv = NULL, *pub = NULL;
    json_t              *privs = NULL, *pubs = NULL, *k, *set;
    cjose_err            err;
    cjose_jwk_t         *jwk = NULL;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            alg = optarg;
            break;
        case 'k':
            kid = optarg;
            break;
        case 'p':
            priv = optarg;
            break;
        case 'P':
            pub = optarg;
            break;
        case 'f':
            force = 1;
            break;
        case 'r':
            rotate = 1;
            break;
        case 'K':
            keep = strtol(optarg, &end, 10);
            if (*end != '\0' || keep < 0 || keep > 8) {
                fprintf(stderr, "identity-keygen: --keep takes 0..8\n");
                return 2;
            }
            break;
        case 'h':
            keygen_usage(stdout);
            return 0;
        default:
            keygen_usage(stderr);
            return 2;
        }
    }
    if (optind != argc || priv == NULL || pub == NULL || (force && rotate) ||
        (strcmp(alg, "X25519") != 0 && (kid == NULL || kid[0] == '\0'))) {
        keygen_usage(stderr);
        return 2;
    }
    if (strcmp(priv, pub) == 0) {
        fprintf(stderr, "identity-keygen: --private and --public must "
                        "differ\n");
        return 2;
    }
    if (!force && !rotate &&
        (access(priv, F_OK) == 0 || access(pub, F_OK) == 0)) {
        fprintf(stderr,
                "identity-keygen: %s exists (use --force to "
                "overwrite or --rotate to add a key)\n",
                access(priv, F_OK) == 0 ? priv : pub);
        return 1;
    }

    if (strcmp(alg, "X25519") == 0) {
        return keygen_x25519(priv, pub, rotate, keep);
    }
    if (strcmp(alg, "ES256") == 0) {
        jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    } else if (strcmp(alg, "RS256") == 0) {
        jwk = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &err);
    } else if (strcmp(alg, "HS256") == 0) {
        /* cjose counts in bits: 256 bits, 32 bytes */
        jwk = cjose_jwk_create_oct_random(256, &err);
        secret = 1;
    } else {
        fprintf(stderr, "identity-keygen: --alg must be ES256, RS256, HS256 "
                        "or X25519\n");
        return 2;
    }
    if (jwk == NULL) {
        fprintf(stderr, "identity-keygen: key generation: %s\n", err.message);
        return 1;
    }

    privs = json_array();
    pubs = json_array();
    k = keygen_jwk(jwk, 1, kid, alg);
    if (k == NULL || json_array_append_new(privs, k) != 0) {
        goto done;
    }
    k = keygen_jwk(jwk, secret, kid, alg); /* HS256: the secret itself */
    if (k == NULL || json_array_append_new(pubs, k) != 0) {
        goto done;
    }
    if (rotate && keygen_previous(priv, kid, keep, privs, pubs, &secret) != 0) {
        goto done;
    }

    set = json_pack("{s:O}", "keys", privs);
    rc = keygen_write(priv, set, 0600);
    json_decref(set);
    if (rc == 0) {
        set = json_pack("{s:O}", "keys", pubs);
        rc = keygen_write(pub, set, secret ? 0600 : 0644);
        json_decref(set);
    }
    if (rc != 0) {
        rc = 1;
        goto done;
    }
    fprintf(stderr,
            "identity-keygen: %s key \"%s\" signs; %zu key(s) in %s and "
            "%s%s\n",
            alg, kid, json_array_size(privs), priv, pub,
            secret ? " (symmetric: the public file holds a secret)" : "");

done:

    json_decref(privs);
    json_decref(pubs);
    cjose_jwk_release(jwk);
    return rc;
}
