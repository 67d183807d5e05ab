/* The `exec` check: the fleet's own checks, defined by admins in the config and run as SYSTEM.
 * Each command runs from an argument vector (never a shell) with a deadline and an output cap; a
 * JSON object on stdout with status/code/summary is its result, otherwise its exit code maps to a
 * status. A program (or a folder above it) that non-administrators can change is refused: the
 * agent would run their code as SYSTEM. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "platform/fs.h"
#include "platform/proc.h"
#include "config.h"
#include "meaning.h"
#include "plugin.h"
#include "redact.h"

#define MAX_COMMANDS 32
#define EXCERPT 1024

struct ex_cmd {
  char *name, *cwd, *exit_codes;
  struct cg_strlist argv;
  int64_t timeout_ms, max_output_bytes;
};

static const struct cg_config_map cmd_map[] = {
    {CG_CFG_STRING, "name", "null", "Short name shown in results", offsetof(struct ex_cmd, name), 0, 0, NULL, NULL},
    {CG_CFG_STRLIST, "argv", "[]", "Program (full path) and its arguments; no shell is involved",
     offsetof(struct ex_cmd, argv), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "30000", "The command is killed (with everything it started) after this long",
     offsetof(struct ex_cmd, timeout_ms), 100, 3600000, NULL, NULL},
    {CG_CFG_INT, "max_output_bytes", "65536", "Most bytes of stdout (and of stderr) kept; the rest is discarded",
     offsetof(struct ex_cmd, max_output_bytes), 1024, 16777216, NULL, NULL},
    {CG_CFG_STRING, "cwd", "null", "Working folder (null: the agent's)", offsetof(struct ex_cmd, cwd), 0, 0, NULL,
     NULL},
    {CG_CFG_STRING, "exit_codes", "\"0=pass,*=fail\"",
     "Exit code to status when the command prints no JSON result: CODE=STATUS pairs, * for any other",
     offsetof(struct ex_cmd, exit_codes), 0, 0, NULL, NULL},
    CG_CFG_END,
};

struct ex_ctx {
  struct cg_objlist commands;
};

static const struct cg_config_map ex_map[] = {
    {CG_CFG_OBJLIST, "commands", "[]", "The commands to run, in order (docs/checks/exec.md)",
     offsetof(struct ex_ctx, commands), 0, (int64_t)sizeof(struct ex_cmd), cmd_map, NULL},
    CG_CFG_END,
};

static bool verdict_of(const char *s, enum cg_verdict *v) {
  static const enum cg_verdict all[] = {CG_PASS, CG_WARN, CG_FAIL, CG_SKIP, CG_ERROR};
  for (size_t i = 0; i < CG_ARRAY_LEN(all); i++)
    if (cg_strcasecmp(s, cg_verdict_name(all[i])) == 0) {
      *v = all[i];
      return true;
    }
  return false;
}

/* "0=pass,1=warn,*=fail": the status for `code`; false when the text is malformed. */
static bool map_exit(const char *spec, int code, enum cg_verdict *out, char *bad, size_t badlen) {
  enum cg_verdict any = CG_FAIL;
  bool have = false;
  const char *p = spec;
  while (*p) {
    size_t n = strcspn(p, ",");
    char item[64];
    cg_snprintf(item, sizeof(item), "%.*s", (int)(n < 63 ? n : 63), p);
    p += n + (p[n] == ',');
    char *t = cg_str_trim(item), *eq = strchr(t, '=');
    enum cg_verdict v;
    int64_t c = 0;
    if (!eq) goto bad;
    *eq = '\0';
    char *k = cg_str_trim(t), *val = cg_str_trim(eq + 1);
    if (!verdict_of(val, &v)) goto bad;
    if (strcmp(k, "*") == 0)
      any = v;
    else if (!cg_parse_i64(k, &c))
      goto bad;
    else if (!have && c == code) {
      *out = v;
      have = true;
    }
    continue;
  bad:
    cg_snprintf(bad, badlen, "'%s' is not CODE=STATUS (status: pass, warn, fail, skip or error)", item);
    return false;
  }
  if (!have) *out = any;
  return true;
}

