/* Signature catalogue: JSON loading and an Aho-Corasick matcher (case-insensitive). */
#include "sigmatch.h"

#include <string.h>

#include "platform/fs.h"

#define WORDS (SIG_MAX_PATTERNS / 64)

static unsigned char lower[256];

static void init_lower(void) {
  for (int i = 0; i < 256; i++)
    lower[i] = (unsigned char)((i >= 'A' && i <= 'Z') ? i + 32 : i);
}

static int pattern_id(struct sigset *set, const char *text) {
  for (size_t i = 0; i < set->patterns; i++)
    if (cg_strcasecmp(set->pattern_text[i], text) == 0) return (int)i;
  if (set->patterns >= SIG_MAX_PATTERNS) return -1;
  char **nt = cg_realloc(set->pattern_text, (set->patterns + 1) * sizeof(char *));
  if (!nt) return -2;
  set->pattern_text = nt;
  if (!(nt[set->patterns] = cg_strdup(text))) return -2;
  return (int)set->patterns++;
}

static void free_sig(struct signature *s) {
  cg_free(s->code);
  cg_free(s->summary);
  cg_free(s->remediation);
  cg_free(s->component);
  cg_free(s->source);
  cg_free(s->op);
  cg_free(s->basis);
  for (size_t i = 0; i < s->nlogs; i++)
    cg_free(s->logs[i]);
  cg_free(s->logs);
  memset(s, 0, sizeof(*s));
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int patterns(struct sigset *set, const cJSON *list, uint64_t *bits, const char *origin, const char *code,
                    char *err, size_t errlen) {
  for (const cJSON *p = list ? list->child : NULL; p; p = p->next) {
    if (!cJSON_IsString(p) || strlen(p->valuestring) < 3) {
      cg_snprintf(err, errlen, "%s: signature %s: patterns must be strings of 3 characters or more", origin, code);
      return CG_ERR_CONFIG;
    }
    int id = pattern_id(set, p->valuestring);
    if (id == -2) return CG_ERR_NOMEM;
    if (id < 0) {
      cg_snprintf(err, errlen, "%s: more than %d distinct patterns", origin, SIG_MAX_PATTERNS);
      return CG_ERR_CONFIG;
    }
    bits[id / 64] |= UINT64_C(1) << (id % 64);
  }
  return CG_OK;
}

int sig_load(struct sigset *set, const char *json, const char *origin, char *err, size_t errlen) {
  cJSON *doc = cJSON_Parse(json);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "signatures");
  int rc = CG_OK;
  if (!cJSON_IsArray(list)) {
    cg_snprintf(err, errlen, "%s: not a signature catalogue (expected {\"signatures\": [...]})", origin);
    cJSON_Delete(doc);
    return CG_ERR_CONFIG;
  }
  for (const cJSON *o = list->child; o && rc == CG_OK; o = o->next) {
    const char *code = str(o, "code"), *sev = str(o, "severity"), *summary = str(o, "summary");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(o, "all"), *any = cJSON_GetObjectItemCaseSensitive(o, "any");
    if (!code || !sev || !summary || (!cJSON_IsArray(all) && !cJSON_IsArray(any))) {
      cg_snprintf(err, errlen, "%s: signature %s needs code, severity, summary and \"all\" or \"any\" patterns", origin,
                  code ? code : "(no code)");
      rc = CG_ERR_CONFIG;
      break;
    }
    struct signature s = {0};
    if (!strcmp(sev, "fail"))
      s.severity = SIG_FAIL;
    else if (!strcmp(sev, "warn"))
      s.severity = SIG_WARN;
    else if (!strcmp(sev, "info"))
      s.severity = SIG_INFO;
    else if (!strcmp(sev, "ok"))
      s.severity = SIG_OK;
    else {
      cg_snprintf(err, errlen, "%s: signature %s: severity must be fail, warn, info or ok", origin, code);
      rc = CG_ERR_CONFIG;
      break;
    }
    s.code = cg_strdup(code);
    s.summary = cg_strdup(summary);
    s.remediation = cg_strdup(str(o, "remediation") ? str(o, "remediation") : "");
    s.component = str(o, "component") ? cg_strdup(str(o, "component")) : NULL;
    s.source = str(o, "source") ? cg_strdup(str(o, "source")) : NULL;
    s.generic = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "generic"));
    s.connectivity = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "connectivity"));
    s.op = str(o, "op") ? cg_strdup(str(o, "op")) : NULL;
    s.basis = str(o, "basis") ? cg_strdup(str(o, "basis")) : NULL;
    if (s.basis && strcmp(s.basis, "documented") != 0 && strcmp(s.basis, "inferred") != 0) {
      cg_snprintf(err, errlen, "%s: signature %s: basis must be documented or inferred", origin, code);
      free_sig(&s);
      rc = CG_ERR_CONFIG;
      break;
    }
    const cJSON *logs = cJSON_GetObjectItemCaseSensitive(o, "logs");
    int nl = cJSON_GetArraySize(logs);
    if (nl > 0 && (s.logs = cg_calloc((size_t)nl, sizeof(char *))) != NULL)
      for (const cJSON *l = logs->child; l; l = l->next)
        if (cJSON_IsString(l)) s.logs[s.nlogs++] = cg_strdup(l->valuestring);
    if (!s.code || !s.summary || !s.remediation) rc = CG_ERR_NOMEM;
    if (rc == CG_OK) rc = patterns(set, all, s.all, origin, code, err, errlen);
    if (rc == CG_OK && cJSON_IsArray(any)) {
      s.has_any = true;
      rc = patterns(set, any, s.any, origin, code, err, errlen);
    }
    const cJSON *none = cJSON_GetObjectItemCaseSensitive(o, "none");
    if (rc == CG_OK && cJSON_IsArray(none)) rc = patterns(set, none, s.none, origin, code, err, errlen);
    if (rc != CG_OK) {
      free_sig(&s);
      break;
    }
    size_t k = 0;
    while (k < set->count && strcmp(set->sigs[k].code, s.code) != 0)
      k++;
    if (k < set->count) {
      free_sig(&set->sigs[k]);
      set->sigs[k] = s;
    } else {
      struct signature *ns = cg_realloc(set->sigs, (set->count + 1) * sizeof(*ns));
      if (!ns) {
        free_sig(&s);
        rc = CG_ERR_NOMEM;
        break;
      }
      set->sigs = ns;
      set->sigs[set->count++] = s;
    }
  }
  cJSON_Delete(doc);
  return rc;
}

