/* Minimal assertions for cmgdiag's C tests: every CHECK counts, failures print file:line and the
 * expression, and the test's exit code is non-zero when any CHECK failed. */
#ifndef CG_TEST_H
#define CG_TEST_H

#include <stdio.h>
#include <string.h>

static int t_checks, t_failed;

#define CHECK(cond)                                                                                                    \
  do {                                                                                                                 \
    t_checks++;                                                                                                        \
    if (!(cond)) {                                                                                                     \
      t_failed++;                                                                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                         \
    }                                                                                                                  \
  } while (0)

#define CHECK_STR(a, b)                                                                                                \
  do {                                                                                                                 \
    const char *a_ = (a), *b_ = (b);                                                                                   \
    t_checks++;                                                                                                        \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                                           \
      t_failed++;                                                                                                      \
      fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,              \
              a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                                                 \
    }                                                                                                                  \
  } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                                    \
  do {                                                                                                                 \
    const char *h_ = (hay), *n_ = (needle);                                                                            \
    t_checks++;                                                                                                        \
    if (!h_ || !strstr(h_, n_)) {                                                                                      \
      t_failed++;                                                                                                      \
      fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,            \
              h_ ? h_ : "(null)", n_);                                                                                 \
    }                                                                                                                  \
  } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                                                      \
  do {                                                                                                                 \
    int before_ = t_failed;                                                                                            \
    name();                                                                                                            \
    printf("%s %s\n", t_failed == before_ ? "ok  " : "FAIL", #name);                                                   \
  } while (0)

static int test_finish(const char *suite) {
  printf("%s: %d checks, %d failed\n", suite, t_checks, t_failed);
  return t_failed ? 1 : 0;
}

#endif
