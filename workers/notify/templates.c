/*
 * templates.c - the notification templates, read from files at start-up
 * (workers/notify/templates/README.md has the format), and their rendering.
 *
 * {{name}} is replaced by data.name (a string or an integer), or by the
 * variable's default when data has none; a variable without a default is
 * required.  Values are checked per variable kind (an otp is digits only)
 * and, but for a multiline one, kept on one line: CR, LF and other control
 * characters become spaces, so data cannot add lines to a mail.  A choice
 * variable takes one of a fixed set of values and stands for the
 * template's own words for it (any other value is refused).  In the HTML
 * part every value and choice's words are HTML-escaped; the subject, the
 * text part and the SMS get them as they are.
 *
 * A template is checked whole when it is read: a file that names an
 * undeclared variable, lacks a part or has an unknown line is refused with
 * its file name and line, so that a bad template stops the worker at
 * start-up instead of dead-lettering jobs later.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
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

#define NOTIFY_TPL_FILE_MAX 65536 /* bytes of one template file */
#define NOTIFY_TPL_NAME_MAX 64    /* characters of a template name */
#define NOTIFY_TPL_MAX 256        /* templates in one directory */
#define NOTIFY_TPL_SUFFIX ".tpl"


typedef struct {
    char    *name;
    char    *def; /* NULL: required */
    unsigned flags;
    char   **choices; /* NOTIFY_VAR_CHOICE: value, words, ..., NULL */
    size_t   nchoices;
} notify_var_t;


struct notify_template_s {
    char         *name;
    char         *subject;
    char         *text;
    char         *html;
    char         *sms; /* NULL: the text */
    notify_var_t *vars;
    size_t        nvars;
    int           to_name; /* index of the To display name's var, or -1 */
    int           list_unsubscribe;
};


struct notify_templates_s {
    notify_template_t **t;
    size_t              n;
};


static const struct {
    const char *word;
    unsigned    flags;
} notify_kinds[] = {
    { "text", 0 },
    { "otp", NOTIFY_VAR_OTP },
    { "number", NOTIFY_VAR_NUMBER },
    { "multiline", NOTIFY_VAR_MULTILINE },
    { "choice", NOTIFY_VAR_CHOICE },
};


/* ------------------------------------------------------------- parsing */


/* the parts that may hold {{variables}}, in the order of lines[] below */
static const char *const notify_parts[4] = { "subject", "text", "html", "sms" };


void
notify_template_free(notify_template_t *t)
{
    size_t i, j;

    if (t == NULL) {
        return;
    }
    for (i = 0; i < t->nvars; i++) {
        free(t->vars[i].name);
        free(t->vars[i].def);
        for (j = 0; t->vars[i].choices != NULL && t->vars[i].choices[j]; j++) {
            free(t->vars[i].choices[j]);
        }
        free(t->vars[i].choices);
    }
    free(t->vars);
    free(t->name);
    free(t->subject);
    free(t->text);
    free(t->html);
    free(t->sms);
    free(t);
}


int
notify_template_name_valid(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-')) {
            return 0;
        }
    }
    return n >= 1 && n <= NOTIFY_TPL_NAME_MAX;
}


static notify_var_t *
notify_var_find(const notify_template_t *t, const char *name, size_t n)
{
    size_t i;

    for (i = 0; i < t->nvars; i++) {
        if (strlen(t->vars[i].name) == n &&
            memcmp(t->vars[i].name, name, n) == 0) {
            return &t->vars[i];
        }
    }
    return NULL;
}