/* Values of the child's environment that must not come back in its output: variables whose name
 * looks secret, and the user information of proxy URLs. NULL-terminated, owned by the caller. */
static char **env_secrets(char *const *envp) {
  size_t n = 0;
  while (envp && envp[n])
    n++;
  char **out = cg_calloc(n + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; out && i < n; i++) {
    const char *eq = strchr(envp[i], '=');
    if (!eq || !eq[1]) continue;
    char *name = cg_strndup(envp[i], (size_t)(eq - envp[i]));
    const char *v = eq + 1, *sch = strstr(v, "://"), *at = sch ? strchr(sch + 3, '@') : NULL;
    if (name && cg_is_secret_key(name))
      out[k++] = cg_strdup(v);
    else if (at && !memchr(sch + 3, '/', (size_t)(at - sch - 3)))
      out[k++] = cg_strndup(sch + 3, (size_t)(at - sch - 3)); /* user:password of a proxy URL */
    cg_free(name);
  }
  return out;
}

static void excerpt(cJSON *o, const char *key, const char *text, size_t len, const char *const *secrets) {
  if (!len) return;
  char *cut = cg_malloc(EXCERPT + 1);
  if (!cut) return;
  size_t n = len < EXCERPT ? len : EXCERPT;
  while (n < len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
    n--; /* whole UTF-8 characters */
  memcpy(cut, text, n);
  cut[n] = '\0';
  char *red = cg_redact_text_with(cut, secrets);
  cJSON_AddStringToObject(o, key, red ? red : "");
  cg_free(red);
  cg_free(cut);
}

/* A JSON result printed by the command: {"status": "...", "code": "...", "summary": "..."}. */
static bool json_result(const char *out, cJSON *o, enum cg_verdict *v, const char *const *secrets) {
  while (*out == ' ' || *out == '\t' || *out == '\r' || *out == '\n')
    out++;
  if (strncmp(out, "\xEF\xBB\xBF", 3) == 0) out += 3; /* PowerShell's UTF-8 BOM */
  if (*out != '{') return false;
  cJSON *j = cJSON_Parse(out);
  const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
  const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "code"));
  const char *sum = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "summary"));
  bool ok = cJSON_IsObject(j) && st && verdict_of(st, v) && sum;
  if (ok) {
    char c[65] = "";
    size_t w = 0;
    for (const char *p = code ? code : ""; *p && w < 64; p++) {
      char ch = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
      if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_') c[w++] = ch;
    }
    c[w] = '\0';
    char *rs = cg_redact_text_with(sum, secrets);
    cJSON_AddStringToObject(o, "code", c[0] ? c : "UNSPECIFIED");
    cJSON_AddStringToObject(o, "summary", rs ? rs : "");
    cg_free(rs);
    const char *rem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "remediation"));
    char *rr = rem ? cg_redact_text_with(rem, secrets) : NULL;
    if (rr) cJSON_AddStringToObject(o, "remediation", rr);
    cg_free(rr);
    cJSON *facts = cJSON_GetObjectItemCaseSensitive(j, "facts");
    if (cJSON_IsObject(facts)) {
      cJSON *f = cJSON_Duplicate(facts, true);
      cg_redact_json_with(f, secrets);
      cJSON_AddItemToObject(o, "facts", f);
    }
  }
  cJSON_Delete(j);
  return ok;
}

struct tally {
  enum cg_verdict worst;
  const cJSON *worst_cmd;
  bool worst_refused;
};

/* The agent's half of one command (plugin.h `collect`): runs it, as SYSTEM, and records how it ended in
 * rec; its output (its secrets replaced) goes to `out`, at rec's stdout/stderr offsets. Nothing of the
 * output is read here. A command that could not be run gets its code and summary in rec. */
