/*
 * compat.c - seed profiles: dispatch and the helpers the renderers share
 * (see compat.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"


int
id_compat_render(const char *profile, id_compat_answer_t *a)
{
    if (profile == NULL) {
        return 1;
    }
    if (strcmp(profile, "000") == 0) {
        return id_compat_render_000(a);
    }
    if (strcmp(profile, "001") == 0) {
        return id_compat_render_001(a);
    }
    if (strcmp(profile, "002") == 0) {
        return id_compat_render_002(a);
    }
    if (strcmp(profile, "003") == 0) {
        return id_compat_render_003(a);
    }
    return 1;
}


int
id_compat_reroute(const char *profile, id_compat_request_t *q)
{
    if (profile == NULL) {
        return 0;
    }
    if (strcmp(profile, "001") == 0) {
        return id_compat_reroute_001(q);
    }
    if (strcmp(profile, "003") == 0) {
        return id_compat_reroute_003(q);
    }
    return 0;
}


int
id_compat_camel(const char *in, char *out, size_t size)
{
    size_t n = 0;
    int    up = 0;

    for (; *in != '\0'; in++) {
        if (*in == '_' && n > 0) {
            up = 1;
            continue;
        }
        if (n + 1 >= size) {
            return -1;
        }
        out[n++] = up ? (char) toupper((unsigned char) *in) : *in;
        up = 0;
    }
    out[n] = '\0';
    return 0;
}


/* The "field" of each {"field","message"} of an "errors" array. */
static void
id_compat_camel_fields(json_t *errors)
{
    char    camel[128];
    size_t  i;
    json_t *e, *f;

    json_array_foreach(errors, i, e)
    {
        f = json_object_get(e, "field");
        if (json_is_string(f) &&
            id_compat_camel(json_string_value(f), camel, sizeof(camel)) == 0) {
            json_object_set_new(e, "field", json_string(camel));
        }
    }
}


int
id_compat_camel_tree(json_t *v)
{
    char        camel[128];
    size_t      i;
    json_t     *copy, *item;
    const char *key;

    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (id_compat_camel_tree(item) != 0) {
                return -1;
            }
        }
        return 0;
    }
    if (!json_is_object(v)) {
        return 0;
    }
    /* rebuilt in order, then put back in place */
    copy = json_object();
    if (copy == NULL) {
        return -1;
    }
    json_object_foreach(v, key, item)
    {
        if (id_compat_camel_tree(item) != 0 ||
            id_compat_camel(key, camel, sizeof(camel)) != 0 ||
            json_object_set(copy, camel, item) != 0) {
            json_decref(copy);
            return -1;
        }
    }
    id_compat_camel_fields(json_object_get(copy, "errors"));
    json_object_clear(v);
    json_object_update(v, copy);
    json_decref(copy);
    return 0;
}


char *
id_compat_error_text(json_t *problem, int with_detail)
{
    size_t      i;
    json_t     *e, *errors;
    id_buf_t    b = ID_BUF_INIT;
    const char *detail, *field, *msg;

    errors = json_object_get(problem, "errors");
    if (with_detail || json_array_size(errors) == 0) {
        detail = json_string_value(json_object_get(problem, "detail"));
        id_buf_adds(&b, detail != NULL ? detail : "request failed");
    }
    json_array_foreach(errors, i, e)
    {
        field = json_string_value(json_object_get(e, "field"));
        msg = json_string_value(json_object_get(e, "message"));
        if (b.len > 0) {
            id_buf_adds(&b, i == 0 ? ": " : "; ");
        }
        if (field != NULL) {
            id_buf_adds(&b, field);
            id_buf_adds(&b, " ");
        }
        id_buf_adds(&b, msg != NULL ? msg : "is invalid");
    }
    return id_buf_done(&b);
}
