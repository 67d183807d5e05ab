/* WMI through COM in C (IWbemLocator -> ConnectServer -> ExecQuery), and HKLM registry reads. */
#define COBJMACROS
#include <windows.h>

#include <oleauto.h>
#include <stdio.h>
#include <string.h>
#include <wbemidl.h>

#include "fs.h"
#include "fs_common.h"
#include "utf_win32.h"
#include "wmi.h"

static int hr_status(HRESULT hr) {
  switch ((unsigned long)hr) {
  case 0x8004100EUL: /* WBEM_E_INVALID_NAMESPACE */
  case 0x80041010UL: /* WBEM_E_INVALID_CLASS */
  case 0x80041002UL: /* WBEM_E_NOT_FOUND */ return CG_ERR_NOTFOUND;
  case 0x80041003UL: /* WBEM_E_ACCESS_DENIED */
  case 0x80070005UL: /* E_ACCESSDENIED */ return CG_ERR_ACCESS;
  case 0x80043001UL: /* WBEM_E_RETRY_LATER */
  case 0x00040004UL: /* WBEM_S_TIMEDOUT */ return CG_ERR_TIMEOUT;
  default: return CG_ERR_IO;
  }
}

static void fail(struct cg_wmi_error *err, HRESULT hr, const char *what, const char *ns) {
  err->hresult = (unsigned long)hr;
  const char *why = "";
  switch ((unsigned long)hr) {
  case 0x8004100EUL: why = " (namespace does not exist)"; break;
  case 0x80041010UL: why = " (class does not exist)"; break;
  case 0x80041003UL:
  case 0x80070005UL: why = " (access denied)"; break;
  case 0x80041014UL: why = " (WMI component failed to initialise: repository may be broken)"; break;
  default: break;
  }
  cg_snprintf(err->message, sizeof(err->message), "%s %s failed with 0x%08lX%s", what, ns, (unsigned long)hr, why);
}

/* VARIANT -> JSON scalar; arrays and objects become their type name. */
static cJSON *variant_json(const VARIANT *v) {
  switch (V_VT(v)) {
  case VT_NULL:
  case VT_EMPTY: return cJSON_CreateNull();
  case VT_BSTR: {
    char *s = cg_wide_to_utf8(V_BSTR(v) ? V_BSTR(v) : L"");
    cJSON *j = cJSON_CreateString(s ? s : "");
    cg_free(s);
    return j;
  }
  case VT_BOOL: return cJSON_CreateBool(V_BOOL(v) != VARIANT_FALSE);
  case VT_I1: return cJSON_CreateNumber(V_I1(v));
  case VT_UI1: return cJSON_CreateNumber(V_UI1(v));
  case VT_I2: return cJSON_CreateNumber(V_I2(v));
  case VT_UI2: return cJSON_CreateNumber(V_UI2(v));
  case VT_I4: return cJSON_CreateNumber(V_I4(v));
  case VT_UI4: return cJSON_CreateNumber(V_UI4(v));
  case VT_R4: return cJSON_CreateNumber(V_R4(v));
  case VT_R8: return cJSON_CreateNumber(V_R8(v));
  default: {
    char t[32];
    cg_snprintf(t, sizeof(t), "(variant type %u)", (unsigned)V_VT(v));
    return cJSON_CreateString(t);
  }
  }
}

