/* cmgprobe on Windows: the MP list request once more through the client's own stack — WinHTTP and
 * Schannel, with the proxy SYSTEM's WinHTTP resolves, the machine's TLS policy and, for a PKI client,
 * the certificate from LocalMachine\My with its key where it lives (docs/checks/cmgprobe.md,
 * "The client's own stack"). The outcome is facts.winhttp; where it disagrees with libcurl/OpenSSL,
 * WinHTTP decides on Windows (under wine the facts are shown and decide nothing). */
#include <windows.h>

#define SECURITY_WIN32
#include <schannel.h>
#include <security.h>
#include <string.h>
#include <wincrypt.h>
#include <winhttp.h>

#include "platform/chainverdict.h"
#include "probe.h"
#include "platform/utf_win32.h"

#ifndef WINHTTP_OPTION_SECURITY_INFO
#define WINHTTP_OPTION_SECURITY_INFO 151
#endif
/* WINHTTP_SECURITY_INFO (winhttp.h, Windows 10 1709 and later): not in every MinGW-w64 header */
struct sec_info {
  SecPkgContext_ConnectionInfo ConnectionInfo;
  SecPkgContext_CipherInfo CipherInfo;
};

static const struct {
  DWORD code;
  const char *name;
} names[] = {
    {12002, "ERROR_WINHTTP_TIMEOUT"},
    {12007, "ERROR_WINHTTP_NAME_NOT_RESOLVED"},
    {12029, "ERROR_WINHTTP_CANNOT_CONNECT"},
    {12030, "ERROR_WINHTTP_CONNECTION_ERROR"},
    {12037, "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID"},
    {12038, "ERROR_WINHTTP_SECURE_CERT_CN_INVALID"},
    {12044, "ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED"},
    {12045, "ERROR_WINHTTP_SECURE_INVALID_CA"},
    {12057, "ERROR_WINHTTP_SECURE_CERT_REV_FAILED"},
    {12152, "ERROR_WINHTTP_INVALID_SERVER_RESPONSE"},
    {12157, "ERROR_WINHTTP_SECURE_CHANNEL_ERROR"},
    {12166, "ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT"},
    {12167, "ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT"},
    {12169, "ERROR_WINHTTP_SECURE_INVALID_CERT"},
    {12170, "ERROR_WINHTTP_SECURE_CERT_REVOKED"},
    {12175, "ERROR_WINHTTP_SECURE_FAILURE"},
    {12178, "ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR"},
    {12179, "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE"},
    {12180, "ERROR_WINHTTP_AUTODETECTION_FAILED"},
    {12185, "ERROR_WINHTTP_CLIENT_CERT_NO_PRIVATE_KEY"},
    {12186, "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY"},
};

static const char *error_name(DWORD e) {
  for (size_t i = 0; i < CG_ARRAY_LEN(names); i++)
    if (names[i].code == e) return names[i].name;
  return e == 0x80090304UL ? "SEC_E_INTERNAL_ERROR" : "";
}

/* WINHTTP_CALLBACK_STATUS_FLAG_* of a secure failure, by name */
static void flag_names(DWORD f, char *out, size_t outlen) {
  static const struct {
    DWORD bit;
    const char *name;
  } fl[] = {{WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED, "CERT_REV_FAILED"},
            {WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CERT, "INVALID_CERT"},
            {WINHTTP_CALLBACK_STATUS_FLAG_CERT_REVOKED, "CERT_REVOKED"},
            {WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA, "INVALID_CA"},
            {WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID, "CERT_CN_INVALID"},
            {WINHTTP_CALLBACK_STATUS_FLAG_CERT_DATE_INVALID, "CERT_DATE_INVALID"},
            {WINHTTP_CALLBACK_STATUS_FLAG_SECURITY_CHANNEL_ERROR, "SECURITY_CHANNEL_ERROR"}};
  out[0] = '\0';
  for (size_t i = 0; i < CG_ARRAY_LEN(fl); i++)
    if (f & fl[i].bit) cg_snprintf(out + strlen(out), outlen - strlen(out), "%s%s", out[0] ? "," : "", fl[i].name);
}