static void run_cmd(const struct ex_cmd *cmd, const struct cg_env *env, cJSON *rec, struct cg_buf *out) {
  char why[600] = "";
  char **envp = NULL, **secrets = NULL;
  struct cg_proc_result r;
  memset(&r, 0, sizeof(r));
  const char *code = NULL;
  int rc = CG_OK;
  if (env->config && env->config->insecure) {
    cg_snprintf(why, sizeof(why),
                "not run: the configuration %s can be changed by users other than administrators (%s)",
                env->config->path, env->config->insecure_why);
    code = "EXEC_CONFIG_INSECURE";
    goto done;
  }
  /* The program itself is verified again, and started from the very file verified, in cg_proc_run. */
  if (cmd->cwd) rc = cg_path_admin_only(cmd->cwd, why, sizeof(why));
  envp = rc == CG_OK ? cg_proc_minimal_env() : NULL;
  secrets = envp ? env_secrets(envp) : NULL;
  if (rc == CG_OK && (!envp || !secrets)) {
    code = "EXEC_ERROR";
    cg_strlcpy(why, "out of memory", sizeof(why));
    goto done;
  }
  struct cg_proc_opts opts = {.timeout_ms = cmd->timeout_ms,
                              .max_output = (size_t)cmd->max_output_bytes,
                              .cwd = cmd->cwd,
                              .envp = (const char *const *)envp,
                              .admin_only_program = true};
  if (rc == CG_OK) rc = cg_proc_run((const char *const *)cmd->argv.items, &opts, &r, why, sizeof(why));
  if (rc != CG_OK) {
    code = rc == CG_ERR_ACCESS ? "EXEC_REFUSED" : rc == CG_ERR_NOTFOUND ? "EXEC_NOT_FOUND" : "EXEC_ERROR";
    goto done;
  }
  cJSON_AddNumberToObject(rec, "duration_ms", (double)r.duration_ms);
  cJSON_AddItemToObject(rec, "exit_code", r.exited ? cJSON_CreateNumber(r.exit_code) : cJSON_CreateNull());
  cJSON_AddBoolToObject(rec, "timed_out", r.timed_out);
  cJSON_AddBoolToObject(rec, "stdout_truncated", r.out_truncated);
  for (int k = 0; k < 2; k++) {
    size_t n = 0;
    char *clean = cg_redact_literals(k ? r.err : r.out, k ? r.err_len : r.out_len, (const char *const *)secrets, &n);
    cJSON *at = cJSON_AddObjectToObject(rec, k ? "stderr" : "stdout");
    cJSON_AddNumberToObject(at, "offset", (double)out->len);
    cJSON_AddNumberToObject(at, "bytes", clean ? (double)n : 0);
    if (clean) cg_buf_append(out, clean, n);
    cg_free(clean);
  }
done:
  if (code) {
    cJSON_AddStringToObject(rec, "code", code);
    cJSON_AddStringToObject(rec, "summary", why);
  }
  cg_proc_result_free(&r);
  cg_proc_env_free(envp);
  cg_proc_env_free(secrets);
}

/* A command's output as recorded: at rec's "stdout" or "stderr", within the output's bytes. */
static const char *output_of(const cJSON *rec, const char *which, const struct cg_capture_file *bin, size_t *len) {
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, which);
  double off = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(at, "offset")),
         n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(at, "bytes"));
  *len = 0;
  if (!bin || !(off >= 0 && n >= 0 && off <= (double)bin->len && n <= (double)bin->len - off)) return "";
  *len = (size_t)n;
  return bin->data + (size_t)off;
}

/* The judging half of one command: its result from how it ended and what it printed (a JSON result,
 * else its exit code), into o. */
