/* cmgprobe's transcript as the check's capture (tape.h, docs/checks/cmgprobe.md "Transcripts"):
 * recorded while `collect` runs the probe, judged offline by `--input`. */
#include <string.h>

#include "platform/sys.h"
#include "probe.h"

static int parse_transcript(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                            size_t errlen) {
  (void)env;
  struct probe_ctx *c = vctx;
  if (c->transcript) {
    cg_snprintf(err, errlen, "a second transcript; the first one by name is judged");
    return CG_ERR_PARSE;
  }
  return probe_tape_load(f->data, f->len, &c->transcript, err, errlen);
}

static const char *const transcript_suffixes[] = {".json", NULL};

const struct cg_source probe_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .suffixes = transcript_suffixes,
    .max_bytes = 16u * 1024 * 1024,
    .code_prefix = "CMGPROBE",
    .what = "a cmgprobe transcript (transcript.json)",
    .how = "Record one on the device with 'cmgdiag collect --out FOLDER' (FOLDER\\cmgprobe\\transcript.json).",
    .parse = parse_transcript,
    .snapshot_only = true,
};

void probe_fini(void *vctx) {
  struct probe_ctx *c = vctx;
  cJSON_Delete(c->transcript);
  c->transcript = NULL;
}

/* The transcript of a recorded probe: every event, when it was taken, where. */
static void write_transcript(const struct cg_env *env, struct probe_tape *t, int64_t taken) {
  cJSON *o = cJSON_CreateObject();
  char when[40], *host = cg_hostname();
  cg_time_rfc3339(taken, when, sizeof(when));
  cJSON_AddStringToObject(o, "schema", PROBE_TAPE_SCHEMA);
  cJSON_AddStringToObject(o, "taken_at", when);
  cJSON_AddStringToObject(o, "host", host ? host : "");
  cJSON_AddStringToObject(o, "platform", cg_platform_name());
  cJSON_AddItemToObject(o, "events", t->events ? t->events : cJSON_CreateArray());
  t->events = NULL;
  char *text = cJSON_Print(o);
  if (text) env->capture_put(env, "cmgprobe", "transcript.json", text, strlen(text));
  cJSON_free(text);
  cJSON_Delete(o);
  cg_free(host);
}

int probe_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct probe_ctx *c = vctx;
  struct probe_tape tape;
  memset(&tape, 0, sizeof(tape));
  if (env->input && c->transcript) {
    tape.mode = PROBE_TAPE_REPLAY;
    tape.events = cJSON_GetObjectItemCaseSensitive(c->transcript, "events"); /* borrowed */
  } else if (env->capture_put) {
    tape.mode = PROBE_TAPE_RECORD;
  }
  int64_t taken = cg_time_utc_ms();
  probe_tape_set(tape.mode ? &tape : NULL);
  int rc = probe_run_checks(vctx, env, res);
  probe_tape_set(NULL);
  if (tape.mode == PROBE_TAPE_RECORD) {
    if (rc == CG_OK) write_transcript(env, &tape, taken);
    cJSON_Delete(tape.events);
    return rc;
  }
  if (tape.mode != PROBE_TAPE_REPLAY) return rc;
  cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "source");
  cJSON_AddStringToObject(res->facts, "source", "transcript");
  const char *when = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->transcript, "taken_at"));
  if (when) cJSON_AddStringToObject(res->facts, "judged_as_of", when);
  int left = cJSON_GetArraySize(tape.events) - tape.next;
  if (rc == CG_OK && !tape.error[0] && left > 0)
    cg_snprintf(tape.error, sizeof(tape.error), "the probe asked %d question(s) fewer than the transcript answers",
                left);
  if (rc == CG_OK && tape.error[0]) {
    /* the transcript was made by a probe that took another path (another version, other settings):
     * its verdict is not this one's to give */
    rc = cg_result_set(res, CG_ERROR, "CMGPROBE_TRANSCRIPT_MISMATCH",
                       "Judge the transcript with the settings it was recorded with (a snapshot carries them), or "
                       "record it again with this version ('cmgdiag collect').",
                       "The transcript does not fit this probe: %s.", tape.error);
  }
  return rc;
}
