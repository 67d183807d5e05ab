/* A check reaching into the app (the validate gate): must not compile. */
#include "plugin.h"
#include "validate.h"
