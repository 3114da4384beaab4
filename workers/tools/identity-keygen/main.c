/*
 * identity-keygen - makes the access-token signing key.
 *
 *   identity-keygen --alg ES256|RS256|HS256 --kid <kid> \
 *                   --private <file> --public <jwks file> [--force]
 *
 * --private gets a JWK set {"keys":[<private JWK>]} (mode 0600) for the auth
 * worker's JWT_SIGNING_KEY_FILE; --public gets the public JWKS for nginx's
 * identity_jwt_keys.  HS256 has no public half: the "public" file then holds
 * the shared secret too and is written 0600 as well.  Existing files are
 * never overwritten without --force.
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


static void
keygen_usage(FILE *f)
{
    fprintf(f, "usage: identity-keygen --alg ES256|RS256|HS256 --kid <kid> "
               "--private <file> --public <jwks file> [--force]\n");
}


/* Writes text to path with mode; refuses an existing file unless force. */
static int
keygen_write(const char *path, const char *text, mode_t mode, int force)
{
    int     fd, flags;
    size_t  len = strlen(text), off = 0;
    ssize_t n;

    flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    fd = open(path, flags, mode);
    if (fd < 0) {
        fprintf(stderr, "identity-keygen: %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (use --force to overwrite)" : "");
        return -1;
    }
    if (fchmod(fd, mode) != 0) {
        fprintf(stderr, "identity-keygen: %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    while (off < len) {
        n = write(fd, text + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "identity-keygen: %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t) n;
    }
    if (write(fd, "\n", 1) != 1 || close(fd) != 0) {
        fprintf(stderr, "identity-keygen: %s: write failed\n", path);
        return -1;
    }
    return 0;
}


/* {"keys":[jwk + kid, alg, use]} from cjose's JSON export. */
static char *
keygen_set(const cjose_jwk_t *jwk, int priv, const char *kid, const char *alg)
{
    char     *text, *out;
    json_t   *key, *set;
    cjose_err err;

    text = cjose_jwk_to_json(jwk, priv, &err);
    if (text == NULL) {
        fprintf(stderr, "identity-keygen: export: %s\n", err.message);
        return NULL;
    }
    key = json_loads(text, 0, NULL);
    free(text);
    if (key == NULL) {
        return NULL;
    }
    json_object_set_new(key, "kid", json_string(kid));
    json_object_set_new(key, "alg", json_string(alg));
    json_object_set_new(key, "use", json_string("sig"));
    set = json_pack("{s:[o]}", "keys", key);
    out = set ? json_dumps(set, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(set);
    return out;
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
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const uint8_t e65537[] = { 0x01, 0x00, 0x01 };
    int                  c, force = 0, rc = 1, hs;
    char                *priv_text = NULL, *pub_text = NULL;
    const char          *alg = "ES256", *kid = NULL, *priv = NULL, *pub = NULL;
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
        case 'h':
            keygen_usage(stdout);
            return 0;
        default:
            keygen_usage(stderr);
            return 2;
        }
    }
    if (optind != argc || kid == NULL || kid[0] == '\0' || priv == NULL ||
        pub == NULL) {
        keygen_usage(stderr);
        return 2;
    }
    if (strcmp(priv, pub) == 0) {
        fprintf(stderr, "identity-keygen: --private and --public must "
                        "differ\n");
        return 2;
    }

    hs = 0;
    if (strcmp(alg, "ES256") == 0) {
        jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    } else if (strcmp(alg, "RS256") == 0) {
        jwk = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &err);
    } else if (strcmp(alg, "HS256") == 0) {
        jwk = cjose_jwk_create_oct_random(32, &err); /* 256-bit secret */
        hs = 1;
    } else {
        fprintf(stderr, "identity-keygen: --alg must be ES256, RS256 or "
                        "HS256\n");
        return 2;
    }
    if (jwk == NULL) {
        fprintf(stderr, "identity-keygen: key generation: %s\n", err.message);
        return 1;
    }

    priv_text = keygen_set(jwk, 1, kid, alg);
    pub_text = keygen_set(jwk, hs, kid, alg); /* HS256: the secret itself */
    if (priv_text == NULL || pub_text == NULL) {
        goto done;
    }
    if (!force && (access(priv, F_OK) == 0 || access(pub, F_OK) == 0)) {
        fprintf(stderr,
                "identity-keygen: %s exists (use --force to "
                "overwrite)\n",
                access(priv, F_OK) == 0 ? priv : pub);
        goto done;
    }
    if (keygen_write(priv, priv_text, 0600, force) != 0 ||
        keygen_write(pub, pub_text, hs ? 0600 : 0644, force) != 0) {
        goto done;
    }
    fprintf(stderr, "identity-keygen: %s key \"%s\": private %s, public %s%s\n",
            alg, kid, priv, pub,
            hs ? " (HS256: the public file holds the shared secret)" : "");
    rc = 0;

done:

    free(priv_text);
    free(pub_text);
    cjose_jwk_release(jwk);
    return rc;
}
