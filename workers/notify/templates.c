/*
 * templates.c - the notification templates (subject + plain text body, and
 * a short SMS form) and their rendering.
 *
 * {{name}} is replaced by data.name (a string or an integer), or by the
 * variable's default when data has none; a variable without a default is
 * required.  Values are checked per variable (an OTP is digits only) and,
 * except the custom template's text, kept on one line: CR, LF and other
 * control characters become spaces, so data cannot add lines to a mail.
 * A choice variable takes one of a fixed set of values and stands for the
 * template's own words for it (any other value is refused).
 * The From/To/Subject headers are sanitised again in mail.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "notify.h"

#define NOTIFY_VAR_OTP 0x01       /* 4-10 ASCII digits */
#define NOTIFY_VAR_NUMBER 0x02    /* 1-6 ASCII digits */
#define NOTIFY_VAR_MULTILINE 0x04 /* line breaks allowed (custom text) */
#define NOTIFY_VAR_CHOICE 0x08    /* one of choices: its words stand */

/* bytes: the notification API's subject (200 characters) and text (5000)
 * at up to 4 bytes of UTF-8 each */
#define NOTIFY_VALUE_MAX 1024 /* bytes of a one-line value */
#define NOTIFY_TEXT_MAX 20480 /* bytes of a multi-line value */


typedef struct {
    const char        *name;
    const char        *def; /* NULL: required */
    unsigned           flags;
    const char *const *choices; /* NOTIFY_VAR_CHOICE: value, words, ..., NULL */
} notify_var_t;


typedef struct {
    const char  *name;
    const char  *subject;
    const char  *text;
    const char  *sms; /* NULL: the text */
    notify_var_t vars[4];
} notify_template_t;


#define NOTIFY_NAME                                                            \
    {                                                                          \
        "name", "there", 0, NULL                                               \
    }
#define NOTIFY_OTP                                                             \
    {                                                                          \
        "otp", NULL, NOTIFY_VAR_OTP, NULL                                      \
    }
#define NOTIFY_TTL                                                             \
    {                                                                          \
        "ttl_minutes", "10", NOTIFY_VAR_NUMBER, NULL                           \
    }


/*
 * password_changed: data.via is how (password worker): a reset with an
 * emailed code ends every session, a change ends every other one (the
 * session it was made from stays).  Without via (older jobs, other
 * senders) the mail says nothing about sessions.
 */
static const char *const notify_password_via[] = {
    "reset",
    "The password of your account was just reset with a code sent to this\n"
    "address, and every session was signed out.",
    "change",
    "The password of your account was just changed, and every other session\n"
    "was signed out; the one it was changed from stays signed in.",
    "",
    "The password of your account was just changed.",
    NULL,
};


/*
 * signup_set_password: data.via is why the account has no password
 * (lib/signupmail.h): a contested sign-up (none, the default: older jobs),
 * or the registration form, which takes no password.
 */
static const char *const notify_set_password_via[] = {
    "",
    "Your email address is verified and your account is ready. More than\n"
    "one sign-up was made with this address, with different passwords,\n"
    "so none of them was kept: set your password with this code (password\n"
    "reset):",
    "form",
    "An account was made for this address with our registration form. To\n"
    "sign in, set its password with this code (password reset); that also\n"
    "confirms this address. If you did not ask for an account, ignore this\n"
    "email: without the code nobody can sign in to it.",
    NULL,
};


/* otp_locked: data.what is the kind of code (lib/otplock.h): value, words. */
/* clang-format off */
static const char *const notify_otp_locked_what[] = {
    "signup",         "verification",
    "password_reset", "password reset",
    "stepup",         "security",
    "email_change",   "email change",
    "login",          "sign-in", /* auth: second factor */
    "",               "one-time",
    NULL,
};
/* clang-format on */


