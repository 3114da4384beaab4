/*
 * test_otp_rules.c - the request fields of identity-otp, the step-up
 * allow-list and key of lib/stepup, and lib/reply's OTP answers.
 */
#include <stdlib.h>

#include "../otp/rules.c"
#include "otp.h"
#include "reply.h"
#include "unit.h"


static json_t *errors;

/* Runs otpw_read_generate on text; the object stays alive in *o. */
static int
gen(const char *text, json_t **o, const char **purpose, const char **channel)
{
    json_decref(errors);
    errors = json_array();
    *o = json_loads(text, 0, NULL);
    return otpw_read_generate(*o, purpose, channel, errors);
}


static const char *
first_field(void)
{
    return json_string_value(
        json_object_get(json_array_get(errors, 0), "field"));
}


int
main(void)
{
    char                  buf[128];
    json_t               *o;
    const char           *purpose, *channel, *otp;
    const id_reply_otp_t *e, *e2;

    /* generate */
    UNIT_INT(gen("{\"purpose\":\"step_up\"}", &o, &purpose, &channel), 0,
             "generate: purpose alone");
    UNIT_STR(channel, "email", "generate: channel defaults to email");
    json_decref(o);
    UNIT_INT(gen("{\"purpose\":\"delete_account\",\"channel\":\"sms\"}", &o,
                 &purpose, &channel),
             0, "generate: sms");
    UNIT_STR(channel, "sms", "generate: channel read");
    json_decref(o);
    UNIT_INT(gen("{\"purpose\":\"launch_missiles\"}", &o, &purpose, &channel),
             -1, "generate: purpose outside the allow-list");
    UNIT_STR(first_field(), "purpose", "generate: error on purpose");
    json_decref(o);
    UNIT_INT(gen("{\"purpose\":\"step_up\",\"channel\":\"pigeon\"}", &o,
                 &purpose, &channel),
             -1, "generate: unknown channel");
    UNIT_STR(first_field(), "channel", "generate: error on channel");
    json_decref(o);
    UNIT_INT(gen("{\"channel\":5}", &o, &purpose, &channel), -1,
             "generate: nothing right");
    UNIT_INT(json_array_size(errors), 2, "generate: both fields reported");
    json_decref(o);

    /* validate */
    json_decref(errors);
    errors = json_array();
    o = json_loads("{\"purpose\":\"email_change\",\"otp\":\"012345\"}", 0,
                   NULL);
    UNIT_INT(otpw_read_validate(o, &purpose, &otp, errors), 0,
             "validate: valid");
    UNIT_STR(otp, "012345", "validate: leading zero kept");
    json_decref(o);
    o = json_loads("{\"purpose\":\"email_change\"}", 0, NULL);
    UNIT_INT(otpw_read_validate(o, &purpose, &otp, errors), -1,
             "validate: otp required");
    UNIT_STR(first_field(), "otp", "validate: error on otp");
    json_decref(o);

    /* the lib/otp purpose of a step-up purpose */
    UNIT_INT(otpw_code_purpose("sensitive_action", buf, sizeof(buf)), 0,
             "code purpose fits");
    UNIT_STR(buf, "stepup:sensitive_action", "code purpose prefixed");
    UNIT_INT(otpw_code_purpose("step_up", buf, 8), -1,
             "code purpose: too long refused");

    /* lib/stepup */
    UNIT_OK(id_stepup_purpose_ok("step_up") &&
                id_stepup_purpose_ok("email_change") &&
                id_stepup_purpose_ok("delete_account") &&
                id_stepup_purpose_ok("sensitive_action"),
            "stepup: the four purposes allowed");
    UNIT_OK(!id_stepup_purpose_ok("STEP_UP") && !id_stepup_purpose_ok("") &&
                !id_stepup_purpose_ok(NULL) &&
                !id_stepup_purpose_ok("step_up "),
            "stepup: nothing else");
    UNIT_INT(id_stepup_key("u1", "step_up", buf, sizeof(buf)), 0,
             "stepup: key fits");
    UNIT_STR(buf, "identity:stepup:u1:step_up",
             "stepup: key is identity:stepup:<user>:<purpose>");

    /* lib/reply: one answer for every failed code, whatever was pending */
    UNIT_OK(id_reply_otp_for(ID_OTP_OK) == NULL, "reply: nothing for OK");
    e = id_reply_otp_for(ID_OTP_INVALID);
    UNIT_OK(e && e->status == 400 && strcmp(e->code, "invalid_otp") == 0,
            "reply: wrong code 400 invalid_otp");
    e2 = id_reply_otp_for(ID_OTP_EXPIRED);
    UNIT_OK(e2 && e2->status == e->status && strcmp(e2->code, e->code) == 0 &&
                strcmp(e2->detail, e->detail) == 0,
            "reply: none pending answers as a wrong code");
    e2 = id_reply_otp_for(ID_OTP_EXCEEDED);
    UNIT_OK(e2 && e2->status == e->status && strcmp(e2->code, e->code) == 0 &&
                strcmp(e2->detail, e->detail) == 0,
            "reply: too many attempts answers as a wrong code");
    e = id_reply_otp_for(ID_OTP_LOCKED);
    UNIT_OK(e && e->status == 429 && strcmp(e->code, "otp_locked") == 0,
            "reply: budget used up 429 otp_locked");

    /* lib/otp: the budget scope of a purpose */
    UNIT_INT(id_otp_scope("stepup:step_up", buf, sizeof(buf)), 0, "scope fits");
    UNIT_STR(buf, "stepup", "scope: the step-up purposes share one budget");
    id_otp_scope("signup", buf, sizeof(buf));
    UNIT_STR(buf, "signup", "scope: a purpose without ':' is its own");
    UNIT_INT(id_otp_scope("password_reset", buf, 4), -1,
             "scope: too long refused");

    json_decref(errors);
    return unit_done();
}
