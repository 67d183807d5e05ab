/* From parsed dsregcmd sections to the join model and the facts of docs/checks/aadjoin.md. */
#include <stdio.h>
#include <string.h>

#include "aadjoin.h"

static enum tri yes_no(const char *v) {
  if (!v) return TRI_NULL;
  if (cg_strcasecmp(v, "YES") == 0) return TRI_YES;
  if (cg_strcasecmp(v, "NO") == 0) return TRI_NO;
  return TRI_NULL;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Lower-case 8-4-4-4-12 GUID (braces allowed) into out[37]; "" when `v` is not one. */
static void guid(const char *v, char *out) {
  out[0] = '\0';
  if (!v) return;
  if (*v == '{') v++;
  static const int groups[] = {8, 4, 4, 4, 12};
  char buf[37];
  size_t w = 0;
  for (int g = 0; g < 5; g++) {
    for (int i = 0; i < groups[g]; i++, v++) {
      if (!is_hex(*v)) return;
      buf[w++] = (*v >= 'A' && *v <= 'F') ? (char)(*v + 32) : *v;
    }
    if (g < 4) {
      if (*v != '-') return;
      buf[w++] = *v++;
    }
  }
  if (*v && *v != '}') return;
  buf[w] = '\0';
  memcpy(out, buf, w + 1);
}

bool aad_parse_time(const char *s, int64_t *ms, char *rfc, size_t rfclen) {
  int y, mo, d, h, mi, sec, frac = 0, fdigits = 0;
  if (!s) return false;
  while (*s == ' ' || *s == '[')
    s++;
  char sep;
  int n = 0;
  if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec, &n) != 7 || (sep != ' ' && sep != 'T'))
    return false;
  const char *p = s + n;
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++)
      if (fdigits < 3) {
        frac = frac * 10 + (*p - '0');
        fdigits++;
      }
    while (fdigits < 3 && fdigits > 0) {
      frac *= 10;
      fdigits++;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  *ms = ((cg_days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + sec) * 1000 + frac;
  if (rfc) cg_snprintf(rfc, rfclen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, sec, frac);
  return true;
}

/* "[ 2019-01-24 19:05:26.000 UTC -- 2029-01-24 19:15:26.000 UTC ]" -> the second time. */
static void cert_validity(const char *v, struct aad_state *st) {
  if (!v) return;
  const char *end = strstr(v, "--");
  if (!end) {
    /* one hand-typed sample uses a single "-" between the times: the dash after "UTC " */
    end = strstr(v, "UTC -");
    if (end) end += 4;
  }
  if (!end) return;
  while (*end == '-' || *end == ' ')
    end++;
  if (!aad_parse_time(end, &st->cert_not_after_ms, st->cert_not_after, sizeof(st->cert_not_after)))
    st->cert_not_after_ms = 0;
}

static const char *nonempty(const char *v) { return v && *v ? v : NULL; }

static void diagnostics(const struct dsreg_doc *doc, struct aad_state *st) {
  const char *D = "Diagnostic Data";
  st->error_phase = nonempty(dsreg_get(doc, D, "Error Phase"));
  st->client_error = nonempty(dsreg_get(doc, D, "Client ErrorCode"));
  st->server_error = nonempty(dsreg_get(doc, D, "Server ErrorCode"));
  st->server_message = nonempty(dsreg_get(doc, D, "Server Message"));
  st->user_context = nonempty(dsreg_get(doc, D, "User Context"));
  st->key_sign_test = nonempty(dsreg_get(doc, D, "KeySignTest"));
  st->aad_recovery = yes_no(dsreg_get(doc, NULL, "AadRecoveryEnabled"));
  const struct dsreg_section *s = dsreg_section(doc, D);
  for (size_t i = 0; s && i < s->count && !st->first_failed_test; i++) {
    const char *k = s->fields[i].key, *v = s->fields[i].value;
    if (cg_str_endswith_ci(k, " Test") && strncmp(v, "FAIL", 4) == 0) {
      st->first_failed_test = k;
      cg_strlcpy(st->first_failed_value, v, sizeof(st->first_failed_value));
    }
  }
  const char *S = "SSO State";
  st->prt_attempt_status = nonempty(dsreg_get(doc, S, "Attempt Status"));
  st->prt_server_error_desc = nonempty(dsreg_get(doc, S, "Server Error Description"));
  st->prt_server_error_code = nonempty(dsreg_get(doc, S, "Server Error Code"));
  st->prt_http_error = nonempty(dsreg_get(doc, S, "HTTP Error"));
}

void aad_model(const struct dsreg_doc *doc, struct aad_state *st) {
  memset(st, 0, sizeof(*st));
  st->azure_ad_joined = yes_no(dsreg_get(doc, NULL, "AzureAdJoined"));
  st->domain_joined = yes_no(dsreg_get(doc, NULL, "DomainJoined"));
  st->enterprise_joined = yes_no(dsreg_get(doc, NULL, "EnterpriseJoined"));
  st->workplace_joined = yes_no(dsreg_get(doc, NULL, "WorkplaceJoined"));
  st->tpm_protected = yes_no(dsreg_get(doc, "Device Details", "TpmProtected"));
  guid(dsreg_get(doc, "Device Details", "DeviceId"), st->device_id);
  guid(dsreg_get(doc, "Tenant Details", "TenantId"), st->tenant_id);
  st->tenant_name = dsreg_get(doc, "Tenant Details", "TenantName");
  st->device_auth_status = nonempty(dsreg_get(doc, NULL, "DeviceAuthStatus"));
  st->executing_account = nonempty(dsreg_get(doc, "Diagnostic Data", "Executing Account Name"));
  if (!st->executing_account) st->executing_account = nonempty(dsreg_get(doc, NULL, "Executing Account Name"));
  cert_validity(dsreg_get(doc, "Device Details", "DeviceCertificateValidity"), st);
  diagnostics(doc, st);
  for (size_t i = 0; i < doc->count; i++)
    if (strncmp(doc->sections[i].title, "Work Account", 12) == 0) st->work_accounts++;
  st->sso_section = dsreg_section(doc, "SSO State") != NULL;
  /* As SYSTEM (elevated diagnostics, or the agent's service) the signed-in user's PRT is not
   * visible, so "AzureAdPrt : NO" says nothing about the user. */
  /* The machine account ("CONTOSO\\LAPTOP-042$") is the same context seen through the network. */
  const char *acct = st->executing_account;
  size_t al = acct ? strcspn(acct, ",") : 0;
  while (al && acct[al - 1] == ' ')
    al--;
  st->system_context = (st->user_context && cg_strcasecmp(st->user_context, "SYSTEM") == 0) ||
                       (acct && (cg_str_contains_ci(acct, "NT AUTHORITY\\SYSTEM") ||
                                 cg_strcasecmp(acct, "SYSTEM") == 0 || (al && acct[al - 1] == '$')));
  st->prt = st->system_context || !st->sso_section ? TRI_NULL : yes_no(dsreg_get(doc, "SSO State", "AzureAdPrt"));
  const char *upd = dsreg_get(doc, "SSO State", "AzureAdPrtUpdateTime");
  if (!aad_parse_time(upd, &st->prt_update_ms, st->prt_update, sizeof(st->prt_update))) st->prt_update[0] = '\0';

  /* the join-state table of docs/domain.md, "dsregcmd" */
  enum tri a = st->azure_ad_joined, e = st->enterprise_joined, d = st->domain_joined;
  if (a == TRI_NULL)
    st->join_type = "unknown";
  else if (a == TRI_YES)
    st->join_type = d == TRI_YES ? "hybrid_joined" : "entra_joined";
  else if (e == TRI_YES)
    st->join_type = "enterprise_joined";
  else if (d == TRI_YES)
    st->join_type = "domain_joined";
  else if (st->workplace_joined == TRI_YES || st->work_accounts)
    st->join_type = "entra_registered";
  else
    st->join_type = "not_joined";
}

static void add_tri(cJSON *o, const char *k, enum tri v) {
  if (v == TRI_NULL)
    cJSON_AddNullToObject(o, k);
  else
    cJSON_AddBoolToObject(o, k, v == TRI_YES);
}

static void add_str(cJSON *o, const char *k, const char *v) {
  if (v && *v)
    cJSON_AddStringToObject(o, k, v);
  else
    cJSON_AddNullToObject(o, k);
}

int aad_facts(const struct dsreg_doc *doc, const struct aad_state *st, cJSON *f) {
  cJSON_AddStringToObject(f, "join_type", st->join_type);
  add_tri(f, "azure_ad_joined", st->azure_ad_joined);
  add_tri(f, "domain_joined", st->domain_joined);
  add_tri(f, "enterprise_joined", st->enterprise_joined);
  add_tri(f, "workplace_joined", st->workplace_joined);
  add_str(f, "device_id", st->device_id);
  add_str(f, "tenant_id", st->tenant_id);
  add_str(f, "tenant_name", st->tenant_name);
  add_str(f, "device_auth_status", st->device_auth_status);
  add_tri(f, "prt", st->prt);
  add_str(f, "prt_update_time", st->prt_update);
  add_str(f, "device_cert_not_after", st->cert_not_after);
  add_tri(f, "tpm_protected", st->tpm_protected);
  add_str(f, "executing_account", st->executing_account);
  add_str(f, "device_name", nonempty(dsreg_get(doc, "Device State", "Device Name")));
  add_str(f, "domain_name", nonempty(dsreg_get(doc, "Device State", "DomainName")));
  cJSON_AddNumberToObject(f, "work_accounts", (double)st->work_accounts);
  cJSON *dg = cJSON_AddObjectToObject(f, "diagnostics");
  if (!dg) return CG_ERR_NOMEM;
  add_str(dg, "user_context", st->user_context);
  add_str(dg, "error_phase", st->error_phase);
  add_str(dg, "client_error_code", st->client_error);
  add_str(dg, "server_error_code", st->server_error);
  add_str(dg, "server_message", st->server_message);
  add_tri(dg, "aad_recovery_enabled", st->aad_recovery);
  add_str(dg, "key_sign_test", st->key_sign_test);
  cJSON *tests = cJSON_AddObjectToObject(dg, "tests");
  const struct dsreg_section *s = dsreg_section(doc, "Diagnostic Data");
  for (size_t i = 0; tests && s && i < s->count; i++)
    if (cg_str_endswith_ci(s->fields[i].key, " Test") || strncmp(s->fields[i].key, "Fallback to", 11) == 0)
      cJSON_AddStringToObject(tests, s->fields[i].key, s->fields[i].value);
  add_str(dg, "prt_attempt_status", st->prt_attempt_status);
  add_str(dg, "prt_http_error", st->prt_http_error);
  add_str(dg, "prt_server_error_code", st->prt_server_error_code);
  add_str(dg, "prt_server_error_description", st->prt_server_error_desc);
  /* Everything else, as written, for what the model does not cover. */
  cJSON *sections = cJSON_AddObjectToObject(f, "sections");
  for (size_t i = 0; sections && i < doc->count; i++) {
    const struct dsreg_section *sec = &doc->sections[i];
    const char *title = *sec->title ? sec->title : "(untitled)";
    if (cJSON_GetObjectItemCaseSensitive(sections, title)) continue; /* a repeated title keeps the first */
    cJSON *o = cJSON_AddObjectToObject(sections, title);
    for (size_t k = 0; o && k < sec->count; k++)
      if (!cJSON_GetObjectItemCaseSensitive(o, sec->fields[k].key))
        cJSON_AddStringToObject(o, sec->fields[k].key, sec->fields[k].value);
  }
  return sections && tests ? CG_OK : CG_ERR_NOMEM;
}
