/* Self-test for a standard user (see served.h). */
#include "served.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "redact.h"
#include "platform/child.h"
#include "platform/ipc.h"
#include "platform/runtime.h"
#include "platform/sys.h"

#define REQUEST_WAIT_MS 5000
/* Connections are served concurrently, so that a silent one holds nobody up: at most this many at
 * once, and per account; more are refused at once. One self-test runs at a time. */
#define MAX_CONNECTIONS 8
#define MAX_PER_USER 2
#define USERS 64
#define FIRST_ANSWER_MS 30000 /* the client's wait for the service's first word */
/* A client that takes nothing of the relayed report for this long is given up on (unless the settings
 * say otherwise); the worker, whose output the service reads, is never held by it (docs/security.md,
 * attack 12) */
#define RELAY_STALL_MS 30000

/* ---- the request ---- */

static bool charset(const char *s, const char *extra) {
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr(extra, *s)))
      return false;
  return true;
}

int cg_served_parse(const char *line, size_t len, struct cg_served_request *rq, char *err, size_t errlen) {
  memset(rq, 0, sizeof(*rq));
  cJSON *j = len <= CG_SERVED_REQUEST_MAX ? cJSON_ParseWithLength(line, len) : NULL;
  int rc = CG_ERR_PARSE;
  if (!cJSON_IsObject(j)) {
    cg_snprintf(err, errlen, "the request is not one JSON object of at most %d bytes", CG_SERVED_REQUEST_MAX);
    goto out;
  }
  for (const cJSON *v = j->child; v; v = v->next) {
    const char *k = v->string;
    bool flag = !strcmp(k, "json") || !strcmp(k, "no_upload") || !strcmp(k, "color");
    if (flag && !cJSON_IsBool(v)) {
      cg_snprintf(err, errlen, "\"%s\" must be true or false", k);
      goto out;
    }
    if (!strcmp(k, "json")) {
      rq->json = cJSON_IsTrue(v);
    } else if (!strcmp(k, "no_upload")) {
      rq->no_upload = cJSON_IsTrue(v);
    } else if (!strcmp(k, "color")) {
      rq->color = cJSON_IsTrue(v);
    } else if (!strcmp(k, "ticket")) {
      const char *t = cJSON_GetStringValue(v);
      if (!t || !*t || strlen(t) > CG_SERVED_TICKET_MAX || !charset(t, "._:#/-")) {
        cg_snprintf(err, errlen, "a ticket is 1 to %d letters, digits and . _ : # / -", CG_SERVED_TICKET_MAX);
        goto out;
      }
      cg_strlcpy(rq->ticket, t, sizeof(rq->ticket));
    } else if (!strcmp(k, "only")) {
      const char *o = cJSON_GetStringValue(v);
      if (!o || !*o || strlen(o) >= sizeof(rq->only) || !charset(o, "_,") || o[0] == ',') {
        cg_snprintf(err, errlen, "\"only\" is a list of check names separated by commas");
        goto out;
      }
      cg_strlcpy(rq->only, o, sizeof(rq->only));
    } else {
      char key[40];
      cg_strlcpy(key, k, sizeof(key));
      cg_strip_controls(key);
      cg_snprintf(err, errlen, "unknown key \"%s\" (known: ticket, json, no_upload, only, color)", key);
      goto out;
    }
  }
  rc = CG_OK;
out:
  cJSON_Delete(j);
  return rc;
}

/* ---- the service side ---- */

struct user_slot {
  char key[96];       /* cg_ipc_peer_user; "" for a free slot */
  int open;           /* connections of this account now */
  int64_t last_start; /* monotonic ms of the last self-test served for it, -1: none */
};

struct cg_served {
  struct cg_mutex *m; /* guards everything below that the threads share */
  struct cg_served_settings s;
  char *config_path, *exe, *endpoint;
  struct cg_log *log;
  struct cg_ipc_server *srv;
  int64_t last_start;    /* monotonic ms of the last self-test served, -1: none yet */
  bool stop, done, busy; /* busy: a self-test is running */
  int active;            /* connections being served */
  struct user_slot users[USERS];
};

/* The slot of an account (with sv->m held), taken over from the one idle longest when all are used;
 * NULL when every slot has a connection open. */
