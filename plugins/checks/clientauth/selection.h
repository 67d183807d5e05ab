/* The ConfigMgr client's PKI certificate selection (docs/checks/clientauth.md, "Which certificate
 * the client selects"; Microsoft Learn, "About client installation properties", CCMCERTSEL):
 *   Subject:VALUE      an exact match of the subject name (case-sensitive) or of a subject
 *                      alternative name (case-insensitive);
 *   SubjectStr:VALUE   a partial match of the subject name or of a subject alternative name
 *                      (case-insensitive);
 *   SubjectAttr:A = V  an attribute of the subject, by name (OU = Computers) or object identifier
 *                      (2.5.4.11 = Computers), with that value;
 *   none               the subject name contains the computer name (the default criterion). */
#ifndef CG_CLIENTAUTH_SELECTION_H
#define CG_CLIENTAUTH_SELECTION_H

#include "cg.h"
#include "platform/certstore.h"

enum sel_kind { SEL_DEFAULT = 0, SEL_SUBJECT, SEL_SUBJECTSTR, SEL_SUBJECTATTR };

struct selection {
  enum sel_kind kind;
  char value[256];    /* Subject:/SubjectStr: text, or the attribute's value */
  char attr[64];      /* SubjectAttr: the attribute's short name (OU), upper case, from a name or an OID */
  char computer[256]; /* the default criterion's computer name; "" when not known */
};

/* Parses a criterion ("SubjectStr:contoso", "SubjectAttr:2.5.4.11 = Computers"); "" or NULL is the
 * default. False (and a sentence in err) when it is none of the documented forms. */
bool sel_parse(const char *text, struct selection *s, char *err, size_t errlen);
/* Whether a certificate meets the criterion; `why` says what it lacks when it does not. `subject`
 * is "CN=pc1, OU=Computers, DC=contoso" (most specific first), `sans` the DNS names joined by ", ".
 * With the default criterion and no computer name known, *unknown is set and it matches. Linear. */
bool sel_matches(const struct selection *s, const char *subject, const char *sans, bool *unknown, char *why,
                 size_t whylen);
/* The criterion as text, for facts: "SubjectAttr:OU = Computers", "computer name PC1". */
void sel_text(const struct selection *s, char *out, size_t outlen);

/* Whether the certificate has the enhanced key usage `oid`. */
bool ca_has_eku(const struct cg_cert_info *ci, const char *oid);
/* Certificates with Client Authentication that Windows puts in LocalMachine\My for Entra and Intune
 * (by their issuer); the client never selects them (an inference, docs/checks/clientauth.md). */
bool ca_entra_or_intune_cert(const struct cg_cert_info *ci);
/* Whether `dn` is in the issuers list "DN | DN | ..." (CCMCERTISSUERS), compared by letters, digits
 * and '=' only, case-insensitively ("CN=Root; O=Contoso" is "CN=Root, O=Contoso"). */
bool ca_issuer_listed(const char *list, const char *dn);
/* Whether a client of this version ("5.00.9122.1000") can use a site token (ConfigMgr 2002, build
 * 8968, or later); why not in `why`. */
bool ca_token_capable(const char *version, char *why, size_t whylen);

#endif
