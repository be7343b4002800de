// The target is header-only (prefetch.h); SwiftPM needs one source file to build a C target.
#include "prefetch.h"