static struct user_slot *user_slot(struct cg_served *sv, const char *key) {
  struct user_slot *free_one = NULL;
  for (int i = 0; i < USERS; i++) {
    struct user_slot *u = &sv->users[i];
    if (u->key[0] && !strcmp(u->key, key)) return u;
    if (u->open == 0 && (!free_one || !u->key[0] || (free_one->key[0] && u->last_start < free_one->last_start)))
      free_one = u;
  }
  if (free_one) {
    cg_strlcpy(free_one->key, key, sizeof(free_one->key));
    free_one->open = 0;
    free_one->last_start = -1;
  }
  return free_one;
}

/* The connection this thread serves no longer counts against its account once its last record is
 * on its way: a client that reads "exit" and asks again at once must not find its old connection
 * still counted (it lingers a moment so that the client can read everything). */
static _Thread_local struct cg_served *release_sv;
static _Thread_local struct user_slot *release_slot;

static void release_account(void) {
  if (!release_slot) return;
  cg_mutex_lock(release_sv->m);
  release_slot->open--;
  cg_mutex_unlock(release_sv->m);
  release_slot = NULL;
}

static void record(struct cg_ipc_conn *c, const char *what, const char *text) {
  if (!strcmp(what, "exit")) release_account();
  char line[600];
  int n = snprintf(line, sizeof(line), "%c%s %s\n", CG_SERVED_RECORD, what, text);
  if (n > 0) cg_ipc_write_within(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, RELAY_STALL_MS);
}

static void refuse(struct cg_served *sv, struct cg_ipc_conn *c, const char *peer, const char *why) {
  cg_log_warn(sv->log, "served", "self-test asked by %s refused: %s", peer, why);
  record(c, "refused", why);
  record(c, "exit", "3");
}

/* One line, up to CG_SERVED_REQUEST_MAX bytes, within REQUEST_WAIT_MS, from a connection (the
 * service) or a handle (the request worker's standard input: c NULL). */
static int read_request(struct cg_ipc_conn *c, intptr_t in, char *buf, size_t cap, size_t *len) {
  int64_t end = cg_time_mono_ms() + REQUEST_WAIT_MS;
  *len = 0;
  for (;;) {
    char *nl = memchr(buf, '\n', *len);
    if (nl) {
      *len = (size_t)(nl - buf);
      return CG_OK;
    }
    if (*len >= cap) return CG_ERR_TOOBIG;
    int64_t left = end - cg_time_mono_ms();
    if (left <= 0) return CG_ERR_TIMEOUT;
    long n = c ? cg_ipc_read(c, buf + *len, cap - *len, left) : cg_pipe_read(in, buf + *len, cap - *len, left);
    if (n == 0 || n == -2) return CG_ERR_IO;
    if (n > 0) *len += (size_t)n;
  }
}

/* The worker's argument vector: fixed words, and the request's values only as --opt=value. */
static size_t worker_argv(const struct cg_served *sv, const struct cg_served_request *rq, const char **argv,
                          char *ticket, size_t tl, char *only, size_t ol) {
  size_t k = 0;
  argv[k++] = sv->exe;
  argv[k++] = "-c";
  argv[k++] = sv->config_path;
  argv[k++] = "selftest";
  argv[k++] = rq->color ? "--served=color" : "--served=plain";
  if (rq->ticket[0]) argv[k++] = (cg_snprintf(ticket, tl, "--ticket=%s", rq->ticket), ticket);
  if (rq->only[0]) argv[k++] = (cg_snprintf(only, ol, "--only=%s", rq->only), only);
  if (rq->json) argv[k++] = "--json";
  if (rq->no_upload) argv[k++] = "--no-upload";
  argv[k] = NULL;
  return k;
}