static void judge_cmd(const struct ex_cmd *cmd, const cJSON *rec, const struct cg_capture_file *bin, cJSON *o,
                      struct tally *t) {
  enum cg_verdict v = CG_ERROR;
  char code[48] = "";
  cJSON_AddStringToObject(o, "name", cmd->name);
  cJSON_AddStringToObject(o, "program", cmd->argv.items[0]);
  const char *pre = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "code"));
  if (pre || !rec) {
    cg_strlcpy(code, pre ? pre : "EXEC_ERROR", sizeof(code));
    v = !strcmp(code, "EXEC_ERROR") ? CG_ERROR : CG_FAIL;
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "summary"));
    cJSON_AddStringToObject(o, "summary", why ? why : "the agent kept no record of this command");
    goto done;
  }
  size_t olen = 0, elen = 0;
  const char *out = output_of(rec, "stdout", bin, &olen), *err = output_of(rec, "stderr", bin, &elen);
  char *text = cg_strndup(out, olen); /* a C string, as the command's output always was here */
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(rec, "exit_code");
  bool exited = cJSON_IsNumber(ec), timed_out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "timed_out")),
       truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "stdout_truncated"));
  int exit_code = exited ? (int)ec->valuedouble : 0;
  cJSON_AddNumberToObject(o, "duration_ms", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "duration_ms")));
  cJSON_AddItemToObject(o, "exit_code", exited ? cJSON_CreateNumber(exit_code) : cJSON_CreateNull());
  cJSON_AddBoolToObject(o, "timed_out", timed_out);
  if (truncated) cJSON_AddBoolToObject(o, "stdout_truncated", true);
  if (timed_out) {
    cg_strlcpy(code, "EXEC_TIMEOUT", sizeof(code));
    v = CG_FAIL;
    char s[200];
    cg_snprintf(s, sizeof(s), "did not finish within %lld ms and was stopped", (long long)cmd->timeout_ms);
    cJSON_AddStringToObject(o, "summary", s);
  } else if (!truncated && text && json_result(text, o, &v, NULL)) {
    cJSON_AddStringToObject(o, "result_from", "json");
  } else if (!exited) {
    cg_strlcpy(code, "EXEC_CRASHED", sizeof(code));
    v = CG_FAIL;
    cJSON_AddStringToObject(o, "summary", "ended abnormally (killed by a signal)");
  } else {
    char bad[200];
    if (!map_exit(cmd->exit_codes, exit_code, &v, bad, sizeof(bad))) v = CG_ERROR; /* init checked it */
    cg_snprintf(code, sizeof(code), "EXIT_%d", exit_code < 0 ? -exit_code : exit_code);
    char s[120];
    cg_snprintf(s, sizeof(s), "exited with code %d", exit_code);
    cJSON_AddStringToObject(o, "summary", s);
    cJSON_AddStringToObject(o, "result_from", "exit_code");
  }
  if (!cJSON_GetObjectItemCaseSensitive(o, "result_from") ||
      strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "result_from")), "json"))
    excerpt(o, "stdout", text ? text : "", text ? strlen(text) : 0, NULL);
  char *etext = cg_strndup(err, elen);
  if (etext) excerpt(o, "stderr", etext, strlen(etext), NULL);
  cg_free(etext);
  cg_free(text);
done:
  if (code[0] && !cJSON_GetObjectItemCaseSensitive(o, "code")) cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "status", cg_verdict_name(v));
  /* error outranks fail here: a command that could not run says nothing about the device */
  int rank[] = {0, 1, 2, -1, 3};
  bool refused = !strcmp(code, "EXEC_REFUSED") || !strcmp(code, "EXEC_CONFIG_INSECURE");
  /* a refused program is a security finding: it names the verdict over other failures */
  if (!t->worst_cmd || rank[v] > rank[t->worst] || (rank[v] == rank[t->worst] && refused && !t->worst_refused)) {
    t->worst = v;
    t->worst_cmd = o;
    t->worst_refused = refused;
  }
}

/* The other commands after the worst, each said (a helpdesk reads them all): " Also (a warning):
 * name: summary." for each that did not pass, then how many passed. */
static void others_said(const cJSON *list, const cJSON *worst, enum cg_verdict wv, struct cg_buf *out) {
  size_t passed = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, list) {
    if (o == worst) continue;
    enum cg_verdict v = CG_ERROR;
    verdict_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")), &v);
    if (v == CG_PASS || v == CG_SKIP) {
      passed++;
      continue;
    }
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
    const char *sm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "summary"));
    size_t l = sm ? strlen(sm) : 0;
    cg_buf_printf(out, " Also%s: %s: %s%s", v < wv ? " (a warning)" : "", n ? n : "?", sm ? sm : "",
                  l && strchr(".!?", sm[l - 1]) ? "" : ".");
  }
  if (passed) cg_buf_printf(out, " The other %zu pass%s.", passed, passed == 1 ? "es" : "");
}

static int no_commands(struct cg_result *res) {
  return cg_result_set(res, CG_SKIP, "EXEC_NONE", "Add commands under checks.exec.commands (docs/checks/exec.md).",
                       "No fleet-specific commands are configured.");
}

