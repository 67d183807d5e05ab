/* Parser for `dsregcmd /status` text (docs/domain.md, "dsregcmd"): banner-framed sections of "key : value"
 * lines, tolerant of what real captures look like (indentation, blank lines, wrapped values,
 * progress and footer text, prompts, unknown sections, truncation). Input is clean UTF-8
 * (decode with cg_text_decode_capture first). */
#ifndef CG_DSREG_H
#define CG_DSREG_H

#include "cg.h"

struct dsreg_field {
  char *key;   /* as written (trimmed) */
  char *value; /* trimmed; "" when empty; continuation lines appended */
};

struct dsreg_section {
  char *title; /* "Device State", "Work Account 1", ...; "" for lines before any banner */
  struct dsreg_field *fields;
  size_t count, alloc;
};

struct dsreg_doc {
  struct dsreg_section *sections;
  size_t count, alloc;
  size_t kv_lines;      /* lines read as key : value */
  size_t free_lines;    /* progress, footer, prompt and unrecognised lines */
  size_t continuations; /* wrapped lines joined to the value before them */
};

/* Parses `text` (NUL-terminated UTF-8). Never fails on content: garbage gives a document with
 * few or no fields. CG_ERR_NOMEM or CG_ERR_TOOBIG (more than 4096 sections or fields) only.
 * Free with dsreg_free, also after an error. */
int dsreg_parse(const char *text, struct dsreg_doc *doc);
void dsreg_free(struct dsreg_doc *doc);

/* Value of `key` (case-insensitive) in the first section whose title matches `section`
 * (case-insensitive; NULL = any section). Borrowed; NULL when absent. */
const char *dsreg_get(const struct dsreg_doc *doc, const char *section, const char *key);
const struct dsreg_section *dsreg_section(const struct dsreg_doc *doc, const char *title);

#endif