static void run_worker(struct cg_served *sv, struct cg_ipc_conn *c, const char *peer,
                       const struct cg_served_request *rq, int64_t timeout_s) {
  const char *argv[12];
  char ticket[96], only[300], err[512] = "";
  worker_argv(sv, rq, argv, ticket, sizeof(ticket), only, sizeof(only));
  cg_log_info(sv->log, "served", "self-test%s%s asked by %s through %s", rq->ticket[0] ? " for ticket " : "",
              rq->ticket, peer, sv->endpoint);
  struct cg_child *w = NULL;
  char limit[24];
  cg_snprintf(limit, sizeof(limit), "%lld", (long long)timeout_s);
  record(c, "deadline", limit); /* the client waits this long (and a little), not for ever */
  /* the worker writes into a pipe the service reads and relays: a client that does not read holds
   * nobody up (its part of the report is dropped after RELAY_STALL_MS) */
  cg_mutex_lock(sv->m);
  int64_t stall_ms = sv->s.relay_stall_ms > 0 ? sv->s.relay_stall_ms : RELAY_STALL_MS;
  cg_mutex_unlock(sv->m);
  intptr_t rd = -1, wr = -1;
  if (cg_pipe_open(&rd, &wr, err, sizeof(err)) != CG_OK ||
      cg_child_start_output(argv, wr, &w, err, sizeof(err)) != CG_OK) {
    cg_pipe_close(rd);
    cg_pipe_close(wr);
    refuse(sv, c, peer, err);
    return;
  }
  cg_pipe_close(wr);
  struct cg_child_status st;
  memset(&st, 0, sizeof(st));
  int64_t end = cg_time_mono_ms() + timeout_s * 1000;
  bool killed = false, stop = false, ended = false, reading = true, eof = false;
  char buf[4096];
  for (;;) {
    /* the deadline and the service's stop hold whatever the client does (a slow reader included) */
    cg_mutex_lock(sv->m);
    stop = sv->stop;
    cg_mutex_unlock(sv->m);
    int64_t left = end - cg_time_mono_ms();
    if (!ended && (stop || left <= 0)) {
      cg_child_kill(w);
      killed = true;
      for (int i = 0; i < 300 && !cg_child_ended(w, &st); i++)
        cg_sleep_ms(10);
      break;
    }
    long n = eof ? -1 : cg_pipe_read(rd, buf, sizeof(buf), 50);
    if (n > 0) {
      /* each write within the stall limit and the deadline: a slow reader is bounded by both */
      int64_t lim = left < stall_ms ? left : stall_ms;
      if (reading && (lim <= 0 || cg_ipc_write_within(c, buf, (size_t)n, lim) != CG_OK)) {
        reading = false;
        cg_log_warn(sv->log, "served", "%s %s; the rest is not sent", peer,
                    lim <= 0 ? "had not taken the self-test's report when its deadline came"
                             : "stopped reading the self-test's report");
      }
      continue;
    }
    if (n == 0 || n == -2) eof = true; /* the worker's end is closed: wait for it to end */
    if (ended) break;                  /* ended, and nothing more in the pipe (or what it started holds it) */
    ended = cg_child_ended(w, &st);
    if (!ended && eof) cg_sleep_ms(50);
  }
  cg_pipe_close(rd);
  if (!reading) {
    cg_log_info(sv->log, "served", "self-test for %s ended: %s (its report was not read)", peer, st.text);
    cg_child_free(w);
    return;
  }
  char code[16];
  int ec = killed || !st.exited ? 3 : st.exit_code;
  if (killed)
    record(c, "stopped",
           stop ? "the service is stopping, so it stopped the self-test"
                : "the self-test did not finish in time "
                  "(cycle_timeout_s) and was stopped");
  cg_snprintf(code, sizeof(code), "%d", ec);
  record(c, "exit", code);
  cg_log_info(sv->log, "served", "self-test for %s ended: %s", peer,
              !killed ? st.text
              : stop  ? "stopped with the service"
                      : "stopped at its deadline");
  cg_child_free(w);
}

/* ---- reading a request without privilege -----------------------------------------------------------
 * Linux, when the service has an account for it (unprivileged_user): this program started again as
 * `cmgdiag __worker request` without privilege (platform/child.h, cg_worker_start) reads the request
 * from the connection (its standard input) and parses it, so that a standard user's bytes never meet
 * a parser running as root; it hands back the request as a struct on its standard output, which is
 * checked again here. Elsewhere the service reads it itself. */
#define PARSED_MAGIC 0x63677231u /* "cgr1": this layout; another version's worker is not understood */
struct parsed {
  uint32_t magic, size; /* PARSED_MAGIC and sizeof(struct parsed) */
  int rc;               /* CG_OK, or the request is refused with err */
  struct cg_served_request rq;
  char err[300];
};