int cg_wmi_query(const char *ns, const char *wql, int64_t timeout_ms, cJSON **rows, struct cg_wmi_error *err) {
  int rc = CG_ERR_IO;
  IWbemLocator *loc = NULL;
  IWbemServices *svc = NULL;
  IEnumWbemClassObject *en = NULL;
  wchar_t *wns = cg_utf8_to_wide(ns), *wq = cg_utf8_to_wide(wql);
  BSTR bns = wns ? SysAllocString(wns) : NULL, bq = wq ? SysAllocString(wq) : NULL, lang = SysAllocString(L"WQL");
  cJSON *out = cJSON_CreateArray();
  memset(err, 0, sizeof(*err));
  *rows = NULL;
  HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
  bool uninit = SUCCEEDED(hr);
  if (!bns || !bq || !lang || !out) {
    rc = CG_ERR_NOMEM;
    cg_snprintf(err->message, sizeof(err->message), "out of memory querying %s", ns);
    goto out;
  }
  /* Fails harmlessly (RPC_E_TOO_LATE) when the process already set its security. */
  CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE,
                       NULL);
  hr = CoCreateInstance(&CLSID_WbemLocator, NULL, CLSCTX_INPROC_SERVER, &IID_IWbemLocator, (void **)&loc);
  if (FAILED(hr)) {
    fail(err, hr, "creating the WMI locator for", ns);
    rc = hr_status(hr);
    goto out;
  }
  hr = IWbemLocator_ConnectServer(loc, bns, NULL, NULL, NULL, WBEM_FLAG_CONNECT_USE_MAX_WAIT, NULL, NULL, &svc);
  if (FAILED(hr)) {
    fail(err, hr, "connecting to WMI namespace", ns);
    rc = hr_status(hr);
    goto out;
  }
  CoSetProxyBlanket((IUnknown *)svc, RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, NULL, RPC_C_AUTHN_LEVEL_CALL,
                    RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE);
  hr = IWbemServices_ExecQuery(svc, lang, bq, WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, NULL, &en);
  if (FAILED(hr)) {
    fail(err, hr, "querying", ns);
    rc = hr_status(hr);
    goto out;
  }
  for (int n = 0; n < 4096; n++) {
    IWbemClassObject *obj = NULL;
    ULONG got = 0;
    hr = IEnumWbemClassObject_Next(en, timeout_ms > 0 ? (long)timeout_ms : (long)WBEM_INFINITE, 1, &obj, &got);
    if (hr == WBEM_S_TIMEDOUT) {
      fail(err, hr, "waiting for results from", ns);
      rc = CG_ERR_TIMEOUT;
      goto out;
    }
    if (FAILED(hr)) {
      fail(err, hr, "reading results from", ns);
      rc = hr_status(hr);
      goto out;
    }
    if (got == 0) break;
    cJSON *row = cJSON_CreateObject();
    IWbemClassObject_BeginEnumeration(obj, WBEM_FLAG_NONSYSTEM_ONLY);
    BSTR name = NULL;
    VARIANT v;
    VariantInit(&v);
    while (row && IWbemClassObject_Next(obj, 0, &name, &v, NULL, NULL) == WBEM_S_NO_ERROR) {
      char *key = cg_wide_to_utf8(name);
      if (key) cJSON_AddItemToObject(row, key, variant_json(&v));
      cg_free(key);
      SysFreeString(name);
      VariantClear(&v);
    }
    IWbemClassObject_EndEnumeration(obj);
    IWbemClassObject_Release(obj);
    if (row) cJSON_AddItemToArray(out, row);
  }
  *rows = out;
  out = NULL;
  rc = CG_OK;
out:
  cJSON_Delete(out);
  if (en) IEnumWbemClassObject_Release(en);
  if (svc) IWbemServices_Release(svc);
  if (loc) IWbemLocator_Release(loc);
  SysFreeString(bns);
  SysFreeString(bq);
  SysFreeString(lang);
  cg_free(wns);
  cg_free(wq);
  if (uninit) CoUninitialize();
  return rc;
}

/* Splits "HKEY_USERS\S-1-5-18\X" into the predefined key and the rest. */
static HKEY split_hive(const char *key, const char **rest) {
  static const struct {
    const char *name;
    HKEY h;
  } hv[] = {{"HKEY_LOCAL_MACHINE", HKEY_LOCAL_MACHINE},
            {"HKLM", HKEY_LOCAL_MACHINE},
            {"HKEY_USERS", HKEY_USERS},
            {"HKU", HKEY_USERS},
            {"HKEY_CURRENT_USER", HKEY_CURRENT_USER},
            {"HKCU", HKEY_CURRENT_USER}};
  for (size_t i = 0; i < CG_ARRAY_LEN(hv); i++) {
    size_t n = strlen(hv[i].name);
    if (cg_str_startswith_ci(key, hv[i].name) && (key[n] == '\\' || key[n] == '\0')) {
      *rest = key[n] ? key + n + 1 : key + n;
      return hv[i].h;
    }
  }
  return NULL;
}

static int reg_status(LONG r) {
  return r == ERROR_FILE_NOT_FOUND || r == ERROR_PATH_NOT_FOUND ? CG_ERR_NOTFOUND
         : r == ERROR_ACCESS_DENIED                             ? CG_ERR_ACCESS
                                                                : CG_ERR_IO;
}

static int reg_open(const char *key, REGSAM sam, HKEY *h) {
  const char *rest = NULL;
  HKEY root = split_hive(key, &rest);
  if (!root) return CG_ERR_USAGE;
  wchar_t *wk = cg_utf8_to_wide(rest);
  if (!wk) return CG_ERR_NOMEM;
  /* The 64-bit view: a 32-bit process must not be redirected to WOW6432Node. */
  LONG r = RegOpenKeyExW(root, wk, 0, sam | KEY_WOW64_64KEY, h);
  cg_free(wk);
  return r == ERROR_SUCCESS ? CG_OK : reg_status(r);
}

