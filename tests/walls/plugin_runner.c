/* A check reaching for the runner, which would let it run other checks itself: must not compile. */
#include "plugin.h"
#include "runner.h"