static void parse_line(int rc, const char *buf, size_t len, struct parsed *p) {
  p->rc = rc;
  if (p->rc != CG_OK)
    cg_snprintf(p->err, sizeof(p->err), "%s",
                p->rc == CG_ERR_TIMEOUT  ? "no request within 5 seconds"
                : p->rc == CG_ERR_TOOBIG ? "the request is longer than 4 KiB"
                                         : "the request ended before its end of line");
  else
    p->rc = cg_served_parse(buf, len, &p->rq, p->err, sizeof(p->err));
}

int cg_served_request_main(void) {
  struct parsed a;
  char buf[CG_SERVED_REQUEST_MAX + 1];
  size_t len = 0;
  memset(&a, 0, sizeof(a));
  if (cg_worker_confine(a.err, sizeof(a.err)) != CG_OK) return 3; /* before a byte of the request */
  a.magic = PARSED_MAGIC;
  a.size = sizeof(a);
  int rc = read_request(NULL, 0, buf, sizeof(buf) - 1, &len); /* before len is read */
  parse_line(rc, buf, len, &a);
  return cg_pipe_write(1, &a, sizeof(a)) == CG_OK ? 0 : 3;
}

/* What the worker sent is taken only as cg_served_parse could have made it. */
static bool plausible(struct parsed *p) {
  unsigned char flags[3];
  memcpy(&flags[0], &p->rq.json, 1);
  memcpy(&flags[1], &p->rq.no_upload, 1);
  memcpy(&flags[2], &p->rq.color, 1);
  if (p->magic != PARSED_MAGIC || p->size != sizeof(*p) || !memchr(p->err, '\0', sizeof(p->err)) ||
      !memchr(p->rq.ticket, '\0', sizeof(p->rq.ticket)) || !memchr(p->rq.only, '\0', sizeof(p->rq.only)) ||
      flags[0] > 1 || flags[1] > 1 || flags[2] > 1)
    return false;
  cg_strip_controls(p->err);
  return p->rc != CG_OK ? p->err[0] != '\0'
                        : charset(p->rq.ticket, "._:#/-") && strlen(p->rq.ticket) <= CG_SERVED_TICKET_MAX &&
                              charset(p->rq.only, "_,") && p->rq.only[0] != ',';
}

static void take_request(struct cg_served *sv, struct cg_ipc_conn *c, struct parsed *p) {
  struct cg_worker_user u;
  char user[64], why[200] = "", buf[CG_SERVED_REQUEST_MAX + 1];
  size_t len = 0;
  memset(p, 0, sizeof(*p));
  cg_mutex_lock(sv->m);
  cg_strlcpy(user, sv->s.unprivileged_user, sizeof(user));
  cg_mutex_unlock(sv->m);
  if (!user[0] || cg_worker_user_find(user, &u, why, sizeof(why)) != CG_OK) {
    if (user[0]) cg_log_info(sv->log, "served", "the request is read by the service itself: %s", why);
    int rc = read_request(c, -1, buf, sizeof(buf) - 1, &len); /* before len is read */
    parse_line(rc, buf, len, p);
    return;
  }
  intptr_t rd = -1, in = cg_ipc_native(c), qr = -1, qw = -1;
  int rc = CG_OK;
  /* Windows: a worker takes a pipe of the service's, not the client's connection. The service takes
   * the line's bytes as they came (up to its end of line, at most 4 KiB, within 5 s), reads none of it
   * for meaning, and relays it through a pipe to the worker, which parses it. */
  bool relay = !cg_worker_reads_connections();
  if (relay) {
    rc = read_request(c, -1, buf, sizeof(buf) - 1, &len);
    if (rc != CG_OK) { /* nothing came, or too much: refused with a sentence, nothing parsed */
      parse_line(rc, buf, len, p);
      return;
    }
    buf[len++] = '\n';
    rc = cg_pipe_open(&qr, &qw, why, sizeof(why));
    in = qr;
  }
  struct cg_child *ch = NULL;
  const char *argv[] = {sv->exe, "__worker", "request", NULL}, *envp[] = {NULL};
  if (rc == CG_OK) rc = cg_worker_start(&u, "/", argv, envp, in, &rd, &ch, why, sizeof(why));
  if (relay) {
    cg_pipe_close(qr);
    if (rc == CG_OK && cg_pipe_write_within(qw, buf, len, 2000) != CG_OK)
      cg_snprintf(why, sizeof(why), "the worker did not take the request");
    cg_pipe_close(qw);
  }
  size_t have = 0;
  int64_t end = cg_time_mono_ms() + REQUEST_WAIT_MS + 2000;
  while (rc == CG_OK && have < sizeof(*p) && cg_time_mono_ms() < end) {
    long n = cg_pipe_read(rd, (char *)p + have, sizeof(*p) - have, 200);
    if (n == 0 || n == -2) break;
    if (n > 0) have += (size_t)n;
  }
  if (ch) {
    struct cg_child_status st;
    for (int i = 0; i < 100 && !cg_child_ended(ch, &st); i++)
      cg_sleep_ms(10);
    cg_child_free(ch); /* killed when it has not ended */
    cg_pipe_close(rd);
  }
  if (rc == CG_OK && have == sizeof(*p) && plausible(p))
    cg_log_debug(sv->log, "served", "the request was read without privilege, by a worker (%s)",
                 relay ? "relayed through a pipe" : "from the connection");
  if (rc != CG_OK || have != sizeof(*p) || !plausible(p)) {
    cg_log_warn(sv->log, "served", "a request could not be read without privilege%s%s", why[0] ? ": " : "", why);
    memset(p, 0, sizeof(*p));
    p->rc = CG_ERR_PARSE;
    cg_snprintf(p->err, sizeof(p->err), "the service could not read the request");
  }
}

