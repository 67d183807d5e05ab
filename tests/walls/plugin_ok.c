/* What a check may include: the plugin API, core's and net's headers, and (for now, agent/README.md)
 * platform's. This must compile with the plugins' include folders (run.sh). */
#include "discovery.h"
#include "findings.h"
#include "http.h"
#include "platform/fs.h"
#include "plugin.h"

int cg_wall_probe(void);
int cg_wall_probe(void) { return CG_OK; }