static const notify_template_t notify_templates[] = {

    /* sent before the address is proved: nothing in it comes from the
     * sign-up (its name is whatever anybody typed) */
    { "signup_otp",
      "Your verification code",
      "Hello,\n"
      "\n"
      "Use this code to verify your email address and finish creating your\n"
      "account:\n"
      "\n"
      "{{otp}}\n"
      "\n"
      "The code expires in {{ttl_minutes}} minutes. If you did not ask for\n"
      "this, ignore this email and do not give the code to anyone: no\n"
      "account is made without it.\n",
      "Your verification code is {{otp}}. It expires in {{ttl_minutes}} "
      "minutes.",
      { NOTIFY_OTP, NOTIFY_TTL } },

    { "signup_set_password",
      "Set a password for your account",
      "Hello,\n"
      "\n"
      "{{via}}\n"
      "\n"
      "{{otp}}\n"
      "\n"
      "The code expires in {{ttl_minutes}} minutes; after that, ask for a\n"
      "new one with \"forgot password\".\n",
      "Set your password with the code {{otp}} (password reset). It "
      "expires in {{ttl_minutes}} minutes.",
      { NOTIFY_OTP,
        NOTIFY_TTL,
        { "via", "", NOTIFY_VAR_CHOICE, notify_set_password_via } } },

    { "otp_locked",
      "Too many wrong codes",
      "Hi {{name}},\n"
      "\n"
      "Too many wrong {{what}} codes were entered for this address. For\n"
      "your protection no such code is sent or accepted for up to 24\n"
      "hours.\n"
      "\n"
      "If it was not you, someone may be trying to get into your account;\n"
      "nothing has been changed. You do not need to do anything.\n",
      "Too many wrong codes were entered for your account; no code is "
      "sent or accepted for up to 24 hours.",
      { NOTIFY_NAME,
        { "what", "", NOTIFY_VAR_CHOICE, notify_otp_locked_what } } },

    { "signup_existing_account",
      "Someone tried to sign up with your email address",
      "Hi {{name}},\n"
      "\n"
      "Someone, hopefully you, tried to create a new account with this\n"
      "email address. You already have an account, so no new one was made.\n"
      "\n"
      "If it was you, sign in instead, or reset your password if you have\n"
      "forgotten it. If it was not you, you can ignore this email: your\n"
      "account has not been changed.\n",
      "Someone tried to sign up with your phone number. You already have an "
      "account: sign in or reset your password.",
      { NOTIFY_NAME } },

    { "welcome",
      "Welcome",
      "Hi {{name}},\n"
      "\n"
      "Your email address is verified and your account is ready.\n"
      "\n"
      "Welcome aboard!\n",
      "Your account is ready. Welcome!",
      { NOTIFY_NAME } },

    { "password_reset_otp",
      "Your password reset code",
      "Hi {{name}},\n"
      "\n"
      "Use this code to reset your password:\n"
      "\n"
      "{{otp}}\n"
      "\n"
      "The code expires in {{ttl_minutes}} minutes. If you did not ask to\n"
      "reset your password, ignore this email: your password stays the "
      "same.\n",
      "Your password reset code is {{otp}}. It expires in {{ttl_minutes}} "
      "minutes.",
      { NOTIFY_NAME, NOTIFY_OTP, NOTIFY_TTL } },

    { "password_changed",
      "Your password was changed",
      "Hi {{name}},\n"
      "\n"
      "{{via}}\n"
      "\n"
      "If you did not do this, reset your password now and contact support.\n",
      "Your password was changed. If this was not you, reset it now.",
      { NOTIFY_NAME, { "via", "", NOTIFY_VAR_CHOICE, notify_password_via } } },

    { "login_failures",
      "Many failed sign-in attempts on your account",
      "Hi {{name}},\n"
      "\n"
      "There were {{attempts}} failed attempts to sign in to your account\n"
      "within the last hour. Until they stop, sign-ins from addresses never\n"
      "used with your account are slowed down; from where you signed in\n"
      "before, yours work as usual.\n"
      "\n"
      "If this was not you, your account is safe as long as your password\n"
      "is strong and used nowhere else: change it if in doubt.\n",
      "Many failed sign-in attempts on your account. If this was not you, "
      "make sure your password is strong and used nowhere else.",
      { NOTIFY_NAME, { "attempts", NULL, NOTIFY_VAR_NUMBER, NULL } } },

    { "login_otp",
      "Your sign-in code",
      "Hi {{name}},\n"
      "\n"
      "Use this code to finish signing in:\n"
      "\n"
      "{{otp}}\n"
      "\n"
      "The code expires in {{ttl_minutes}} minutes. If you are not signing\n"
      "in, someone else may know your password: change it now.\n",
      "Your sign-in code is {{otp}}. It expires in {{ttl_minutes}} minutes.",
      { NOTIFY_NAME, NOTIFY_OTP, NOTIFY_TTL } },

    /* a login from a device or address the account had not used: what
     * the auth worker knows of it, never a token */
    { "login_alert",
      "New sign-in to your account",
      "Hi {{name}},\n"
      "\n"
      "Your account was just signed in to from a device or an address it\n"
      "had not been used from before:\n"
      "\n"
      "  Time:    {{time}}\n"
      "  Address: {{address}}\n"
      "  Device:  {{device}}\n"
      "\n"
      "If this was you, there is nothing to do. If it was not, change your\n"
      "password now: that signs out every other session.\n",
      "New sign-in to your account at {{time}} from {{address}}. If this was "
      "not you, change your password now.",
      { NOTIFY_NAME,
        { "time", NULL, 0, NULL },
        { "address", "unknown", 0, NULL },
        { "device", "unknown", 0, NULL } } },

    { "email_change_otp",
      "Confirm your new email address",
      "Hi {{name}},\n"
      "\n"
      "Use this code to confirm this address as the new email address of\n"
      "your account:\n"
      "\n"
      "{{otp}}\n"
      "\n"
      "The code expires in {{ttl_minutes}} minutes. If you did not ask for\n"
      "this change, ignore this email.\n",
      "Your email change code is {{otp}}. It expires in {{ttl_minutes}} "
      "minutes.",
      { NOTIFY_NAME, NOTIFY_OTP, NOTIFY_TTL } },

    { "step_up_otp",
      "Your security code",
      "Hi {{name}},\n"
      "\n"
      "Use this code to confirm a sensitive action on your account:\n"
      "\n"
      "{{otp}}\n"
      "\n"
      "The code expires in {{ttl_minutes}} minutes. If you did not ask for\n"
      "it, someone may be using your account: change your password now.\n",
      "Your security code is {{otp}}. It expires in {{ttl_minutes}} minutes.",
      { NOTIFY_NAME, NOTIFY_OTP, NOTIFY_TTL } },

    /* data.fields: the names of the changed fields, never their values */
    { "profile_updated",
      "Your profile was updated",
      "Hi {{name}},\n"
      "\n"
      "The profile of your account was just updated: {{fields}}.\n"
      "\n"
      "If you did not do this, change your password now and contact support.\n",
      "Your profile was updated ({{fields}}). If this was not you, change "
      "your password now.",
      { NOTIFY_NAME, { "fields", NULL, 0, NULL } } },

    /* to the old address, once the new one is confirmed with its code */
    { "email_changed",
      "Your email address was changed",
      "Hi {{name}},\n"
      "\n"
      "The email address of your account was just changed to\n"
      "{{new_email}}. This address no longer signs in to it.\n"
      "\n"
      "If you did not do this, contact support now.\n",
      "The email address of your account was changed. If this was not you, "
      "contact support now.",
      { NOTIFY_NAME, { "new_email", NULL, 0, NULL } } },

    /* to an address asked for as a new one that already has an account:
     * instead of a code, and nothing about who asked */
    { "email_change_taken",
      "Someone tried to use your email address",
      "Hi {{name}},\n"
      "\n"
      "Someone, maybe you, asked to move another account to this email\n"
      "address. It already belongs to your account, so nothing was changed\n"
      "and no code was sent.\n"
      "\n"
      "If it was not you, you can ignore this email.\n",
      "Someone asked to move another account to your email address. Nothing "
      "was changed.",
      { NOTIFY_NAME } },

    /* admin and internal sends (POST /api/v1/notifications/email and
     * /sms): the caller writes the words; an SMS is the text alone */
    { "custom",
      "{{subject}}",
      "{{text}}",
      NULL,
      { { "subject", NULL, 0, NULL },
        { "text", NULL, NOTIFY_VAR_MULTILINE, NULL } } },
};

