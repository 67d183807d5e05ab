/* A minimal, non-validating XML reader for the MP list. */
#include "mplist.h"

#include <string.h>

#include "cg.h"

#define MAX_DEPTH 16
#define MAX_BODY (4u * 1024u * 1024u)

struct rd {
  const char *begin, *p, *end;
  struct mplist *m;
  int depth;
  bool root_seen, root_closed;
  char stack[MAX_DEPTH][32];
  struct mplist_mp *cur; /* the <MP> being read */
  bool in_version;
  char *text;
  size_t text_len; /* where character data goes (Version) */
};

static int fail(struct rd *r, const char *msg) {
  cg_snprintf(r->m->error, sizeof(r->m->error), "%s (at byte %zu)", msg, (size_t)(r->p - r->begin));
  return CG_ERR_PARSE;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static bool is_name(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':' || (unsigned char)c >= 0x80;
}

/* Copies an attribute value or text, decoding only the five predefined entities and numeric
 * references below 128; any other reference is kept as written (never expanded). */
static void copy_text(char *dst, size_t dstlen, const char *s, size_t n) {
  size_t o = 0;
  static const struct {
    const char *e;
    char c;
  } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  for (size_t i = 0; i < n && o + 1 < dstlen;) {
    char c = s[i];
    size_t used = 1;
    if (c == '&') {
      for (size_t k = 0; k < CG_ARRAY_LEN(ents); k++) {
        size_t el = strlen(ents[k].e);
        if (n - i >= el && !memcmp(s + i, ents[k].e, el)) {
          c = ents[k].c;
          used = el;
          break;
        }
      }
      if (used == 1 && n - i >= 4 && s[i + 1] == '#') {
        size_t j = i + 2;
        unsigned v = 0;
        bool hex = j < n && (s[j] == 'x' || s[j] == 'X');
        if (hex) j++;
        size_t digits = 0;
        for (; j < n && digits < 6; j++, digits++) {
          char d = s[j];
          int dv = d >= '0' && d <= '9'          ? d - '0'
                   : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                   : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                 : -1;
          if (dv < 0) break;
          v = v * (hex ? 16u : 10u) + (unsigned)dv;
        }
        if (digits && j < n && s[j] == ';' && v > 31 && v < 127) {
          c = (char)v;
          used = j + 1 - i;
        }
      }
    }
    if ((unsigned char)c >= 32 || c == '\t') dst[o++] = c;
    i += used;
  }
  dst[o] = '\0';
}

static bool name_is(const char *s, size_t n, const char *want) {
  return strlen(want) == n && cg_str_startswith_ci(s, want); /* case-insensitive: MPLIST, MPList */
}

static void on_attr(struct rd *r, const char *el, size_t eln, const char *an, size_t ann, const char *v, size_t vn) {
  if (r->cur && name_is(el, eln, "MP")) {
    if (name_is(an, ann, "Name"))
      copy_text(r->cur->name, sizeof(r->cur->name), v, vn);
    else if (name_is(an, ann, "FQDN"))
      copy_text(r->cur->fqdn, sizeof(r->cur->fqdn), v, vn);
    else if (name_is(an, ann, "SiteCode"))
      copy_text(r->cur->site_code, sizeof(r->cur->site_code), v, vn);
  }
}

static int start_tag(struct rd *r) {
  const char *p = r->p + 1, *end = r->end;
  const char *nm = p;
  while (p < end && is_name(*p))
    p++;
  size_t nl = (size_t)(p - nm);
  if (!nl) return fail(r, "a tag without a name");
  if (r->root_closed) return fail(r, "content after the end of <MPList>");
  if (!r->root_seen) {
    if (!name_is(nm, nl, "MPList")) {
      cg_snprintf(r->m->error, sizeof(r->m->error), "the document is <%.*s>, not <MPList>", (int)(nl > 40 ? 40 : nl),
                  nm);
      return CG_ERR_PARSE;
    }
    r->root_seen = true;
  }
  if (r->depth >= MAX_DEPTH) return fail(r, "elements nested too deeply");
  bool is_mp = r->depth == 1 && name_is(nm, nl, "MP");
  if (is_mp) {
    r->m->total++;
    r->cur = r->m->count < CG_MPLIST_MAX ? &r->m->mp[r->m->count++] : NULL;
  }
  bool is_prop = r->cur && name_is(nm, nl, "Property");
  char pname[32] = "", pval[16] = "";
  /* attributes */
  for (;;) {
    while (p < end && is_space(*p))
      p++;
    if (p >= end) return fail(r, "the document ends inside a tag");
    if (*p == '>' || (*p == '/' && p + 1 < end && p[1] == '>')) break;
    const char *an = p;
    while (p < end && is_name(*p))
      p++;
    size_t anl = (size_t)(p - an);
    if (!anl) return fail(r, "a malformed attribute");
    while (p < end && is_space(*p))
      p++;
    if (p >= end || *p != '=') return fail(r, "an attribute without a value");
    p++;
    while (p < end && is_space(*p))
      p++;
    if (p >= end || (*p != '"' && *p != '\'')) return fail(r, "an attribute value without quotes");
    char q = *p++;
    const char *v = p;
    while (p < end && *p != q) {
      if (*p == '<') return fail(r, "'<' inside an attribute value");
      p++;
    }
    if (p >= end) return fail(r, "the document ends inside an attribute value");
    size_t vl = (size_t)(p - v);
    p++;
    if (is_mp) on_attr(r, nm, nl, an, anl, v, vl);
    if (is_prop && name_is(an, anl, "Name")) copy_text(pname, sizeof(pname), v, vl);
    if (is_prop && name_is(an, anl, "Value")) copy_text(pval, sizeof(pval), v, vl);
  }
  if (is_prop && !strcmp(pname, "SSLState")) cg_strlcpy(r->cur->ssl_state, pval, sizeof(r->cur->ssl_state));
  bool empty = *p == '/';
  r->p = p + (empty ? 2 : 1);
  if (empty) {
    if (r->depth == 0) r->root_closed = true;
    if (is_mp) r->cur = NULL;
    return CG_OK;
  }
  cg_snprintf(r->stack[r->depth], sizeof(r->stack[0]), "%.*s", (int)(nl > 31 ? 31 : nl), nm);
  r->depth++;
  r->in_version = r->cur && r->depth == 3 && name_is(nm, nl, "Version");
  return CG_OK;
}

static int end_tag(struct rd *r) {
  const char *p = r->p + 2, *nm = p;
  while (p < r->end && is_name(*p))
    p++;
  size_t nl = (size_t)(p - nm);
  while (p < r->end && is_space(*p))
    p++;
  if (p >= r->end || *p != '>') return fail(r, "a malformed end tag");
  if (r->depth == 0) return fail(r, "an end tag without a start tag");
  const char *open = r->stack[r->depth - 1];
  if (strlen(open) != nl || strncmp(open, nm, nl)) return fail(r, "mismatched end tag");
  r->depth--;
  if (r->depth == 1 && r->cur) r->cur = NULL;
  if (r->depth == 0) r->root_closed = true;
  r->in_version = false;
  r->p = p + 1;
  return CG_OK;
}

int mplist_parse(const char *body, size_t len, struct mplist *mpl) {
  memset(mpl, 0, sizeof(*mpl));
  struct rd r = {.begin = body, .p = body, .end = body + len, .m = mpl};
  if (len > MAX_BODY) {
    cg_snprintf(mpl->error, sizeof(mpl->error), "the answer is %zu bytes, more than an MP list can be", len);
    return CG_ERR_PARSE;
  }
  if (len >= 2 && ((unsigned char)body[0] == 0xFF || (unsigned char)body[0] == 0xFE)) {
    cg_snprintf(mpl->error, sizeof(mpl->error), "the answer is UTF-16, not the UTF-8 XML of an MP list");
    return CG_ERR_PARSE;
  }
  if (len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3)) r.p += 3;
  while (r.p < r.end) {
    const char *lt = memchr(r.p, '<', (size_t)(r.end - r.p));
    const char *stop = lt ? lt : r.end;
    /* character data */
    for (const char *c = r.p; c < stop; c++)
      if (!is_space(*c) && r.depth == 0) {
        cg_snprintf(mpl->error, sizeof(mpl->error), "%s",
                    r.root_seen ? "text after the end of <MPList>" : "the answer is not XML");
        return CG_ERR_PARSE;
      }
    if (r.in_version && r.cur) {
      char tmp[32];
      copy_text(tmp, sizeof(tmp), r.p, (size_t)(stop - r.p));
      cg_strlcpy(r.cur->version, cg_str_trim(tmp), sizeof(r.cur->version));
    }
    if (!lt) break;
    r.p = lt;
    size_t rest = (size_t)(r.end - r.p);
    int rc = CG_OK;
    if (rest >= 4 && !memcmp(r.p, "<!--", 4)) {
      const char *e = cg_memmem(r.p + 4, rest - 4, "-->", 3);
      if (!e) return fail(&r, "an unterminated comment");
      r.p = (const char *)e + 3;
    } else if (rest >= 9 && !memcmp(r.p, "<![CDATA[", 9)) {
      const char *e = cg_memmem(r.p + 9, rest - 9, "]]>", 3);
      if (!e) return fail(&r, "an unterminated CDATA section");
      r.p = (const char *)e + 3;
    } else if (rest >= 2 && r.p[1] == '!') {
      /* DOCTYPE / ENTITY: refused, never interpreted (no entity expansion at all) */
      cg_snprintf(mpl->error, sizeof(mpl->error),
                  "the answer has a document type declaration (<!DOCTYPE>), which an MP list never has; "
                  "it was not interpreted");
      return CG_ERR_PARSE;
    } else if (rest >= 2 && r.p[1] == '?') {
      const char *e = cg_memmem(r.p + 2, rest - 2, "?>", 2);
      if (!e) return fail(&r, "an unterminated processing instruction");
      r.p = (const char *)e + 2;
    } else if (rest >= 2 && r.p[1] == '/') {
      rc = end_tag(&r);
    } else {
      rc = start_tag(&r);
    }
    if (rc != CG_OK) return rc;
  }
  if (!r.root_seen) {
    cg_snprintf(mpl->error, sizeof(mpl->error), "%s", len ? "the answer is not XML" : "the answer is empty");
    return CG_ERR_PARSE;
  }
  if (!r.root_closed) return fail(&r, "the document ends before </MPList> (truncated)");
  return CG_OK;
}