struct wh {
  DWORD secure_flags;  /* from WINHTTP_CALLBACK_STATUS_SECURE_FAILURE */
  const char *host;    /* for the own verification with ca_file */
  const char *ca_file; /* extra roots for own_verdict (may be NULL) */
  bool own;            /* ca_file or a resolve entry: the chain is judged by own_verdict too */
  bool own_checked, own_trusted;
  char own_error[48];
};

/* ca_file: WinHTTP trusts only the machine's stores, so an unknown CA is let through to this point
 * (SECURITY_FLAG_IGNORE_UNKNOWN_CA only) and the chain the server sent is judged here by CryptoAPI
 * with the machine's Root store plus ca_file, before the answer is used. The same with a resolve
 * entry: WinHTTP then talks to an address, and the name is checked here. */
static void own_verdict(HINTERNET req, struct wh *w) {
  PCCERT_CONTEXT leaf = NULL;
  DWORD n = sizeof(leaf);
  w->own_checked = true;
  if (!WinHttpQueryOption(req, WINHTTP_OPTION_SERVER_CERT_CONTEXT, &leaf, &n) || !leaf) return;
  const unsigned char *der[8];
  size_t len[8];
  int k = 0;
  der[k] = leaf->pbCertEncoded;
  len[k++] = leaf->cbCertEncoded;
  PCCERT_CONTEXT c = NULL;
  while (k < 8 && leaf->hCertStore && (c = CertEnumCertificatesInStore(leaf->hCertStore, c)) != NULL)
    if (!CertCompareCertificate(X509_ASN_ENCODING, c->pCertInfo, leaf->pCertInfo)) {
      der[k] = c->pbCertEncoded;
      len[k++] = c->cbCertEncoded;
    }
  struct cg_chain_verdict v;
  cg_chain_verdict(der, len, k, w->host, w->ca_file, false, 10000, &v);
  if (c) CertFreeCertificateContext(c);
  w->own_trusted = v.available && v.trusted;
  cg_strlcpy(w->own_error, v.error_name, sizeof(w->own_error));
  CertFreeCertificateContext(leaf);
}

static void CALLBACK on_status(HINTERNET h, DWORD_PTR ctx, DWORD status, LPVOID info, DWORD len) {
  struct wh *w = (struct wh *)ctx;
  if (!w) return;
  if (status == WINHTTP_CALLBACK_STATUS_SECURE_FAILURE && info && len >= sizeof(DWORD))
    w->secure_flags = *(DWORD *)info;
  if (status == WINHTTP_CALLBACK_STATUS_SENDING_REQUEST && w->own && !w->own_checked) own_verdict(h, w);
}

/* The client's certificate from LocalMachine\My by its thumbprint (hex SHA-1), its key checked for
 * presence where it lives (CNG or CAPI) without exporting it. NULL with why set. */
