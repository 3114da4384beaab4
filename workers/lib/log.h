/*
 * log.h - structured logging for the workers.
 *
 * Contract (other code relies on exactly this):
 *
 *   id_log_init(worker)          sets the worker name printed in every line.
 *                                Call once from main() before any thread.
 *   id_log_set_request_id(id)    sets the request id of the calling thread
 *                                (copied, at most 127 bytes); NULL clears.
 *   id_log_set_client_ip(ip)     sets the client address of the request the
 *                                calling thread serves (X-Real-IP from the
 *                                gateway; copied, at most 63 bytes); NULL
 *                                clears.  Not written in log lines: events
 *                                (events.h) carry it.
 *   id_log_write(level, event, key, value, ..., NULL)
 *                                writes one JSON line on stderr:
 *                                {"ts","level","worker","request_id","event",
 *                                 key:value...}.  Keys and values are C
 *                                strings; a NULL value is written as null.
 *                                The argument list MUST end with NULL.
 *                                Thread-safe; a line is never interleaved.
 *
 * Never pass a password, OTP, token or secret as a value.
 */
#ifndef ID_LOG_H
#define ID_LOG_H

#include <stddef.h>

void        id_log_init(const char *worker);
void        id_log_set_request_id(const char *request_id);
const char *id_log_request_id(void); /* this thread's id, "" if none */
void        id_log_set_client_ip(const char *ip);
const char *id_log_client_ip(void); /* this thread's, "" if none */

void id_log_write(const char *level, const char *event, ...);

/* Same line from arrays: keys[i] / values[i], n pairs. */
void id_log_write_pairs(const char *level, const char *event,
                        const char *const *keys, const char *const *values,
                        size_t n);

#define id_log_info(...) id_log_write("info", __VA_ARGS__)
#define id_log_warn(...) id_log_write("warn", __VA_ARGS__)
#define id_log_error(...) id_log_write("error", __VA_ARGS__)

#endif