static void serve(struct cg_served *sv, struct cg_ipc_conn *c, struct user_slot *u) {
  char peer[96], err[300];
  cg_ipc_peer(c, peer, sizeof(peer));
  struct parsed got;
  take_request(sv, c, &got);
  if (got.rc != CG_OK) {
    refuse(sv, c, peer, got.err);
    return;
  }
  struct cg_served_request rq = got.rq;
  cg_mutex_lock(sv->m);
  int64_t now = cg_time_mono_ms(), gap = sv->s.min_gap_s * 1000, since = now - sv->last_start,
          ugap = sv->s.user_min_gap_s * 1000, usince = now - u->last_start, timeout_s = sv->s.timeout_s;
  bool enabled = sv->s.enabled, busy = sv->busy, early = sv->last_start >= 0 && since < gap,
       uearly = u->last_start >= 0 && usince < ugap;
  bool go = enabled && !busy && !early && !uearly;
  if (go) {
    sv->last_start = u->last_start = now;
    sv->busy = true;
  }
  cg_mutex_unlock(sv->m);
  if (!enabled) {
    refuse(sv, c, peer, "an administrator turned off self-tests through the service (service_selftest.enabled)");
  } else if (busy) {
    refuse(sv, c, peer, "the service is running a self-test for someone else; try again in a minute");
  } else if (uearly) {
    cg_snprintf(err, sizeof(err),
                "the service ran a self-test for this account %lld s ago and runs at most one every %lld s for "
                "the same account (service_selftest.user_min_gap_s); try again in %lld s",
                (long long)(usince / 1000), (long long)(ugap / 1000), (long long)((ugap - usince) / 1000 + 1));
    refuse(sv, c, peer, err);
  } else if (early) {
    cg_snprintf(err, sizeof(err),
                "the service ran a self-test %lld s ago and runs at most one every %lld s "
                "(service_selftest.min_gap_s); try again in %lld s",
                (long long)(since / 1000), (long long)(gap / 1000), (long long)((gap - since) / 1000 + 1));
    refuse(sv, c, peer, err);
  } else {
    run_worker(sv, c, peer, &rq, timeout_s);
    cg_mutex_lock(sv->m);
    sv->busy = false;
    cg_mutex_unlock(sv->m);
  }
}

/* Hanging up at once could drop what the client has not read yet (a pipe's disconnect does): wait
 * until it closes its end, for a few seconds at most. */