static PCCERT_CONTEXT machine_cert(const char *thumb, char *why, size_t whylen) {
  BYTE hash[20];
  size_t n = 0;
  for (const char *t = thumb; *t && n < 40; t++) {
    char ch = *t;
    int v = ch >= '0' && ch <= '9'   ? ch - '0'
            : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
            : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                     : -1;
    if (v < 0) continue; /* spaces, as certutil prints them */
    if (n % 2 == 0)
      hash[n / 2] = (BYTE)(v << 4);
    else
      hash[n / 2] |= (BYTE)v;
    n++;
  }
  if (n != 40) {
    cg_snprintf(why, whylen, "the thumbprint '%.60s' is not 40 hex digits", thumb);
    return NULL;
  }
  HCERTSTORE st =
      CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                    CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG, L"My");
  if (!st) {
    cg_snprintf(why, whylen, "LocalMachine\\My cannot be opened (error %lu)", (unsigned long)GetLastError());
    return NULL;
  }
  CRYPT_HASH_BLOB b = {20, hash};
  PCCERT_CONTEXT c = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_HASH, &b, NULL);
  CertCloseStore(st, 0);
  if (!c) {
    cg_snprintf(why, whylen, "no certificate with thumbprint %s in LocalMachine\\My", thumb);
    return NULL;
  }
  HCRYPTPROV_OR_NCRYPT_KEY_HANDLE key = 0;
  DWORD spec = 0;
  BOOL free_key = FALSE;
  if (!CryptAcquireCertificatePrivateKey(c, CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG, NULL, &key,
                                         &spec, &free_key)) {
    cg_snprintf(why, whylen, "its private key cannot be used by this account (error 0x%08lX)",
                (unsigned long)GetLastError());
    CertFreeCertificateContext(c);
    return NULL;
  }
  if (free_key) {
    if (spec == CERT_NCRYPT_KEY_SPEC)
      NCryptFreeObject(key);
    else
      CryptReleaseContext(key, 0);
  }
  return c;
}

static void protocol_facts(HINTERNET req, cJSON *o) {
  struct sec_info si;
  DWORD n = sizeof(si);
  memset(&si, 0, sizeof(si));
  if (!WinHttpQueryOption(req, WINHTTP_OPTION_SECURITY_INFO, &si, &n)) {
    char t[120];
    cg_snprintf(t, sizeof(t), "WINHTTP_OPTION_SECURITY_INFO is not available (error %lu)",
                (unsigned long)GetLastError());
    cJSON_AddStringToObject(o, "protocol_detail", t);
    return;
  }
  DWORD p = si.ConnectionInfo.dwProtocol;
  const char *name = p & SP_PROT_TLS1_3_CLIENT   ? "TLSv1.3"
                     : p & SP_PROT_TLS1_2_CLIENT ? "TLSv1.2"
                     : p & SP_PROT_TLS1_1_CLIENT ? "TLSv1.1"
                     : p & SP_PROT_TLS1_0_CLIENT ? "TLSv1.0"
                                                 : "";
  cJSON_AddStringToObject(o, "protocol", name);
  char *cipher = cg_wide_to_utf8(si.CipherInfo.szCipherSuite);
  if (cipher && *cipher) cJSON_AddStringToObject(o, "cipher", cipher);
  cg_free(cipher);
}

static wchar_t *widen(const char *s) { return s ? cg_utf8_to_wide(s) : NULL; }

/* The answer's body, up to max_body bytes, unparsed (the MP list is read by the caller, clientstack.c). */
static void read_body(const struct probe_winhttp_req *rq, HINTERNET r, char **body, size_t *blen) {
  size_t cap = rq->max_body, used = 0;
  char *b = cg_malloc(cap + 1);
  DWORD got = 0;
  while (b && used < cap && WinHttpReadData(r, b + used, (DWORD)(cap - used), &got) && got)
    used += got;
  if (b) b[used] = '\0';
  *body = b;
  *blen = b ? used : 0;
}

/* "http://user:password@host:port/" -> "host:port", the user and the password (each may be empty). */
static void split_proxy(const char *proxy, char *hostport, size_t hpl, char *user, size_t ul, char *pass, size_t pl) {
  const char *h = strstr(proxy, "://") ? strstr(proxy, "://") + 3 : proxy;
  size_t hl = strcspn(h, "/?#");
  const char *at = memchr(h, '@', hl);
  if (at) {
    const char *colon = memchr(h, ':', (size_t)(at - h));
    cg_snprintf(user, ul, "%.*s", (int)((colon ? colon : at) - h), h);
    if (colon) cg_snprintf(pass, pl, "%.*s", (int)(at - colon - 1), colon + 1);
    hl -= (size_t)(at + 1 - h);
    h = at + 1;
  }
  cg_snprintf(hostport, hpl, "%.*s", (int)hl, h);
}