/* "var: NAME KIND" or "var: NAME KIND = DEFAULT" (DEFAULT may be empty). */
static int
notify_parse_var(notify_template_t *t, char *spec, char *err, size_t errlen)
{
    char         *name, *kind, *eq, *def = NULL, *save = NULL;
    size_t        i;
    notify_var_t *v;

    eq = strchr(spec, '=');
    if (eq != NULL) {
        *eq = '\0';
        def = eq + 1;
        def += strspn(def, " ");
    }
    name = strtok_r(spec, " ", &save);
    kind = strtok_r(NULL, " ", &save);
    if (name == NULL || kind == NULL || strtok_r(NULL, " ", &save) != NULL) {
        snprintf(err, errlen,
                 "want \"var: NAME KIND\" or \"var: NAME KIND = "
                 "DEFAULT\"");
        return -1;
    }
    if (!notify_template_name_valid(name)) {
        snprintf(err, errlen, "bad variable name (a-z 0-9 _ -)");
        return -1;
    }
    if (notify_var_find(t, name, strlen(name)) != NULL) {
        snprintf(err, errlen, "variable %s declared twice", name);
        return -1;
    }
    for (i = 0; i < sizeof(notify_kinds) / sizeof(notify_kinds[0]); i++) {
        if (strcmp(kind, notify_kinds[i].word) == 0) {
            break;
        }
    }
    if (i == sizeof(notify_kinds) / sizeof(notify_kinds[0])) {
        snprintf(err, errlen,
                 "unknown kind \"%.32s\" (text, otp, number, multiline, "
                 "choice)",
                 kind);
        return -1;
    }
    v = realloc(t->vars, (t->nvars + 1) * sizeof(*v));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->vars = v;
    v = &t->vars[t->nvars];
    memset(v, 0, sizeof(*v));
    v->flags = notify_kinds[i].flags;
    v->name = strdup(name);
    v->def = def != NULL ? strdup(def) : NULL;
    t->nvars++;
    if (v->name == NULL || (def != NULL && v->def == NULL)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}


/* Adds the words of choice value for var (a "--- choice VAR [VALUE]"). */
static int
notify_add_choice(notify_template_t *t, const char *spec, char **words,
                  char *err, size_t errlen)
{
    char         *value, **c;
    size_t        i, n;
    notify_var_t *v;

    n = strcspn(spec, " ");
    v = notify_var_find(t, spec, n);
    if (v == NULL || !(v->flags & NOTIFY_VAR_CHOICE)) {
        snprintf(err, errlen, "choice for %.*s, which is no choice variable",
                 (int) (n > 64 ? 64 : n), spec);
        return -1;
    }
    value = (char *) spec + n;
    value += strspn(value, " ");
    for (i = 0; i < v->nchoices; i++) {
        if (strcmp(v->choices[2 * i], value) == 0) {
            snprintf(err, errlen, "choice %s of %s given twice", value,
                     v->name);
            return -1;
        }
    }
    c = realloc(v->choices, (2 * v->nchoices + 3) * sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v->choices = c;
    c[2 * v->nchoices] = strdup(value);
    c[2 * v->nchoices + 1] = *words;
    c[2 * v->nchoices + 2] = NULL;
    *words = NULL; /* now owned by the variable */
    if (c[2 * v->nchoices] == NULL) {
        free(c[2 * v->nchoices + 1]);
        c[2 * v->nchoices] = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v->nchoices++;
    return 0;
}


/* Every {{name}} of src is a declared variable. */
static int
notify_check_refs(const notify_template_t *t, const char *part, const char *src,
                  char *err, size_t errlen)
{
    const char *open, *close;

    while ((open = strstr(src, "{{")) != NULL) {
        close = strstr(open + 2, "}}");
        if (close == NULL) {
            snprintf(err, errlen, "%s: unclosed {{", part);
            return -1;
        }
        if (notify_var_find(t, open + 2, (size_t) (close - open - 2)) == NULL) {
            snprintf(err, errlen, "%s: {{%.*s}} is not declared (var:)", part,
                     (int) (close - open - 2 > 64 ? 64 : close - open - 2),
                     open + 2);
            return -1;
        }
        src = close + 2;
    }
    return 0;
}


/*
 * What a whole template must have, once every line is read.  lines: where
 * the subject, text, html and sms parts start (0: absent); *at gets the
 * line of the part at fault, if any.
 */
static int
notify_template_check(notify_template_t *t, const size_t lines[4], size_t *at,
                      char *err, size_t errlen)
{
    size_t        i, j;
    notify_var_t *v;
    const char   *parts[4];

    if (t->subject == NULL || t->subject[0] == '\0') {
        snprintf(err, errlen, "no subject: line");
        return -1;
    }
    if (t->text == NULL || t->html == NULL) {
        snprintf(err, errlen, "no \"--- %s\" part",
                 t->text == NULL ? "text" : "html");
        return -1;
    }
    parts[0] = t->subject;
    parts[1] = t->text;
    parts[2] = t->html;
    parts[3] = t->sms;
    for (i = 0; i < 4; i++) {
        if (parts[i] != NULL &&
            notify_check_refs(t, notify_parts[i], parts[i], err, errlen) != 0) {
            *at = lines[i];
            return -1;
        }
    }
    for (i = 0; i < t->nvars; i++) {
        v = &t->vars[i];
        if (!(v->flags & NOTIFY_VAR_CHOICE)) {
            continue;
        }
        if (v->nchoices == 0) {
            snprintf(err, errlen, "choice variable %s has no \"--- choice\"",
                     v->name);
            return -1;
        }
        if (v->def == NULL) {
            continue;
        }
        for (j = 0; j < v->nchoices; j++) {
            if (strcmp(v->choices[2 * j], v->def) == 0) {
                break;
            }
        }
        if (j == v->nchoices) {
            snprintf(err, errlen, "the default of %s is none of its choices",
                     v->name);
            return -1;
        }
    }
    return 0;
}


/* One "key: value" line of the head. */
static int
notify_parse_head(notify_template_t *t, char *line, const char **to_name,
                  char *err, size_t errlen)
{
    char *value;

    value = strchr(line, ':');
    if (value == NULL) {
        snprintf(err, errlen, "want \"key: value\" or \"--- part\"");
        return -1;
    }
    *value++ = '\0';
    value += strspn(value, " ");
    if (strcmp(line, "subject") == 0) {
        if (t->subject != NULL) {
            snprintf(err, errlen, "subject given twice");
            return -1;
        }
        t->subject = strdup(value);
        if (t->subject == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    if (strcmp(line, "var") == 0) {
        return notify_parse_var(t, value, err, errlen);
    }
    if (strcmp(line, "to-name") == 0) {
        *to_name = value; /* checked once every var is known */
        return 0;
    }
    if (strcmp(line, "list-unsubscribe") == 0) {
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
            snprintf(err, errlen, "list-unsubscribe: yes or no");
            return -1;
        }
        t->list_unsubscribe = value[0] == 'y';
        return 0;
    }
    snprintf(err, errlen,
             "unknown key \"%.32s\" (subject, var, to-name, "
             "list-unsubscribe)",
             line);
    return -1;
}


/*
 * Ends the part being read: its lines, the last line break dropped, go to
 * the part named by sect ("text", "html", "sms" or "choice VAR [VALUE]").
 */
static int
notify_end_part(notify_template_t *t, const char *sect, id_buf_t *b, char *err,
                size_t errlen)
{
    char  *s, **slot = NULL;
    size_t n;

    while (b->len > 0 && b->buf[b->len - 1] == '\n') {
        b->buf[--b->len] = '\0';
    }
    s = id_buf_done(b);
    memset(b, 0, sizeof(*b));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strncmp(sect, "choice ", 7) == 0) {
        if (notify_add_choice(t, sect + 7, &s, err, errlen) != 0) {
            free(s);
            return -1;
        }
        return 0;
    }
    if (strcmp(sect, "text") == 0) {
        slot = &t->text;
    } else if (strcmp(sect, "html") == 0) {
        slot = &t->html;
    } else if (strcmp(sect, "sms") == 0) {
        slot = &t->sms;
    }
    if (slot == NULL) {
        n = strlen(sect);
        snprintf(err, errlen,
                 "unknown part \"%.*s\" (text, html, sms, choice VAR VALUE)",
                 (int) (n > 32 ? 32 : n), sect);
        free(s);
        return -1;
    }
    if (*slot != NULL) {
        snprintf(err, errlen, "part %s given twice", sect);
        free(s);
        return -1;
    }
    *slot = s;
    return 0;
}


int
notify_template_parse(const char *name, const char *src,
                      notify_template_t **out, char *err, size_t errlen)
{
    int                rc = -1;
    char              *copy, *line, *next, *sect = NULL, msg[256];
    size_t             lineno = 0, sect_line = 0, n, i, lines[4] = { 0 };
    id_buf_t           b = ID_BUF_INIT;
    const char        *to_name = NULL;
    notify_template_t *t;

    *out = NULL;
    msg[0] = '\0';
    if (!notify_template_name_valid(name)) {
        snprintf(err, errlen, "bad template name (1-%d of a-z 0-9 _ -)",
                 NOTIFY_TPL_NAME_MAX);
        return -1;
    }
    t = calloc(1, sizeof(*t));
    copy = strdup(src);
    if (t == NULL || copy == NULL || (t->name = strdup(name)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(copy);
        notify_template_free(t);
        return -1;
    }
    t->to_name = -1;

    for (line = copy; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        } else if (*line == '\0') {
            break; /* the file's last line break */
        }
        lineno++;
        n = strlen(line);
        if (n > 0 && line[n - 1] == '\r') {
            line[--n] = '\0';
        }
        if (strncmp(line, "--- ", 4) == 0) {
            if (sect != NULL &&
                notify_end_part(t, sect, &b, msg, sizeof(msg)) != 0) {
                lineno = sect_line;
                goto bad;
            }
            sect = line + 4;
            sect_line = lineno;
            for (i = 1; i < 4; i++) {
                if (strcmp(sect, i == 1   ? "text"
                                 : i == 2 ? "html"
                                          : "sms") == 0) {
                    lines[i] = lineno;
                }
            }
            continue;
        }
        if (sect != NULL) {
            id_buf_add(&b, line, n);
            id_buf_add(&b, "\n", 1);
            continue;
        }
        if (n == 0 || line[0] == '#') {
            continue;
        }
        if (notify_parse_head(t, line, &to_name, msg, sizeof(msg)) != 0) {
            goto bad;
        }
        if (t->subject != NULL && lines[0] == 0) {
            lines[0] = lineno;
        }
    }
    if (sect != NULL && notify_end_part(t, sect, &b, msg, sizeof(msg)) != 0) {
        lineno = sect_line;
        goto bad;
    }
    lineno = 0; /* what is missing belongs to no line */
    if (to_name != NULL) {
        for (i = 0; i < t->nvars; i++) {
            if (strcmp(t->vars[i].name, to_name) == 0 &&
                t->vars[i].flags == 0) {
                t->to_name = (int) i;
            }
        }
        if (t->to_name < 0) {
            snprintf(msg, sizeof(msg), "to-name: not a text variable");
            goto bad;
        }
    }
    if (notify_template_check(t, lines, &lineno, msg, sizeof(msg)) != 0) {
        goto bad;
    }
    *out = t;
    t = NULL;
    rc = 0;

bad:

    if (rc != 0) {
        if (lineno > 0) {
            snprintf(err, errlen, "line %zu: %s", lineno, msg);
        } else {
            snprintf(err, errlen, "%s", msg);
        }
    }
    free(b.buf);
    free(copy);
    notify_template_free(t);
    return rc;
}


/* ------------------------------------------------------------- loading */


/* Puts t in ts, replacing a template of the same name (an override). */
static int
notify_templates_put(notify_templates_t *ts, notify_template_t *t)
{
    size_t              i;
    notify_template_t **a;

    for (i = 0; i < ts->n; i++) {
        if (strcmp(ts->t[i]->name, t->name) == 0) {
            notify_template_free(ts->t[i]);
            ts->t[i] = t;
            return 0;
        }
    }
    a = realloc(ts->t, (ts->n + 1) * sizeof(*a));
    if (a == NULL) {
        return -1;
    }
    ts->t = a;
    ts->t[ts->n++] = t;
    return 0;
}


static int
notify_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* Reads path (at most NOTIFY_TPL_FILE_MAX bytes, no NUL) into a string. */
static char *
notify_read_file(const char *path, char *err, size_t errlen)
{
    char  *s;
    size_t n;
    FILE  *f;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    s = malloc(NOTIFY_TPL_FILE_MAX + 1);
    if (s == NULL) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n = fread(s, 1, NOTIFY_TPL_FILE_MAX + 1, f);
    if (ferror(f) || n > NOTIFY_TPL_FILE_MAX) {
        snprintf(err, errlen,
                 ferror(f) ? "cannot read" : "larger than %d bytes",
                 NOTIFY_TPL_FILE_MAX);
        fclose(f);
        free(s);
        return NULL;
    }
    fclose(f);
    s[n] = '\0';
    if (strlen(s) != n || !g_utf8_validate(s, (gssize) n, NULL)) {
        snprintf(err, errlen, "not UTF-8 text");
        free(s);
        return NULL;
    }
    return s;
}


/* Adds every NAME.tpl of dir to ts. */
static int
notify_templates_dir(notify_templates_t *ts, const char *dir, char *err,
                     size_t errlen)
{
    int                rc = -1;
    char             **names = NULL, **a, *path = NULL, *text, msg[300];
    size_t             i, n = 0, len, slen = strlen(NOTIFY_TPL_SUFFIX);
    DIR               *d;
    struct dirent     *e;
    notify_template_t *t;

    d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot open the directory: %s", dir,
                 strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);
        if (len <= slen || e->d_name[0] == '.' ||
            strcmp(e->d_name + len - slen, NOTIFY_TPL_SUFFIX) != 0) {
            continue; /* a README, an editor's backup */
        }
        if (n == NOTIFY_TPL_MAX) {
            snprintf(err, errlen, "%s: more than %d templates", dir,
                     NOTIFY_TPL_MAX);
            goto done;
        }
        a = realloc(names, (n + 1) * sizeof(*a));
        if (a == NULL || (a[n] = strndup(e->d_name, len - slen)) == NULL) {
            names = a != NULL ? a : names;
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        names = a;
        n++;
    }
    /* the same order on every host: the first error is the same */
    if (n > 0) {
        qsort(names, n, sizeof(*names), notify_name_cmp);
    }
    for (i = 0; i < n; i++) {
        free(path);
        if (asprintf(&path, "%s/%s%s", dir, names[i], NOTIFY_TPL_SUFFIX) < 0) {
            path = NULL;
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        text = notify_read_file(path, msg, sizeof(msg));
        if (text == NULL) {
            snprintf(err, errlen, "%s: %s", path, msg);
            goto done;
        }
        if (notify_template_parse(names[i], text, &t, msg, sizeof(msg)) != 0) {
            free(text);
            snprintf(err, errlen, "%s: %s", path, msg);
            goto done;
        }
        free(text);
        if (notify_templates_put(ts, t) != 0) {
            notify_template_free(t);
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }
    rc = 0;

done:

    closedir(d);
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    free(path);
    return rc;
}


int
notify_templates_load(const char *shipped_dir, const char *deploy_dir,
                      notify_templates_t **out, char *err, size_t errlen)
{
    notify_templates_t *ts;

    *out = NULL;
    ts = calloc(1, sizeof(*ts));
    if (ts == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (notify_templates_dir(ts, shipped_dir, err, errlen) != 0 ||
        (deploy_dir != NULL &&
         notify_templates_dir(ts, deploy_dir, err, errlen) != 0)) {
        notify_templates_free(ts);
        return -1;
    }
    if (ts->n == 0) {
        snprintf(err, errlen, "%s: no NAME%s file in it", shipped_dir,
                 NOTIFY_TPL_SUFFIX);
        notify_templates_free(ts);
        return -1;
    }
    *out = ts;
    return 0;
}


void
notify_templates_free(notify_templates_t *ts)
{
    size_t i;

    if (ts == NULL) {
        return;
    }
    for (i = 0; i < ts->n; i++) {
        notify_template_free(ts->t[i]);
    }
    free(ts->t);
    free(ts);
}


const char *
notify_template_name(const notify_templates_t *ts, size_t i)
{
    return i < ts->n ? ts->t[i]->name : NULL;
}


size_t
notify_templates_count(const notify_templates_t *ts)
{
    return ts->n;
}


static const notify_template_t *
notify_template_find(const notify_templates_t *ts, const char *name)
{
    size_t i;

    for (i = 0; i < ts->n; i++) {
        if (strcmp(ts->t[i]->name, name) == 0) {
            return ts->t[i];
        }
    }
    return NULL;
}


/* ----------------------------------------------------------- rendering */


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


/* Appends s to b, HTML-escaped if html. */
static void
notify_put(id_buf_t *b, const char *s, size_t n, int html)
{
    gchar *e;

    if (!html) {
        id_buf_add(b, s, n);
        return;
    }
    e = g_markup_escape_text(s, (gssize) n);
    id_buf_adds(b, e);
    g_free(e);
}


/* The value of var in data as it is (a string, the default, or an
 * integer written into num), or NULL with the reason in err. */
static const char *
notify_var_value(const notify_var_t *var, const json_t *data, char *num,
                 size_t numlen, int *given, char *err, size_t errlen)
{
    json_t *v;

    *given = 1;
    v = json_object_get(data, var->name);
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return num;
    }
    if (v == NULL || json_is_null(v)) {
        *given = 0;
        if (var->def == NULL) {
            snprintf(err, errlen, "missing data.%s", var->name);
        }
        return var->def;
    }
    snprintf(err, errlen, "data.%s is not a string", var->name);
    return NULL;
}


/* The value of var from data, checked and cleaned, as a new string. */
static char *
notify_var_clean(const notify_var_t *var, const json_t *data, int *given,
                 char *err, size_t errlen)
{
    char        num[32], *out;
    size_t      i, n, max;
    id_buf_t    b = ID_BUF_INIT;
    const char *s;

    s = notify_var_value(var, data, num, sizeof(num), given, err, errlen);
    if (s == NULL) {
        return NULL;
    }
    if (var->flags & NOTIFY_VAR_CHOICE) {
        for (i = 0; var->choices[i] != NULL; i += 2) {
            if (strcmp(var->choices[i], s) == 0) {
                return strdup(var->choices[i + 1]); /* our words */
            }
        }
        snprintf(err, errlen, "bad data.%s", var->name);
        return NULL;
    }
    if (((var->flags & NOTIFY_VAR_OTP) && !notify_digits(s, 4, 10)) ||
        ((var->flags & NOTIFY_VAR_NUMBER) && !notify_digits(s, 1, 6))) {
        snprintf(err, errlen, "bad data.%s", var->name);
        return NULL;
    }
    max = (var->flags & NOTIFY_VAR_MULTILINE) ? NOTIFY_TEXT_MAX
                                              : NOTIFY_VALUE_MAX;
    n = strlen(s);
    if (n > max) {
        snprintf(err, errlen, "data.%s longer than %zu bytes", var->name, max);
        return NULL;
    }

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c == '\r') {
            if ((var->flags & NOTIFY_VAR_MULTILINE) && s[i + 1] != '\n') {
                id_buf_add(&b, "\n", 1); /* a lone CR: old Mac line end */
            } else if (!(var->flags & NOTIFY_VAR_MULTILINE)) {
                id_buf_add(&b, " ", 1);
            }
        } else if (c == '\n' || c == '\t') {
            id_buf_add(&b, (var->flags & NOTIFY_VAR_MULTILINE) ? &s[i] : " ",
                       1);
        } else if (c < 0x20 || c == 0x7f) {
            id_buf_add(&b, " ", 1);
        } else {
            id_buf_add(&b, &s[i], 1);
        }
    }
    out = id_buf_done(&b);
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
    }
    return out;
}


/* src with its {{vars}} (declared: checked when the file was read). */
static char *
notify_render_one(const notify_template_t *t, const char *src,
                  const json_t *data, int html, char *err, size_t errlen)
{
    int                 given;
    char               *out, *v;
    const char         *open, *close;
    id_buf_t            b = ID_BUF_INIT;
    const notify_var_t *var;

    while ((open = strstr(src, "{{")) != NULL) {
        id_buf_add(&b, src, (size_t) (open - src));
        close = strstr(open + 2, "}}");
        var = close != NULL
                  ? notify_var_find(t, open + 2, (size_t) (close - open - 2))
                  : NULL;
        if (var == NULL) {
            snprintf(err, errlen, "template %s: undeclared variable", t->name);
            goto failed;
        }
        v = notify_var_clean(var, data, &given, err, errlen);
        if (v == NULL) {
            goto failed;
        }
        notify_put(&b, v, strlen(v), html);
        free(v);
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
notify_render(const notify_templates_t *ts, const char *name,
              notify_channel_t channel, const json_t *data,
              notify_rendered_t *out, char *err, size_t errlen)
{
    int                      given;
    const notify_template_t *t;

    memset(out, 0, sizeof(*out));
    t = notify_template_find(ts, name);
    if (t == NULL) {
        snprintf(err, errlen, "unknown template");
        return 1;
    }
    if (channel == NOTIFY_SMS) {
        out->text = notify_render_one(t, t->sms ? t->sms : t->text, data, 0,
                                      err, errlen);
        return out->text != NULL ? 0 : -1;
    }
    out->subject = notify_render_one(t, t->subject, data, 0, err, errlen);
    if (out->subject == NULL) {
        goto failed;
    }
    out->text = notify_render_one(t, t->text, data, 0, err, errlen);
    if (out->text == NULL) {
        goto failed;
    }
    out->html = notify_render_one(t, t->html, data, 1, err, errlen);
    if (out->html == NULL) {
        goto failed;
    }
    if (out->subject[0] == '\0') {
        snprintf(err, errlen, "empty subject");
        goto failed;
    }
    if (t->to_name >= 0) {
        /* only a name the job gives, never the default ("there") */
        out->to_name =
            notify_var_clean(&t->vars[t->to_name], data, &given, err, errlen);
        if (out->to_name == NULL) {
            goto failed;
        }
        if (!given || out->to_name[0] == '\0') {
            free(out->to_name);
            out->to_name = NULL;
        }
    }
    out->list_unsubscribe = t->list_unsubscribe;
    return 0;

failed:

    notify_rendered_free(out);
    return -1;
}


void
notify_rendered_free(notify_rendered_t *r)
{
    if (r == NULL) {
        return;
    }
    free(r->subject);
    free(r->text);
    free(r->html);
    free(r->to_name);
    memset(r, 0, sizeof(*r));
}