static void linger(struct cg_ipc_conn *c) {
  char sink[256];
  int64_t end = cg_time_mono_ms() + 10000;
  for (int64_t left; (left = end - cg_time_mono_ms()) > 0;) {
    long n = cg_ipc_read(c, sink, sizeof(sink), left);
    if (n == 0 || n == -2) break;
  }
}

struct conn_job {
  struct cg_served *sv;
  struct cg_ipc_conn *c;
  struct user_slot *u;
};

/* One connection, on a thread of its own. */
static void conn_thread(void *arg) {
  struct conn_job *j = arg;
  struct cg_served *sv = j->sv;
  cg_mutex_lock(sv->m);
  bool stop = sv->stop;
  cg_mutex_unlock(sv->m);
  release_sv = sv;
  release_slot = j->u;
  if (!stop) serve(sv, j->c, j->u);
  release_account(); /* when no last record was written */
  linger(j->c);
  cg_ipc_hangup(sv->srv, j->c);
  cg_mutex_lock(sv->m);
  sv->active--;
  cg_mutex_broadcast(sv->m);
  cg_mutex_unlock(sv->m);
  cg_free(j);
}

/* Takes a connection on, or refuses it at once when the caps are reached (nothing is read from it). */
static void take(struct cg_served *sv, struct cg_ipc_conn *c) {
  char key[96], peer[96];
  cg_ipc_peer_user(c, key, sizeof(key));
  cg_ipc_peer(c, peer, sizeof(peer));
  struct conn_job *j = cg_calloc(1, sizeof(*j));
  cg_mutex_lock(sv->m);
  struct user_slot *u = sv->active < MAX_CONNECTIONS ? user_slot(sv, key) : NULL;
  bool theirs = u && u->open >= MAX_PER_USER, ok = j && u && !theirs;
  if (ok) {
    u->open++;
    sv->active++;
  }
  cg_mutex_unlock(sv->m);
  if (ok) {
    *j = (struct conn_job){.sv = sv, .c = c, .u = u};
    if (cg_thread_start(conn_thread, j) == CG_OK) return;
    cg_mutex_lock(sv->m);
    u->open--;
    sv->active--;
    cg_mutex_unlock(sv->m);
  }
  cg_free(j);
  refuse(sv, c, peer,
         theirs ? "this account already has self-test requests open with the service"
                : "the service has too many self-test requests open; try again in a minute");
  cg_ipc_hangup(sv->srv, c);
}

static void listener(void *arg) {
  struct cg_served *sv = arg;
  for (;;) {
    cg_mutex_lock(sv->m);
    bool stop = sv->stop;
    cg_mutex_unlock(sv->m);
    if (stop) break;
    struct cg_ipc_conn *c = NULL;
    char err[300] = "";
    int rc = cg_ipc_accept(sv->srv, 500, &c, err, sizeof(err));
    if (rc == CG_ERR_TIMEOUT) continue;
    if (rc != CG_OK) {
      cg_log_warn(sv->log, "served", "%s", err);
      cg_sleep_ms(500);
      continue;
    }
    cg_mutex_lock(sv->m);
    stop = sv->stop;
    cg_mutex_unlock(sv->m);
    if (stop) {
      cg_ipc_hangup(sv->srv, c);
      break;
    }
    take(sv, c);
  }
  cg_mutex_lock(sv->m); /* the connections end (a self-test under way is stopped) before the channel closes */
  for (int i = 0; i < 100 && sv->active > 0; i++)
    cg_mutex_wait(sv->m, 100);
  bool idle = sv->active == 0;
  cg_mutex_unlock(sv->m);
  if (idle) cg_ipc_server_close(sv->srv);
  cg_mutex_lock(sv->m);
  sv->done = true;
  cg_mutex_broadcast(sv->m);
  cg_mutex_unlock(sv->m);
}

static void settings_copy(struct cg_served *sv, const struct cg_served_settings *s) {
  sv->s = *s;
  sv->s.config_path = NULL; /* the path never changes on reload: sv->config_path */
}

