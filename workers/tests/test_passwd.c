/*
 * test_passwd.c - the password policy and Unicode normalisation
 * (lib/passwd.c), the Argon2id start-up check and NFKC inside the
 * password hash (lib/crypto.c), and the HS256 key length (lib/jwt.c).
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "crypto.h"
#include "jwt.h"
#include "passwd.h"


/* The policy's verdict on pw for ann.leeds+shop@example.com, "Annabel Lee". */
static int
verdict(const char *pw, const char **why)
{
    static const char *const names[] = { "Annabel Lee", NULL, "Annabel", "" };

    *why = NULL;
    return id_passwd_policy(pw, "ann.leeds+shop@example.com", names, 4, why);
}


static int
refused_for(const char *pw, const char *want)
{
    const char *why;

    return verdict(pw, &why) == 1 && why != NULL && strstr(why, want) != NULL;
}


static int
normal(const char *in, const char *want)
{
    int    ok;
    char  *out;
    size_t len;

    out = id_passwd_normalize(in, strlen(in), &len);
    ok = out != NULL && len == strlen(want) && strcmp(out, want) == 0;
    if (!ok) {
        printf("#   got: %s\n", out ? out : "(null)");
    }
    free(out);
    return ok;
}


int
main(void)
{
    char               err[256], *h;
    const char        *why;
    id_argon2_params_t p;
    id_jwt_keys_t     *k;
    id_argon2_params_t fast = { 64, 1, 1 };

    UNIT_INT(id_passwd_init(err, sizeof(err)), 0,
             "the dictionary loads (cracklib through libpwquality)");

    /* --- NFKC --------------------------------------------------------------
     */

    UNIT_OK(normal("\xef\xac\x81"
                   "ne",
                   "fine"),
            "the fi ligature is fi");
    UNIT_OK(normal("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93", "123"),
            "full-width digits are ASCII digits");
    UNIT_OK(normal("Cafe\xcc\x81", "Caf\xc3\xa9"),
            "a combining accent composes (NFC part)");
    UNIT_OK(normal("\xe2\x85\xa8", "IX"), "the Roman numeral nine is IX");
    UNIT_OK(normal("plain ascii 1", "plain ascii 1"), "ASCII stays");
    UNIT_OK(id_passwd_normalize("\xff\xfe", 2, NULL) == NULL,
            "not UTF-8: NULL");

    /* --- the policy --------------------------------------------------------
     */

    UNIT_INT(verdict("quartz lantern meadow 7", &why), 0,
             "a passphrase passes");
    UNIT_INT(verdict("Tr0ub4dor&3 xylophone", &why), 0, "so does this");
    UNIT_OK(refused_for("password1", "common"), "password1: too common");
    UNIT_OK(refused_for("Password123!", "common"),
            "Password123!: a dictionary word with digits and a symbol");
    UNIT_OK(refused_for("monkey123", "common") &&
                refused_for("qwertyuiop", "common") &&
                refused_for("iloveyou", "common") &&
                refused_for("letmein1", "common"),
            "monkey123, qwertyuiop, iloveyou, letmein1: too common");
    UNIT_OK(refused_for("\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
                        "word\xef\xbc\x91",
                        "common"),
            "a full-width \"password1\" is normalised first: too common");
    UNIT_OK(refused_for("abcdefghij", "simple"), "a sequence: too simple");
    UNIT_INT(verdict("aaaaaaaaaa", &why), 1, "one repeated character: refused");
    UNIT_OK(refused_for("my ann.leeds+shop@example.com", "address"),
            "the whole address: refused");
    UNIT_OK(refused_for("ANN.LEEDS lantern 42", "address"),
            "the local part, any case");
    UNIT_OK(refused_for("lantern annabel 42", "name"), "the name, any case");
    UNIT_OK(refused_for("quartz LEEDS meadow 7", "address"),
            "a piece of the local part (leeds of ann.leeds)");
    UNIT_INT(verdict("annotated quartz 7", &why), 0,
             "a word that merely starts like a short name piece passes");
    UNIT_OK(id_passwd_policy("quartz lantern meadow 7", NULL, NULL, 0, &why) ==
                0,
            "no address or name to compare with: only the dictionary");

    /* --- Argon2id: the OWASP minimum at start-up ----------------------------
     */

    p = (id_argon2_params_t){ 19456, 2, 1 };
    UNIT_INT(id_crypto_argon2_check(&p, err, sizeof(err)), 0,
             "m=19456 t=2 p=1 (OWASP) accepted");
    p = (id_argon2_params_t){ 12288, 3, 1 };
    UNIT_INT(id_crypto_argon2_check(&p, err, sizeof(err)), 0,
             "m=12288 t=3 (an OWASP equivalent) accepted");
    p = (id_argon2_params_t){ 65536, 1, 4 };
    UNIT_INT(id_crypto_argon2_check(&p, err, sizeof(err)), 0,
             "m=64 MiB t=1 (above OWASP's m=47104 t=1) accepted");
    p = (id_argon2_params_t){ 8192, 2, 1 };
    UNIT_OK(id_crypto_argon2_check(&p, err, sizeof(err)) == -1 &&
                strstr(err, "ARGON2_MEMORY_KIB") != NULL &&
                strstr(err, "19456") != NULL,
            "m=8192 refused, the message names the setting and the minimum");
    p = (id_argon2_params_t){ 19456, 1, 1 };
    UNIT_OK(id_crypto_argon2_check(&p, err, sizeof(err)) == -1 &&
                strstr(err, "ARGON2_ITERATIONS") != NULL,
            "t=1 at 19 MiB refused");
    p = (id_argon2_params_t){ 19456, 2, 0 };
    UNIT_INT(id_crypto_argon2_check(&p, err, sizeof(err)), -1, "p=0 refused");

    /* --- the hash sees the NFKC form ----------------------------------------
     */

    h = id_crypto_argon2_hash(&fast, "\xef\xac\x81ne \xef\xbc\x91", 9);
    UNIT_OK(h != NULL && id_crypto_argon2_verify(h, "fine 1", 6) == 0,
            "hashed with a ligature, verified with the plain form");
    UNIT_INT(id_crypto_argon2_verify(h, "fine 2", 6), 1, "another: mismatch");
    free(h);
    h = id_crypto_argon2_hash(&fast, "fine 1", 6);
    UNIT_OK(h != NULL && id_crypto_argon2_verify(
                             h, "\xef\xac\x81ne \xef\xbc\x91", 9) == 0,
            "hashed plain, verified with the ligature form");
    free(h);

    /* --- HS256 signing keys: at least 32 bytes ------------------------------
     */

    k = id_jwt_keys_parse("{\"kty\":\"oct\",\"kid\":\"s\",\"alg\":\"HS256\","
                          "\"k\":\"AAECAwQFBgcICQoLDA0ODw\"}",
                          err, sizeof(err));
    UNIT_OK(k == NULL && strstr(err, "32 bytes") != NULL,
            "a 16-byte HS256 key is refused, saying the minimum");
    id_jwt_keys_free(k);
    k = id_jwt_keys_parse("{\"kty\":\"oct\",\"kid\":\"s\",\"alg\":\"HS256\","
                          "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
                          "\"}",
                          err, sizeof(err));
    UNIT_OK(k != NULL, "a 32-byte HS256 key is accepted");
    id_jwt_keys_free(k);

    return UNIT_DONE();
}