#define NOTIFY_NTEMPLATES                                                      \
    (sizeof(notify_templates) / sizeof(notify_templates[0]))


const char *
notify_template_name(size_t i)
{
    return i < NOTIFY_NTEMPLATES ? notify_templates[i].name : NULL;
}


static const notify_template_t *
notify_template_find(const char *name)
{
    size_t i;

    for (i = 0; i < NOTIFY_NTEMPLATES; i++) {
        if (strcmp(notify_templates[i].name, name) == 0) {
            return &notify_templates[i];
        }
    }
    return NULL;
}


static int
notify_digits(const char *s, size_t min, size_t max)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9') {
            return 0;
        }
    }
    return n >= min && n <= max;
}


/* Appends the value of var from data, checked and cleaned. */
static int
notify_render_var(id_buf_t *b, const notify_var_t *var, const json_t *data,
                  char *err, size_t errlen)
{
    char        num[32];
    size_t      i, n, max;
    json_t     *v;
    const char *s;

    v = json_object_get(data, var->name);
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        s = num;
    } else if (v == NULL || json_is_null(v)) {
        if (var->def == NULL) {
            snprintf(err, errlen, "missing data.%s", var->name);
            return -1;
        }
        s = var->def;
    } else {
        snprintf(err, errlen, "data.%s is not a string", var->name);
        return -1;
    }

    if (var->flags & NOTIFY_VAR_CHOICE) {
        for (i = 0; var->choices[i] != NULL; i += 2) {
            if (strcmp(var->choices[i], s) == 0) {
                id_buf_adds(b, var->choices[i + 1]); /* our words */
                return 0;
            }
        }
        snprintf(err, errlen, "bad data.%s", var->name);
        return -1;
    }
    if (((var->flags & NOTIFY_VAR_OTP) && !notify_digits(s, 4, 10)) ||
        ((var->flags & NOTIFY_VAR_NUMBER) && !notify_digits(s, 1, 6))) {
        snprintf(err, errlen, "bad data.%s", var->name);
        return -1;
    }
    max = (var->flags & NOTIFY_VAR_MULTILINE) ? NOTIFY_TEXT_MAX
                                              : NOTIFY_VALUE_MAX;
    n = strlen(s);
    if (n > max) {
        snprintf(err, errlen, "data.%s longer than %zu bytes", var->name, max);
        return -1;
    }

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c == '\r') {
            if ((var->flags & NOTIFY_VAR_MULTILINE) && s[i + 1] != '\n') {
                id_buf_add(b, "\n", 1); /* a lone CR: old Mac line end */
            } else if (!(var->flags & NOTIFY_VAR_MULTILINE)) {
                id_buf_add(b, " ", 1);
            }
        } else if (c == '\n' || c == '\t') {
            id_buf_add(b, (var->flags & NOTIFY_VAR_MULTILINE) ? &s[i] : " ", 1);
        } else if (c < 0x20 || c == 0x7f) {
            id_buf_add(b, " ", 1);
        } else {
            id_buf_add(b, &s[i], 1);
        }
    }
    return 0;
}