/* The half that runs the commands (plugin.h `collect`), with the agent's privilege: each in order,
 * how it ended in exec.json and what it printed in exec-output.bin, for the judging half. */
static int ex_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  struct ex_ctx *c = vctx;
  *decided = c->commands.count == 0;
  if (*decided) return no_commands(res);
  cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "commands");
  struct cg_buf out;
  cg_buf_init(&out, 65536);
  int rc = list ? CG_OK : CG_ERR_NOMEM;
  for (size_t i = 0; rc == CG_OK && i < c->commands.count; i++) {
    cJSON *rec = cJSON_CreateObject();
    if (!rec) rc = CG_ERR_NOMEM;
    cJSON_AddItemToArray(list, rec);
    if (rec) run_cmd((const struct ex_cmd *)c->commands.items + i, env, rec, &out);
  }
  char *text = rc == CG_OK ? cJSON_PrintUnformatted(doc) : NULL;
  if (rc == CG_OK) rc = text ? env->judge_put(env, "exec.json", text, strlen(text)) : CG_ERR_NOMEM;
  if (rc == CG_OK) rc = env->judge_put(env, "exec-output.bin", out.data ? out.data : "", out.len);
  cJSON_free(text);
  cJSON_Delete(doc);
  cg_buf_free(&out);
  return rc;
}

static int run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct ex_ctx *c = vctx;
  if (c->commands.count == 0) return no_commands(res);
  /* what ex_collect recorded (the runner always collects first) */
  const struct cg_capture_file *rf = cg_collected_file(env, "exec.json"),
                               *bin = cg_collected_file(env, "exec-output.bin");
  cJSON *doc = rf ? cJSON_ParseWithLength(rf->data, rf->len) : NULL;
  const cJSON *recs = cJSON_GetObjectItemCaseSensitive(doc, "commands");
  if (!cJSON_IsArray(recs) || cJSON_GetArraySize(recs) != (int)c->commands.count) {
    cJSON_Delete(doc);
    return CG_ERR_INTERNAL;
  }
  cJSON *list = cJSON_AddArrayToObject(res->facts, "commands");
  struct tally t = {.worst = CG_PASS};
  if (!list) {
    cJSON_Delete(doc);
    return CG_ERR_NOMEM;
  }
  for (size_t i = 0; i < c->commands.count; i++) {
    cJSON *o = cJSON_CreateObject();
    if (!o) {
      cJSON_Delete(doc);
      return CG_ERR_NOMEM;
    }
    cJSON_AddItemToArray(list, o);
    judge_cmd((const struct ex_cmd *)c->commands.items + i, cJSON_GetArrayItem(recs, (int)i), bin, o, &t);
  }
  cJSON_Delete(doc);
  const cJSON *w = t.worst_cmd;
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "name"));
  const char *sum = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "summary"));
  const char *wcode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "code"));
  const char *rem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "remediation"));
  char code[96];
  if (wcode && (strncmp(wcode, "EXEC_", 5) == 0))
    cg_strlcpy(code, wcode, sizeof(code));
  else
    cg_snprintf(code, sizeof(code), "EXEC_%s", t.worst == CG_PASS ? "OK" : wcode ? wcode : "FAILED");
  if (t.worst == CG_PASS)
    return cg_result_set(res, CG_PASS, "EXEC_OK", NULL, "All %zu fleet check(s) pass%s%s%s.", c->commands.count,
                         c->commands.count == 1 ? " (" : "", c->commands.count == 1 ? sum : "",
                         c->commands.count == 1 ? ")" : "");
  char remedy[1024];
  if (!rem) {
    if (!strcmp(code, "EXEC_CONFIG_INSECURE"))
      rem = "Run 'cmgdiag setup' as an administrator, or restrict the configuration file and every folder above it "
            "to SYSTEM and Administrators (root on Linux); the agent's own check reports AGENT_CONFIG_INSECURE.";
    else if (!strcmp(code, "EXEC_REFUSED"))
      rem = "Put the program in a folder only Administrators can change (e.g. under %ProgramFiles%), owned by "
            "Administrators or SYSTEM, and remove write access for Users / Authenticated Users / Everyone; on Linux: "
            "owned by root, not writable by group or others.";
    else if (!strcmp(code, "EXEC_NOT_FOUND"))
      rem = "Fix the program path in checks.exec.commands (argv[0] is a full path).";
    else if (!strcmp(code, "EXEC_TIMEOUT"))
      rem = "Make the command faster or raise its timeout_ms.";
    else {
      cg_snprintf(remedy, sizeof(remedy),
                  "Look at the output of '%s' in the facts (commands[].stdout / stderr); "
                  "this check is defined by your organisation.",
                  name ? name : "?");
      rem = remedy;
    }
  }
  struct cg_buf also;
  cg_buf_init(&also, 16384);
  others_said(list, w, t.worst, &also);
  size_t sl = sum ? strlen(sum) : 0;
  int rc = cg_result_set(res, t.worst, code, rem, "%s: %s%s%s", name ? name : "?", sum ? sum : "",
                         also.len && !(sl && strchr(".!?", sum[sl - 1])) ? "." : "", also.data ? also.data : "");
  cg_buf_free(&also);
  return rc;
}

