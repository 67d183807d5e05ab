/* Two voices (docs/commands.md "Two voices"): the sentence a helpdesk reads aloud names the thing and
 * what to do in plain words; error numbers, GUIDs, thumbprints, SIDs, raw bytes and byte counts go to
 * the detail line an administrator reads. */
#ifndef CG_VOICE_H
#define CG_VOICE_H

#include "cg.h"

/* The first technical token of `s` (NULL when the text is plain words); *what, when given, names
 * its kind ("a GUID", "a curl error", ...). Linear in the length of `s`. */
const char *cg_voice_technical(const char *s, const char **what);

/* Moves every parenthesised part of `sentence` that holds a technical token, brackets and the space
 * before them included, to `detail` ("; " between parts). `sentence` is edited in place; a sentence
 * that would be left empty is kept whole; from an unclosed bracket on, the text is kept as it is. CG_ERR_NOMEM when
 * `detail` cannot grow. Linear. */
int cg_voice_split(char *sentence, struct cg_buf *detail);

#endif
