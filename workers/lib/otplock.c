/*
 * otplock.c - the "codes locked" notice (see otplock.h).
 */
#include <jansson.h>

#include "events.h"
#include "outbox.h"
#include "log.h"
#include "otp.h"
#include "otplock.h"

#define ID_OTPLOCK_SCOPE "lock-notice"


int
id_otp_lock_notice(const char *to, const char *name, const char *what)
{
    int     rc;
    json_t *job;

    rc = id_otp_throttle(ID_OTPLOCK_SCOPE, to, 3600, 1);
    if (rc != 0) {
        return rc == 1 ? 0 : -1;
    }
    job =
        id_event_job("email", to, "otp_locked",
                     json_pack("{s:s, s:s}", "name",
                               name != NULL && name[0] != '\0' ? name : "there",
                               "what", what));
    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job);
    json_decref(job);
    if (rc != 0) {
        id_otp_throttle_release(ID_OTPLOCK_SCOPE, to);
        id_log_error("otp.lock_notice_lost", "what", what, NULL);
        return -1;
    }
    id_log_info("otp.lock_notice_sent", "what", what, NULL);
    return 0;
}