struct cg_served *cg_served_start(const char *worker_exe, struct cg_log *log, const struct cg_served_settings *s) {
  if (!s->enabled) {
    cg_log_info(log, "served", "self-tests through the service are turned off (service_selftest.enabled)");
    return NULL;
  }
  struct cg_served *sv = cg_calloc(1, sizeof(*sv));
  char err[512] = "";
  if (!sv) return NULL;
  sv->m = cg_mutex_new();
  sv->config_path = cg_strdup(s->config_path);
  sv->exe = cg_strdup(worker_exe);
  sv->endpoint = cg_ipc_endpoint();
  sv->log = log;
  sv->last_start = -1;
  settings_copy(sv, s);
  int rc = sv->m && sv->config_path && sv->exe && sv->endpoint ? cg_ipc_listen(sv->endpoint, &sv->srv, err, sizeof(err))
                                                               : CG_ERR_NOMEM;
  if (rc == CG_OK) rc = cg_thread_start(listener, sv);
  if (rc != CG_OK) {
    cg_log_warn(log, "served", "self-tests for standard users are not served: %s", err[0] ? err : cg_strerror(rc));
    cg_ipc_server_close(sv->srv);
    cg_mutex_free(sv->m);
    cg_free(sv->config_path);
    cg_free(sv->exe);
    cg_free(sv->endpoint);
    cg_free(sv);
    return NULL;
  }
  cg_log_info(log, "served", "serves self-tests for standard users on %s", sv->endpoint);
  return sv;
}

void cg_served_update(struct cg_served *sv, const struct cg_served_settings *s) {
  if (!sv) return;
  cg_mutex_lock(sv->m);
  settings_copy(sv, s);
  cg_mutex_unlock(sv->m);
}

void cg_served_stop(struct cg_served *sv) {
  if (!sv) return;
  cg_mutex_lock(sv->m);
  sv->stop = true;
  cg_mutex_unlock(sv->m);
  struct cg_ipc_conn *c = NULL;
  char err[300];
  if (cg_ipc_connect(sv->endpoint, &c, err, sizeof(err)) == CG_OK) /* wakes a listener that waits (Windows) */
    cg_ipc_close(c);
  cg_mutex_lock(sv->m);
  for (int i = 0; i < 50 && !sv->done; i++)
    cg_mutex_wait(sv->m, 100);
  bool done = sv->done;
  cg_mutex_unlock(sv->m);
  if (!done) return; /* the thread is still in a call: left to the end of the process */
  cg_mutex_free(sv->m);
  cg_free(sv->config_path);
  cg_free(sv->exe);
  cg_free(sv->endpoint);
  cg_free(sv);
}

/* ---- the user's side ---- */

struct stream {
  bool tty, running; /* a "running X..." line is on the screen */
  int exit_code;
  bool refused;
  int64_t deadline_s; /* what the service allows the self-test ("deadline N"), -1: not said */
};

static void on_line(struct stream *st, const char *line, size_t len, bool complete) {
  if (len && line[0] == CG_SERVED_RECORD) {
    char text[600];
    size_t n = len - 1 < sizeof(text) - 1 ? len - 1 : sizeof(text) - 1;
    memcpy(text, line + 1, n);
    text[n] = '\0';
    cg_strip_controls(text);
    if (!strncmp(text, "running ", 8) && st->tty) {
      printf("\r\033[K      %s...", text);
      st->running = true;
    } else if (!strncmp(text, "deadline ", 9)) {
      int64_t s = -1;
      st->deadline_s = cg_parse_i64(text + 9, &s) && s > 0 && s <= 86400 ? s : -1;
    } else if (!strncmp(text, "exit ", 5)) {
      int64_t code = 3;
      st->exit_code = cg_parse_i64(text + 5, &code) && code >= 0 && code <= 255 ? (int)code : 3;
    } else if (!strncmp(text, "refused ", 8) || !strncmp(text, "stopped ", 8)) {
      if (st->running) printf("\r\033[K");
      st->running = false;
      fflush(stdout);
      fprintf(stderr, "cmgdiag: the cmgdiag service %s the self-test: %s\n", text[0] == 'r' ? "did not run" : "stopped",
              text + 8);
      st->refused = true;
    }
  } else {
    if (st->running) printf("\r\033[K");
    st->running = false;
    fwrite(line, 1, len, stdout);
    if (complete) putchar('\n');
  }
  fflush(stdout);
}