int cg_registry_read(const char *key, const char *value, cJSON **out) {
  wchar_t *wv = cg_utf8_to_wide(value);
  HKEY h = NULL;
  BYTE *buf = NULL;
  *out = NULL;
  int rc = wv ? reg_open(key, KEY_QUERY_VALUE, &h) : CG_ERR_NOMEM;
  if (rc != CG_OK) goto out;
  DWORD type = 0, size = 0;
  LONG r = RegQueryValueExW(h, wv, NULL, &type, NULL, &size);
  if (r != ERROR_SUCCESS) {
    rc = reg_status(r);
    goto out;
  }
  if (size > 65536) {
    rc = CG_ERR_TOOBIG;
    goto out;
  }
  rc = CG_ERR_NOMEM;
  if (!(buf = cg_calloc(1, size + sizeof(wchar_t)))) goto out;
  r = RegQueryValueExW(h, wv, NULL, &type, buf, &size);
  if (r != ERROR_SUCCESS) {
    rc = reg_status(r);
    goto out;
  }
  if (type == REG_SZ || type == REG_EXPAND_SZ) {
    char *s = cg_wide_to_utf8((wchar_t *)buf);
    *out = cJSON_CreateString(s ? s : "");
    cg_free(s);
  } else if (type == REG_DWORD && size >= 4) {
    *out = cJSON_CreateNumber((double)*(DWORD *)buf);
  } else {
    /* As `reg export` writes it: hex:, hex(7): for multi-string, hex(b): for qword. */
    struct cg_buf b;
    cg_buf_init(&b, 4 * 65536 + 32);
    if (type == REG_BINARY)
      cg_buf_puts(&b, "hex:");
    else
      cg_buf_printf(&b, "hex(%lx):", (unsigned long)type);
    for (DWORD i = 0; i < size; i++)
      cg_buf_printf(&b, "%s%02x", i ? "," : "", buf[i]);
    char *t = cg_buf_take(&b, NULL);
    *out = t ? cJSON_CreateString(t) : NULL;
    cg_free(t);
  }
  rc = *out ? CG_OK : CG_ERR_NOMEM;
out:
  if (h) RegCloseKey(h);
  cg_free(buf);
  cg_free(wv);
  return rc;
}

int cg_registry_read_hklm(const char *key, const char *value, cJSON **out) {
  char *full = cg_asprintf("HKEY_LOCAL_MACHINE\\%s", key);
  int rc = full ? cg_registry_read(full, value, out) : CG_ERR_NOMEM;
  cg_free(full);
  return rc;
}

int cg_registry_subkeys(const char *key, char ***names, size_t *count) {
  HKEY h = NULL;
  size_t alloc = 0;
  *names = NULL;
  *count = 0;
  int rc = reg_open(key, KEY_ENUMERATE_SUB_KEYS, &h);
  for (DWORD i = 0; rc == CG_OK && i < 1024; i++) {
    wchar_t name[256];
    DWORD len = CG_ARRAY_LEN(name);
    LONG r = RegEnumKeyExW(h, i, name, &len, NULL, NULL, NULL, NULL);
    if (r == ERROR_NO_MORE_ITEMS) break;
    if (r != ERROR_SUCCESS) continue;
    char *u = cg_wide_to_utf8(name);
    rc = u ? cg_fs_push_name(names, count, &alloc, u) : CG_ERR_NOMEM;
    cg_free(u);
  }
  if (h) RegCloseKey(h);
  if (rc != CG_OK) {
    cg_dir_list_free(*names, *count);
    *names = NULL;
    *count = 0;
  }
  return rc;
}

int cg_registry_replace_hklm(const char *key, const cJSON *values) {
  wchar_t *wk = cg_utf8_to_wide(key);
  if (!wk) return CG_ERR_NOMEM;
  RegDeleteTreeW(HKEY_LOCAL_MACHINE, wk); /* absent the first time */
  HKEY h = NULL;
  LONG e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, wk, 0, NULL, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE | KEY_WOW64_64KEY,
                           NULL, &h, NULL);
  cg_free(wk);
  if (e != ERROR_SUCCESS) return e == ERROR_ACCESS_DENIED ? CG_ERR_ACCESS : CG_ERR_IO;
  int rc = CG_OK;
  for (const cJSON *v = values ? values->child : NULL; v && rc == CG_OK; v = v->next) {
    if (!cJSON_IsString(v) || !v->string) continue;
    wchar_t *name = cg_utf8_to_wide(v->string), *data = cg_utf8_to_wide(v->valuestring);
    if (!name || !data)
      rc = CG_ERR_NOMEM;
    else if (RegSetValueExW(h, name, 0, REG_SZ, (const BYTE *)data, (DWORD)((wcslen(data) + 1) * sizeof(wchar_t))) !=
             ERROR_SUCCESS)
      rc = CG_ERR_IO;
    cg_free(name);
    cg_free(data);
  }
  RegCloseKey(h);
  return rc;
}
