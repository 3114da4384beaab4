/*
 * json.h - request field getters over jansson.
 *
 * A field is looked up by its snake_case name and, if absent, by the
 * camelCase alias derived from it (first_name -> firstName).  Unknown fields
 * are ignored.  A JSON null counts as absent.  Problems are appended to the
 * errors array (see problem.h) under the snake_case name and the getter
 * returns -1; callers collect all errors and answer 422 once.
 *
 *   id_json_field(obj, name)   the value (borrowed) or NULL.
 *   id_json_string(obj, name, required, min, max, &out, errors)
 *       a string of min..max characters (UTF-8 code points; jansson has
 *       already rejected invalid UTF-8), no NUL, no control characters.
 *       0 present (out borrowed from obj), 1 absent and optional (out NULL),
 *       -1 invalid or missing-but-required (error appended).
 *   id_json_text(obj, name, required, min, max, &out, errors)
 *       the same for a text of several lines: CR, LF and TAB allowed.
 *   id_json_bool(obj, name, &out, errors)  0 present, 1 absent, -1 error.
 *   id_json_email(obj, name, required, out, outlen, errors)
 *       an address (at most 254 bytes, one '@', dot-atom local part of at
 *       most 64, a domain of two or more LDH labels) written lower-cased
 *       into out.  0 present, 1 absent and optional, -1 error.
 *   id_email_normalize(in, out, outlen)  the same check without JSON:
 *       0 valid (out = lower-cased), -1 invalid.
 *   id_json_utf8_len(s)  number of code points of a valid UTF-8 string.
 *   id_json_dumps(v)     compact serialisation (caller frees) or NULL.
 */
#ifndef ID_JSON_H
#define ID_JSON_H

#include <stddef.h>

#include <jansson.h>

json_t *id_json_field(const json_t *obj, const char *name);
int     id_json_string(const json_t *obj, const char *name, int required,
                       size_t min, size_t max, const char **out, json_t *errors);
int id_json_text(const json_t *obj, const char *name, int required, size_t min,
                 size_t max, const char **out, json_t *errors);
int id_json_bool(const json_t *obj, const char *name, int *out, json_t *errors);
int id_json_email(const json_t *obj, const char *name, int required, char *out,
                  size_t outlen, json_t *errors);
int id_email_normalize(const char *in, char *out, size_t outlen);
size_t id_json_utf8_len(const char *s);
char  *id_json_dumps(const json_t *v);

#endif