int sig_compile(struct sigset *set) {
  init_lower();
  size_t max_states = 1;
  for (size_t i = 0; i < set->patterns; i++)
    max_states += strlen(set->pattern_text[i]);
  cg_free(set->next);
  cg_free(set->out);
  set->next = cg_malloc(max_states * 256 * sizeof(int32_t));
  set->out = cg_calloc(max_states * WORDS, sizeof(uint64_t));
  int32_t *fail = cg_calloc(max_states, sizeof(int32_t)), *queue = cg_malloc(max_states * sizeof(int32_t));
  if (!set->next || !set->out || !fail || !queue) {
    cg_free(fail);
    cg_free(queue);
    return CG_ERR_NOMEM;
  }
  for (size_t i = 0; i < max_states * 256; i++)
    set->next[i] = -1;
  size_t states = 1;
  for (size_t p = 0; p < set->patterns; p++) {
    int32_t s = 0;
    for (const unsigned char *c = (const unsigned char *)set->pattern_text[p]; *c; c++) {
      int32_t *slot = &set->next[(size_t)s * 256 + lower[*c]];
      if (*slot < 0) *slot = (int32_t)states++;
      s = *slot;
    }
    set->out[(size_t)s * WORDS + p / 64] |= UINT64_C(1) << (p % 64);
  }
  /* BFS: complete the goto function into a DFA and fold outputs along the failure links. */
  size_t head = 0, tail = 0;
  for (int c = 0; c < 256; c++) {
    int32_t t = set->next[c];
    if (t < 0)
      set->next[c] = 0;
    else {
      fail[t] = 0;
      queue[tail++] = t;
    }
  }
  while (head < tail) {
    int32_t s = queue[head++];
    for (size_t w = 0; w < WORDS; w++)
      set->out[(size_t)s * WORDS + w] |= set->out[(size_t)fail[s] * WORDS + w];
    for (int c = 0; c < 256; c++) {
      int32_t *slot = &set->next[(size_t)s * 256 + c];
      if (*slot < 0) {
        *slot = set->next[(size_t)fail[s] * 256 + c];
      } else {
        fail[*slot] = set->next[(size_t)fail[s] * 256 + c];
        queue[tail++] = *slot;
      }
    }
  }
  set->states = states;
  cg_free(set->has_out);
  set->has_out = cg_calloc(states, 1);
  for (size_t st = 0; set->has_out && st < states; st++)
    for (size_t w = 0; w < WORDS; w++)
      set->has_out[st] |= set->out[st * WORDS + w] != 0;
  cg_free(fail);
  cg_free(queue);
  return CG_OK;
}

