/* The core reaching up into the app or the pipeline: must not compile. */
#include "cg.h"
#include "validate.h"
