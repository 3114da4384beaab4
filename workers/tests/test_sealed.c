/*
 * test_sealed.c - codes sealed in notification jobs: the sealed boxes
 * (lib/crypto.c), the job's secret members sealed by the producer
 * (lib/events.c), opened by notify, and what the dead-letter topic keeps
 * of a job (notify/job.c).
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../notify/job.c"


/* The job as it goes on the topic, parsed back as notify gets it. */
static int
job_roundtrip(json_t *job, notify_job_t *out, char *text_out, size_t textlen)
{
    int  rc;
    char err[256], *text;

    text = json_dumps(job, JSON_COMPACT);
    json_decref(job);
    if (text == NULL) {
        return -1;
    }
    snprintf(text_out, textlen, "%s", text);
    rc = notify_job_parse(text, strlen(text), out, err, sizeof(err));
    free(text);
    return rc;
}


int
main(void)
{
    int           rc;
    char          pk64[ID_BOX_KEY_B64_LEN + 1], sk64[ID_BOX_KEY_B64_LEN + 1];
    char          err[256], text[4096], keys_text[512], *box, *s;
    size_t        len;
    json_t       *job, *red;
    notify_job_t  nj;
    notify_keys_t keys, other;
    unsigned char pk[32], sk[32], pk2[32], sk2[32], back[32], *out;
    unsigned char parsed[32];
    const char   *msg = "{\"otp\":\"123456\"}";

    /* --- sealed boxes ----------------------------------------------------- */

    UNIT_OK(id_crypto_box_keypair(pk, sk) == 0 &&
                id_crypto_box_keypair(pk2, sk2) == 0,
            "two key pairs");
    UNIT_OK(id_crypto_box_public(sk, back) == 0 && memcmp(back, pk, 32) == 0,
            "the public key follows from the secret key");
    box = id_crypto_seal(pk, msg, strlen(msg));
    UNIT_OK(box != NULL && strstr(box, "123456") == NULL &&
                strspn(box, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                            "xyz0123456789-_") == strlen(box),
            "sealed: base64url, the message not in it");
    out = NULL;
    UNIT_OK(id_crypto_seal_open(pk, sk, box, &out, &len) == 0 &&
                len == strlen(msg) && memcmp(out, msg, len) == 0 &&
                out[len] == '\0',
            "opened with the key pair: the message, NUL-terminated");
    free(out);
    UNIT_INT(id_crypto_seal_open(pk2, sk2, box, &out, &len), -1,
             "another key pair cannot open it");
    s = strdup(box);
    s[10] = s[10] == 'A' ? 'B' : 'A';
    UNIT_INT(id_crypto_seal_open(pk, sk, s, &out, &len), -1,
             "an altered box does not open");
    free(s);
    UNIT_INT(id_crypto_seal_open(pk, sk, "not base64!", &out, &len), -1,
             "not base64url: -1");
    UNIT_INT(id_crypto_seal_open(pk, sk, "QUJD", &out, &len), -1,
             "shorter than a box: -1");
    free(box);

    id_crypto_b64url_encode(pk, 32, pk64, sizeof(pk64));
    id_crypto_b64url_encode(sk, 32, sk64, sizeof(sk64));
    UNIT_OK(strlen(pk64) == ID_BOX_KEY_B64_LEN &&
                id_crypto_box_key_parse(pk64, parsed) == 0 &&
                memcmp(parsed, pk, 32) == 0,
            "a key as 43 characters of base64url parses back");
    snprintf(text, sizeof(text), "  %s\n", pk64);
    UNIT_OK(id_crypto_box_key_parse(text, parsed) == 0,
            "blanks around a key are ignored");
    UNIT_OK(id_crypto_box_key_parse("", parsed) == -1 &&
                id_crypto_box_key_parse("abc", parsed) == -1 &&
                id_crypto_box_key_parse(NULL, parsed) == -1,
            "not keys: empty, short, NULL");
    snprintf(text, sizeof(text), "%sAAAA", pk64);
    UNIT_INT(id_crypto_box_key_parse(text, parsed), -1, "too long: not a key");

    /* --- which data members are secret ------------------------------------ */

    UNIT_OK(id_event_secret_name("otp") && id_event_secret_name("code") &&
                id_event_secret_name("token") && id_event_secret_name("link") &&
                id_event_secret_name("password") &&
                id_event_secret_name("reset_link") &&
                id_event_secret_name("verify_token") &&
                id_event_secret_name("OTP"),
            "secret: otp, code, token, link, password, *_link, *_token");
    UNIT_OK(
        !id_event_secret_name("name") && !id_event_secret_name("ttl_minutes") &&
            !id_event_secret_name("purpose") && !id_event_secret_name("via") &&
            !id_event_secret_name("_otp") && !id_event_secret_name("zipcode") &&
            !id_event_secret_name("tokens"),
        "not secret: name, ttl_minutes, purpose, via, zipcode, tokens");

    /* --- the producer seals; fail closed without a key ----------------------
     */

    job = id_event_job("email", "a@example.com", "signup_otp",
                       json_pack("{s:s, s:s, s:i}", "otp", "654321", "name",
                                 "Ann", "ttl_minutes", 10));
    UNIT_OK(job == NULL, "a job with a code and no key set: none (never "
                         "in clear)");
    job = id_event_job("email", "a@example.com", "welcome",
                       json_pack("{s:s}", "name", "Ann"));
    UNIT_OK(job != NULL && json_object_get(job, "sealed") == NULL,
            "a job without a secret needs no key, has no sealed part");
    json_decref(job);

    UNIT_INT(id_event_seal_init("nope", err, sizeof(err)), -1,
             "NOTIFY_PUBLIC_KEY that is no key: refused");
    UNIT_OK(strstr(err, "X25519") != NULL, "and the reason says what it wants");
    UNIT_INT(id_event_seal_init(pk64, err, sizeof(err)), 0,
             "the public key set");

    job = id_event_job("email", "a@example.com", "signup_otp",
                       json_pack("{s:s, s:s, s:i}", "otp", "654321", "name",
                                 "Ann", "ttl_minutes", 10));
    UNIT_OK(job != NULL, "a job with a code");
    UNIT_OK(job != NULL && json_is_string(json_object_get(job, "sealed")) &&
                json_object_get(json_object_get(job, "data"), "otp") == NULL &&
                json_object_get(json_object_get(job, "data"), "name") != NULL,
            "the code left data for sealed; the rest stays in clear");
    rc = job_roundtrip(job, &nj, text, sizeof(text));
    UNIT_OK(rc == 0 && strstr(text, "654321") == NULL,
            "nowhere in the serialised job is the code");

    /* --- notify opens it ----------------------------------------------------
     */

    snprintf(keys_text, sizeof(keys_text), "# current first\n\n%s\n", sk64);
    UNIT_INT(notify_keys_parse(keys_text, &keys, err, sizeof(err)), 0,
             "notify's key file: comments, blank lines, one key");
    UNIT_OK(keys.n == 1 && memcmp(keys.pk[0], pk, 32) == 0,
            "one key pair, the public half derived");
    UNIT_INT(notify_job_unseal(&nj, &keys, err, sizeof(err)), 0, "unsealed");
    UNIT_STR(json_string_value(json_object_get(nj.data, "otp")), "654321",
             "the code is back in data");
    UNIT_STR(json_string_value(json_object_get(nj.data, "name")), "Ann",
             "next to what was in clear");
    notify_job_free(&nj);

    /* a job of another publisher: nothing sealed, works as it is */
    snprintf(text, sizeof(text),
             "{\"id\":\"o1\",\"channel\":\"email\",\"to\":\"a@example.com\","
             "\"template\":\"welcome\",\"data\":{\"name\":\"B\"}}");
    UNIT_OK(notify_job_parse(text, strlen(text), &nj, err, sizeof(err)) == 0 &&
                notify_job_unseal(&nj, &keys, err, sizeof(err)) == 0,
            "a job without a sealed part is fine");
    notify_job_free(&nj);

    /* rotation: the old key on the second line still opens */
    id_crypto_b64url_encode(sk2, 32, sk64, sizeof(sk64));
    snprintf(keys_text + strlen(keys_text),
             sizeof(keys_text) - strlen(keys_text), "%s\n", sk64);
    memmove(keys_text, keys_text + strlen("# current first\n\n"),
            strlen(keys_text) - strlen("# current first\n\n") + 1);
    id_crypto_b64url_encode(pk2, 32, pk64, sizeof(pk64));
    UNIT_OK(notify_keys_parse(keys_text, &other, err, sizeof(err)) == 0 &&
                other.n == 2,
            "two keys, one a line");
    id_event_seal_init(pk64, err, sizeof(err));
    job = id_event_job("sms", "+15550100", "step_up_otp",
                       json_pack("{s:s}", "otp", "111222"));
    UNIT_OK(job_roundtrip(job, &nj, text, sizeof(text)) == 0 &&
                notify_job_unseal(&nj, &other, err, sizeof(err)) == 0 &&
                strcmp(json_string_value(json_object_get(nj.data, "otp")),
                       "111222") == 0,
            "a job sealed to the second key opens");
    notify_job_free(&nj);

    /* poison: sealed to a key notify does not have */
    job = id_event_job("sms", "+15550100", "step_up_otp",
                       json_pack("{s:s}", "otp", "333444"));
    err[0] = '\0';
    UNIT_OK(job_roundtrip(job, &nj, text, sizeof(text)) == 0 &&
                notify_job_unseal(&nj, &keys, err, sizeof(err)) == -1 &&
                strstr(err, "sealed") != NULL && strstr(err, "333444") == NULL,
            "sealed to another key: a poison job, the reason without it");
    notify_job_free(&nj);
    snprintf(text, sizeof(text),
             "{\"id\":\"o2\",\"channel\":\"email\",\"to\":\"a@example.com\","
             "\"template\":\"welcome\",\"sealed\":42}");
    UNIT_OK(notify_job_parse(text, strlen(text), &nj, err, sizeof(err)) == 0 &&
                notify_job_unseal(&nj, &keys, err, sizeof(err)) == -1,
            "sealed that is not a string: poison");
    notify_job_free(&nj);
    box = id_crypto_seal(pk, "[1,2]", 5);
    snprintf(text, sizeof(text),
             "{\"id\":\"o3\",\"channel\":\"email\",\"to\":\"a@example.com\","
             "\"template\":\"welcome\",\"sealed\":\"%s\"}",
             box);
    free(box);
    UNIT_OK(notify_job_parse(text, strlen(text), &nj, err, sizeof(err)) == 0 &&
                notify_job_unseal(&nj, &keys, err, sizeof(err)) == -1 &&
                strstr(err, "not a JSON object") != NULL,
            "sealed but not an object inside: poison");
    notify_job_free(&nj);
    UNIT_OK(notify_keys_parse("\n# none\n", &other, err, sizeof(err)) == -1 &&
                notify_keys_parse("abc\n", &other, err, sizeof(err)) == -1 &&
                strstr(err, "line 1") != NULL,
            "key files without a key, or with a bad line: refused");

    /* --- the dead-letter copy ------------------------------------------------
     */

    s = "{\"id\":\"p1\",\"to\":\"a@example.com\",\"template\":\"x\","
        "\"data\":{\"otp\":\"918273\",\"name\":\"C\",\"reset_link\":"
        "\"https://x.example/r?t=abc\",\"nested\":{\"token\":\"tok1\"},"
        "\"list\":[{\"code\":\"5555\"}]},\"sealed\":\"QUJD\"}";
    red = notify_job_redact(s, strlen(s));
    box = red ? json_dumps(red, JSON_COMPACT) : NULL;
    UNIT_OK(box != NULL && strstr(box, "918273") == NULL &&
                strstr(box, "abc") == NULL && strstr(box, "tok1") == NULL &&
                strstr(box, "5555") == NULL,
            "redacted: codes, links and tokens at any depth");
    UNIT_OK(box != NULL && strstr(box, "\"name\":\"C\"") != NULL &&
                strstr(box, "\"id\":\"p1\"") != NULL &&
                strstr(box, "\"otp\":\"[redacted]\"") != NULL &&
                strstr(box, "\"sealed\":\"QUJD\"") != NULL,
            "the rest kept, the redaction visible, the sealed part kept");
    free(box);
    json_decref(red);
    s = "{\"id\":\"p2\",\"data\":\"otp 918273\"}";
    red = notify_job_redact(s, strlen(s));
    box = red ? json_dumps(red, JSON_COMPACT) : NULL;
    UNIT_OK(box != NULL && strstr(box, "918273") == NULL,
            "a data that is no object: redacted whole");
    free(box);
    json_decref(red);
    s = "{\"otp\":\"918273\",";
    red = notify_job_redact(s, strlen(s));
    box = red ? json_dumps(red, JSON_COMPACT) : NULL;
    UNIT_OK(box != NULL && strstr(box, "918273") == NULL &&
                strstr(box, "\"bytes\":16") != NULL,
            "not JSON: only its size is kept");
    free(box);
    json_decref(red);

    notify_keys_wipe(&keys);
    notify_keys_wipe(&other);
    return UNIT_DONE();
}