void sig_free(struct sigset *set) {
  for (size_t i = 0; i < set->count; i++)
    free_sig(&set->sigs[i]);
  cg_free(set->sigs);
  for (size_t i = 0; i < set->patterns; i++)
    cg_free(set->pattern_text[i]);
  cg_free(set->pattern_text);
  cg_free(set->next);
  cg_free(set->out);
  cg_free(set->has_out);
  memset(set, 0, sizeof(*set));
}

static bool applies(const struct signature *s, const char *log, const char *comp, size_t clen) {
  if (s->nlogs) {
    bool hit = false;
    for (size_t i = 0; i < s->nlogs && !hit; i++)
      hit = cg_strcasecmp(s->logs[i], log) == 0;
    if (!hit) return false;
  }
  if (s->component) {
    size_t n = strlen(s->component);
    if (n != clen || !comp) return false;
    for (size_t i = 0; i < n; i++)
      if (lower[(unsigned char)s->component[i]] != lower[(unsigned char)comp[i]]) return false;
  }
  return true;
}

void sig_match(const struct sigset *set, const char *log, const char *component, size_t component_len, const char *msg,
               size_t msg_len, sig_cb cb, void *user) {
  uint64_t seen[WORDS] = {0};
  uint64_t any_seen = 0;
  int32_t s = 0;
  const int32_t *next = set->next;
  const uint64_t *out = set->out;
  const uint8_t *has = set->has_out;
  if (!next || !has) return;
  for (size_t i = 0; i < msg_len; i++) {
    s = next[(size_t)s * 256 + lower[(unsigned char)msg[i]]];
    if (has[s]) {
      const uint64_t *o = out + (size_t)s * WORDS;
      for (size_t w = 0; w < WORDS; w++)
        seen[w] |= o[w];
      any_seen = 1;
    }
  }
  if (!any_seen) return;
  for (size_t k = 0; k < set->count; k++) {
    const struct signature *sg = &set->sigs[k];
    bool ok = true, any = !sg->has_any;
    for (size_t w = 0; w < WORDS && ok; w++) {
      ok = (seen[w] & sg->all[w]) == sg->all[w];
      any = any || (seen[w] & sg->any[w]);
      ok = ok && !(seen[w] & sg->none[w]);
    }
    if (ok && any && applies(sg, log, component, component_len)) cb(sg, user);
  }
}

int sig_load_catalogue(struct sigset *set, const char *file, char *err, size_t errlen) {
  int rc = sig_load(set, clientlogs_builtin_signatures, "built-in signatures", err, errlen);
  if (rc == CG_OK && file) {
    char *data = NULL;
    size_t len = 0;
    rc = cg_file_read(file, 4 * 1024 * 1024, &data, &len);
    if (rc != CG_OK)
      cg_snprintf(err, errlen, "%s: %s", file, cg_strerror(rc));
    else
      rc = sig_load(set, data, file, err, errlen);
    cg_free(data);
  }
  return rc == CG_OK ? sig_compile(set) : rc;
}