static void proxy_credentials(HINTERNET r, const char *user, const char *pass) {
  wchar_t *wu = widen(user), *wp = widen(pass);
  if (wu) WinHttpSetOption(r, WINHTTP_OPTION_PROXY_USERNAME, wu, (DWORD)wcslen(wu));
  if (wp) WinHttpSetOption(r, WINHTTP_OPTION_PROXY_PASSWORD, wp, (DWORD)wcslen(wp));
  if (wp) SecureZeroMemory(wp, wcslen(wp) * sizeof(wchar_t));
  cg_free(wu);
  cg_free(wp);
}

int probe_winhttp_request(const struct probe_winhttp_req *rq, struct probe_winhttp_out *out, char **body,
                          size_t *blen) {
  memset(out, 0, sizeof(*out));
  *body = NULL;
  *blen = 0;
  const char *thumbprint = rq->thumbprint;
  cJSON *o = out->facts = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "available", true);
  out->wine = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
  cJSON_AddStringToObject(o, "engine", out->wine ? "wine winhttp" : "Windows WinHTTP");
  const char *url = rq->url;
  const char *proxy = rq->proxy && *rq->proxy ? rq->proxy : NULL;
  /* WinHTTP takes "host:port" for a named proxy; user information goes to its own options and is
   * never shown (the facts carry the proxy without it) */
  char hostport[300] = "", user[200] = "", pass[200] = "";
  if (proxy) split_proxy(proxy, hostport, sizeof(hostport), user, sizeof(user), pass, sizeof(pass));
  cJSON_AddStringToObject(o, "proxy", proxy ? hostport : "direct");
  wchar_t *wproxy = widen(proxy ? hostport : NULL), *whost = widen(rq->host), *wpath = NULL;
  const char *pp = strlen(url) > 8 ? strstr(url + 8, "/") : NULL;
  wpath = widen(pp ? pp : "/");
  /* WinHTTP resolves names itself: with a resolve entry it connects to the address, says the name in
   * the Host header, and the name on the certificate is checked here by CryptoAPI (own_verdict) */
  const char *addr = rq->address ? rq->address : "";
  if (addr[0]) {
    cg_free(whost);
    whost = widen(addr);
    cJSON_AddStringToObject(o, "address", addr);
  }
  struct wh w = {.host = rq->host, .ca_file = rq->ca_file, .own = rq->ca_file || addr[0]};
  HINTERNET s = NULL, c = NULL, r = NULL;
  PCCERT_CONTEXT cert = NULL;
  DWORD err = 0;
  char why[300] = "";
  if (thumbprint && *thumbprint) {
    cJSON_AddStringToObject(o, "client_certificate", thumbprint);
    cert = machine_cert(thumbprint, why, sizeof(why));
    if (!cert) cJSON_AddStringToObject(o, "client_certificate_error", why);
  }
  s = WinHttpOpen(L"cmgdiag", proxy ? WINHTTP_ACCESS_TYPE_NAMED_PROXY : WINHTTP_ACCESS_TYPE_NO_PROXY,
                  proxy ? wproxy : WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
  if (!s) goto fail;
  int t = (int)rq->timeout_ms;
  WinHttpSetTimeouts(s, t, t, t, t);
  c = WinHttpConnect(s, whost, (INTERNET_PORT)rq->port, 0);
  if (!c) goto fail;
  r = WinHttpOpenRequest(c, L"GET", wpath, NULL, WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES, WINHTTP_FLAG_SECURE);
  if (!r) goto fail;
  if (user[0]) proxy_credentials(r, user, pass);
  WinHttpSetStatusCallback(r, on_status, WINHTTP_CALLBACK_FLAG_SECURE_FAILURE | WINHTTP_CALLBACK_FLAG_SEND_REQUEST, 0);
  DWORD_PTR ctx = (DWORD_PTR)&w;
  WinHttpSetOption(r, WINHTTP_OPTION_CONTEXT_VALUE, &ctx, sizeof(ctx));
  if (rq->revocation) {
    DWORD f = WINHTTP_ENABLE_SSL_REVOCATION;
    WinHttpSetOption(r, WINHTTP_OPTION_ENABLE_FEATURE, &f, sizeof(f));
  }
  if (w.own) {
    /* judged by own_verdict instead: the roots of ca_file, the name the address stands for */
    DWORD f = (w.ca_file ? SECURITY_FLAG_IGNORE_UNKNOWN_CA : 0) | (addr[0] ? SECURITY_FLAG_IGNORE_CERT_CN_INVALID : 0);
    WinHttpSetOption(r, WINHTTP_OPTION_SECURITY_FLAGS, &f, sizeof(f));
    if (addr[0]) {
      char hdr[320];
      if (rq->port == 443)
        cg_snprintf(hdr, sizeof(hdr), "Host: %s", rq->host);
      else
        cg_snprintf(hdr, sizeof(hdr), "Host: %s:%ld", rq->host, rq->port);
      wchar_t *wh = widen(hdr);
      if (wh) WinHttpAddRequestHeaders(r, wh, (DWORD)-1L, WINHTTP_ADDREQ_FLAG_ADD | WINHTTP_ADDREQ_FLAG_REPLACE);
      cg_free(wh);
    }
  }
  WinHttpSetOption(r, WINHTTP_OPTION_CLIENT_CERT_CONTEXT, cert ? (LPVOID)cert : WINHTTP_NO_CLIENT_CERT_CONTEXT,
                   cert ? sizeof(CERT_CONTEXT) : 0);
  if (!WinHttpSendRequest(r, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0, 0, 0) ||
      !WinHttpReceiveResponse(r, NULL))
    goto fail;
  if (w.own && !w.own_trusted) {
    /* the answer of a server CryptoAPI does not trust (with ca_file, for the name) is not used */
    cJSON_AddStringToObject(o, "own_verification", w.own_checked ? w.own_error : "not made");
    err = ERROR_WINHTTP_SECURE_FAILURE;
    w.secure_flags = !strcmp(w.own_error, "CERT_E_CN_NO_MATCH") ? WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID
                     : !strcmp(w.own_error, "CERT_E_EXPIRED")   ? WINHTTP_CALLBACK_STATUS_FLAG_CERT_DATE_INVALID
                                                                : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA;
    goto done;
  }
  DWORD status = 0, n = sizeof(status);
  WinHttpQueryHeaders(r, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER, WINHTTP_HEADER_NAME_BY_INDEX, &status,
                      &n, WINHTTP_NO_HEADER_INDEX);
  out->status = (long)status;
  cJSON_AddNumberToObject(o, "status", (double)status);
  protocol_facts(r, o);
  read_body(rq, r, body, blen);
  goto done;
fail:
  err = GetLastError();
done:
  if (err) {
    out->error = err;
    cJSON_AddNumberToObject(o, "error", (double)err);
    cJSON_AddStringToObject(o, "error_name", error_name(err));
    char fl[200];
    flag_names(w.secure_flags, fl, sizeof(fl));
    if (fl[0]) cJSON_AddStringToObject(o, "secure_failure", fl);
  }
  out->cert_presented = cert != NULL;
  cJSON_AddBoolToObject(o, "client_certificate_presented", cert != NULL);
  if (r) WinHttpCloseHandle(r);
  if (c) WinHttpCloseHandle(c);
  if (s) WinHttpCloseHandle(s);
  if (cert) CertFreeCertificateContext(cert);
  SecureZeroMemory(pass, sizeof(pass));
  cg_free(wproxy);
  cg_free(whost);
  cg_free(wpath);
  return 0;
}

bool probe_winhttp_available(void) { return true; }