static int connect_error(int rc, const char *endpoint, const char *err) {
  if (rc == CG_ERR_NOTFOUND)
    fprintf(stderr,
            "cmgdiag: this account may not read cmgdiag's configuration, and no cmgdiag service answers on %s.\n"
            "Run the self-test from an elevated prompt (Run as administrator; on Linux as root), or start the service "
            "(Windows: sc start cmgdiag; Linux: systemctl start cmgdiag) and try again.\n",
            endpoint);
  else if (rc == CG_ERR_BUSY)
    fprintf(stderr, "cmgdiag: the cmgdiag service is running a self-test for someone else; try again in a minute.\n");
  else
    fprintf(stderr, "cmgdiag: cannot ask the cmgdiag service for a self-test: %s\n", err);
  return 3;
}

int cg_served_selftest(const struct cg_served_request *rq, bool tty) {
  char *endpoint = cg_ipc_endpoint(), err[512] = "";
  struct cg_ipc_conn *c = NULL;
  int rc = endpoint ? cg_ipc_connect(endpoint, &c, err, sizeof(err)) : CG_ERR_NOMEM;
  if (rc != CG_OK) {
    rc = connect_error(rc, endpoint ? endpoint : "?", err);
    cg_free(endpoint);
    return rc;
  }
  cJSON *j = cJSON_CreateObject();
  if (rq->ticket[0]) cJSON_AddStringToObject(j, "ticket", rq->ticket);
  if (rq->only[0]) cJSON_AddStringToObject(j, "only", rq->only);
  if (rq->json) cJSON_AddTrueToObject(j, "json");
  if (rq->no_upload) cJSON_AddTrueToObject(j, "no_upload");
  if (rq->color) cJSON_AddTrueToObject(j, "color");
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  struct stream st = {.tty = tty, .exit_code = -1, .deadline_s = -1};
  /* A service that refuses at once (busy, too many requests) may close before the request is all
   * written: what it said is still read below. */
  bool unsent = !text || cg_ipc_write(c, text, strlen(text)) != CG_OK || cg_ipc_write(c, "\n", 1) != CG_OK;
  cJSON_free(text);
  /* lines as they come; a line longer than the buffer is passed on in pieces */
  static char buf[65536];
  size_t have = 0;
  /* The service answers at once (a refusal, or the deadline it gives the self-test) and stops the
   * self-test at that deadline: the client waits for the first answer FIRST_ANSWER_MS, then that
   * deadline and a minute more (an hour when the service does not say), never for ever. */
  int64_t t0 = cg_time_mono_ms(), end = t0 + FIRST_ANSWER_MS;
  bool answered = false, timed_out = false;
  while (st.exit_code < 0) {
    if (cg_time_mono_ms() >= end) {
      timed_out = true;
      break;
    }
    long n = cg_ipc_read(c, buf + have, sizeof(buf) - have, 1000);
    if (n == -1) continue;
    if (n <= 0) break;
    have += (size_t)n;
    size_t from = 0;
    for (char *nl; (nl = memchr(buf + from, '\n', have - from));) {
      on_line(&st, buf + from, (size_t)(nl - buf - from), true);
      from = (size_t)(nl - buf) + 1;
    }
    if (from == 0 && have == sizeof(buf)) {
      on_line(&st, buf, have, false);
      from = have;
    }
    memmove(buf, buf + from, have - from);
    have -= from;
    if (!answered || st.deadline_s > 0)
      end = t0 + (st.deadline_s > 0 ? (st.deadline_s + 60) * 1000 : (int64_t)3600 * 1000);
    answered = true;
  }
  if (have) on_line(&st, buf, have, false);
  cg_ipc_close(c);
  if (unsent && st.exit_code < 0 && !timed_out) {
    fprintf(stderr, "cmgdiag: the cmgdiag service closed the channel before the request was sent\n");
    cg_free(endpoint);
    return 3;
  }
  if (timed_out)
    fprintf(stderr, "cmgdiag: the cmgdiag service %s; giving up\n",
            answered ? "did not finish the self-test within its own deadline" : "did not answer within 30 seconds");
  else if (st.exit_code < 0)
    fprintf(stderr, "cmgdiag: the cmgdiag service ended the self-test without a result; its log (%s) says why\n",
            "cmgdiag.log");
  cg_free(endpoint);
  return st.exit_code < 0 ? 3 : st.exit_code;
}
