/* The same through the agent's folder: must not compile either. */
#include "pipeline/runner.h"
#include "plugin.h"