static int init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  struct ex_ctx *c = vctx;
  /* config check and setup: a program that is not there now is an error (at run time, a result) */
  bool strict = env && env->trigger && !strcmp(env->trigger, "config");
  if (c->commands.count > MAX_COMMANDS) {
    cg_snprintf(err, errlen, "checks.exec.commands: at most %d commands", MAX_COMMANDS);
    return CG_ERR_CONFIG;
  }
  for (size_t i = 0; i < c->commands.count; i++) {
    struct ex_cmd *m = (struct ex_cmd *)c->commands.items + i;
    enum cg_verdict v;
    char bad[200];
    if (!m->name || !*m->name) {
      cg_snprintf(err, errlen, "checks.exec.commands[%zu].name is missing", i);
      return CG_ERR_CONFIG;
    }
    if (m->argv.count == 0 || !*m->argv.items[0]) {
      cg_snprintf(err, errlen, "checks.exec.commands[%zu] ('%s'): argv needs at least the program", i, m->name);
      return CG_ERR_CONFIG;
    }
    /* The program is named by its full path: a search in PATH could find something else. */
    const char *p = m->argv.items[0];
    bool abs = p[0] == '/' || p[0] == '\\' || (p[0] && p[1] == ':' && (p[2] == '\\' || p[2] == '/'));
    if (!abs) {
      cg_snprintf(err, errlen, "checks.exec.commands[%zu] ('%s'): argv[0] must be a full path, not '%s'", i, m->name,
                  p);
      return CG_ERR_CONFIG;
    }
    if (strict && cg_path_kind(p) != CG_PATH_FILE) {
      cg_snprintf(err, errlen,
                  "checks.exec.commands[%zu] ('%s'): the program %s does not exist on this device; deploy it "
                  "first, or fix argv[0]",
                  i, m->name, p);
      return CG_ERR_CONFIG;
    }
    if (!map_exit(m->exit_codes ? m->exit_codes : "", 0, &v, bad, sizeof(bad))) {
      cg_snprintf(err, errlen, "checks.exec.commands[%zu].exit_codes: %s", i, bad);
      return CG_ERR_CONFIG;
    }
    /* argv must be NULL-terminated for cg_proc_run: grow by one. */
    char **items = cg_realloc(m->argv.items, (m->argv.count + 1) * sizeof(char *));
    if (!items) return CG_ERR_NOMEM;
    items[m->argv.count] = NULL;
    m->argv.items = items;
  }
  return CG_OK;
}

static const struct cg_setting_meaning exec_meanings[] = {{"commands.argv", cg_meaning_absolute_program}, {NULL, NULL}};

const struct cg_check_plugin cg_check_exec = {
    .meanings = exec_meanings,
    .name = "exec",
    .description = "the organisation's own checks: admin-defined commands, run safely as SYSTEM",
    .platforms = CG_PLATFORM_ANY,
    .config_map = ex_map,
    .ctx_size = sizeof(struct ex_ctx),
    .init = init,
    .collect = ex_collect,
    .run = run,
};
