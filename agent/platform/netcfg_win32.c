/* WinHTTP's view of the proxy: the calls the ConfigMgr client's own HTTP stack builds on. */
#include <windows.h>

#include <string.h>
#include <winhttp.h>

#include "netcfg.h"
#include "utf_win32.h"

void cg_proxy_config_free(struct cg_proxy_config *c) {
  cg_free(c->auto_config_url);
  cg_free(c->proxy);
  cg_free(c->bypass);
  memset(c, 0, sizeof(*c));
}

/* WinHTTP hands out GlobalAlloc'ed wide strings: copy to UTF-8 and free them. */
static char *take(LPWSTR w) {
  char *s = NULL;
  if (w) {
    if (*w) s = cg_wide_to_utf8(w);
    GlobalFree(w);
  }
  return s;
}

static void win_error(char *err, size_t errlen, const char *call, DWORD e) {
  cg_snprintf(err, errlen, "%s failed with WinHTTP/Win32 error %lu", call, (unsigned long)e);
}

int cg_net_winhttp_default(struct cg_proxy_config *out, char *err, size_t errlen) {
  WINHTTP_PROXY_INFO pi;
  memset(out, 0, sizeof(*out));
  memset(&pi, 0, sizeof(pi));
  if (!WinHttpGetDefaultProxyConfiguration(&pi)) {
    win_error(err, errlen, "WinHttpGetDefaultProxyConfiguration", GetLastError());
    return CG_ERR_IO;
  }
  out->proxy = take(pi.lpszProxy);
  out->bypass = take(pi.lpszProxyBypass);
  if (pi.dwAccessType != WINHTTP_ACCESS_TYPE_NAMED_PROXY) {
    cg_free(out->proxy);
    out->proxy = NULL;
  }
  return CG_OK;
}

int cg_net_ie_current(struct cg_proxy_config *out, char *err, size_t errlen) {
  WINHTTP_CURRENT_USER_IE_PROXY_CONFIG ie;
  memset(out, 0, sizeof(*out));
  memset(&ie, 0, sizeof(ie));
  if (!WinHttpGetIEProxyConfigForCurrentUser(&ie)) {
    win_error(err, errlen, "WinHttpGetIEProxyConfigForCurrentUser", GetLastError());
    return CG_ERR_IO;
  }
  out->auto_detect = ie.fAutoDetect != FALSE;
  out->auto_config_url = take(ie.lpszAutoConfigUrl);
  out->proxy = take(ie.lpszProxy);
  out->bypass = take(ie.lpszProxyBypass);
  return CG_OK;
}

int cg_net_proxy_for_url(const char *url, bool auto_detect, const char *pac_url, int64_t timeout_ms, char **proxy,
                         unsigned long *winerr, char *err, size_t errlen) {
  wchar_t *wurl = cg_utf8_to_wide(url), *wpac = pac_url ? cg_utf8_to_wide(pac_url) : NULL;
  HINTERNET s = NULL;
  int rc = CG_ERR_NOMEM;
  *proxy = NULL;
  *winerr = 0;
  if (!wurl || (pac_url && !wpac)) goto out;
  s = WinHttpOpen(L"cmgdiag", WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
  if (!s) {
    *winerr = GetLastError();
    win_error(err, errlen, "WinHttpOpen", *winerr);
    rc = CG_ERR_IO;
    goto out;
  }
  int t = timeout_ms > 0 && timeout_ms < 600000 ? (int)timeout_ms : 10000;
  WinHttpSetTimeouts(s, t, t, t, t);
  WINHTTP_AUTOPROXY_OPTIONS o;
  memset(&o, 0, sizeof(o));
  if (auto_detect) {
    o.dwFlags |= WINHTTP_AUTOPROXY_AUTO_DETECT;
    o.dwAutoDetectFlags = WINHTTP_AUTO_DETECT_TYPE_DHCP | WINHTTP_AUTO_DETECT_TYPE_DNS_A;
  }
  if (wpac) {
    o.dwFlags |= WINHTTP_AUTOPROXY_CONFIG_URL;
    o.lpszAutoConfigUrl = wpac;
  }
  o.fAutoLogonIfChallenged = TRUE;
  WINHTTP_PROXY_INFO pi;
  memset(&pi, 0, sizeof(pi));
  if (!WinHttpGetProxyForUrl(s, wurl, &o, &pi)) {
    *winerr = GetLastError();
    rc = *winerr == ERROR_WINHTTP_AUTODETECTION_FAILED ? CG_ERR_NOTFOUND : CG_ERR_IO;
    if (*winerr == ERROR_WINHTTP_AUTODETECTION_FAILED)
      cg_snprintf(err, errlen, "WPAD found no proxy script (WinHTTP error 12180, 0x80072f94)");
    else if (*winerr == ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT)
      cg_snprintf(err, errlen, "the proxy script could not be downloaded (WinHTTP error 12167)");
    else if (*winerr == ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT)
      cg_snprintf(err, errlen, "the proxy script could not be run (WinHTTP error 12166)");
    else
      win_error(err, errlen, "WinHttpGetProxyForUrl", *winerr);
    goto out;
  }
  char *p = take(pi.lpszProxy);
  cg_free(take(pi.lpszProxyBypass));
  if (pi.dwAccessType == WINHTTP_ACCESS_TYPE_NAMED_PROXY)
    *proxy = p;
  else
    cg_free(p);
  rc = CG_OK;
out:
  if (s) WinHttpCloseHandle(s);
  cg_free(wurl);
  cg_free(wpac);
  return rc;
}