static char *
notify_render_one(const notify_template_t *t, const char *src,
                  const json_t *data, char *err, size_t errlen)
{
    size_t              i, n;
    const char         *open, *close;
    char               *out;
    id_buf_t            b = ID_BUF_INIT;
    const notify_var_t *var;

    while ((open = strstr(src, "{{")) != NULL) {
        id_buf_add(&b, src, (size_t) (open - src));
        close = strstr(open, "}}");
        if (close == NULL) {
            snprintf(err, errlen, "template %s: unclosed {{", t->name);
            goto failed;
        }
        n = (size_t) (close - open - 2);
        var = NULL;
        for (i = 0; i < sizeof(t->vars) / sizeof(t->vars[0]); i++) {
            if (t->vars[i].name != NULL && strlen(t->vars[i].name) == n &&
                memcmp(t->vars[i].name, open + 2, n) == 0) {
                var = &t->vars[i];
                break;
            }
        }
        if (var == NULL) {
            snprintf(err, errlen, "template %s: undeclared variable", t->name);
            goto failed;
        }
        if (notify_render_var(&b, var, data, err, errlen) != 0) {
            goto failed;
        }
        src = close + 2;
    }
    id_buf_add(&b, src, strlen(src));
    out = id_buf_done(&b);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
    }
    return out;

failed:

    free(b.buf);
    return NULL;
}


int
notify_render(const char *name, notify_channel_t channel, const json_t *data,
              notify_rendered_t *out, char *err, size_t errlen)
{
    const notify_template_t *t;

    memset(out, 0, sizeof(*out));
    t = notify_template_find(name);
    if (t == NULL) {
        snprintf(err, errlen, "unknown template");
        return 1;
    }
    if (channel == NOTIFY_SMS) {
        out->text =
            notify_render_one(t, t->sms ? t->sms : t->text, data, err, errlen);
        return out->text != NULL ? 0 : -1;
    }
    out->subject = notify_render_one(t, t->subject, data, err, errlen);
    if (out->subject == NULL) {
        return -1;
    }
    out->text = notify_render_one(t, t->text, data, err, errlen);
    if (out->text == NULL) {
        notify_rendered_free(out);
        return -1;
    }
    if (out->subject[0] == '\0') {
        snprintf(err, errlen, "empty subject");
        notify_rendered_free(out);
        return -1;
    }
    return 0;
}


void
notify_rendered_free(notify_rendered_t *r)
{
    if (r == NULL) {
        return;
    }
    free(r->subject);
    free(r->text);
    r->subject = NULL;
    r->text = NULL;
}
