/*
 * validate.c - POST /api/v1/otp/validate {purpose, otp} (bearer): checks a
 * step-up code (single use) and records the grant for the guarded action.
 */
#include "codes.h"
#include "db.h"
#include "log.h"
#include "otp.h"
#include "otplock.h"
#include "queries.h"
#include "reply.h"
#include "stepup.h"


/* Tells the user by email that step-up codes are locked. */
static void
otpw_lock_notice(const char *user_id)
{
    PGresult   *res;
    const char *params[1] = { user_id };

    res = id_db_exec(OTPW_SQL_CONTACT, 1, params, NULL);
    if (res != NULL && PQntuples(res) == 1) {
        id_otp_lock_notice(id_db_value(res, 0, "email"),
                           id_db_value(res, 0, "name"), "stepup");
    }
    PQclear(res);
}


void
otpw_validate(id_http_req_t *r)
{
    int               rc;
    json_t           *errors;
    const char       *purpose, *otp;
    const otpw_app_t *app = r->app;
    id_otp_result_t   res;
    char              cp[OTPW_CODE_PURPOSE_LEN];

    errors = json_array();
    if (otpw_read_validate(r->json, &purpose, &otp, errors) != 0 ||
        otpw_code_purpose(purpose, cp, sizeof(cp)) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (!id_crypto_is_uuid(r->id.sub)) {
        id_http_send_problem(r, 401, "unauthorized", "not a user token", NULL);
        return;
    }

    rc = id_otp_check(app->otp_secret, cp, r->id.sub, otp, 1, &res);
    if (rc != ID_OTP_OK) {
        id_log_info("otp.rejected", "purpose", purpose, NULL);
        if (res.locked_now) {
            otpw_lock_notice(r->id.sub);
        }
        id_reply_otp_failed(r, rc, &res, r->id.sub, NULL);
        return;
    }
    if (id_stepup_grant(r->id.sub, purpose, r->id.sid) != 0) {
        id_reply_unavailable(r, NULL);
        return;
    }
    id_log_info("otp.validated", "purpose", purpose, NULL);
    id_http_send_json(r, 200,
                      json_pack("{s:b, s:s, s:i}", "valid", 1, "purpose",
                                purpose, "grant_expires_in", ID_STEPUP_TTL));
}
