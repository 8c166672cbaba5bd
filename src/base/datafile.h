/* datafile.h: where the data files shipped with fusion are (data/ of the source tree,
 * share/fusion installed), found once for every module: $FUSION_DATA, else next to the
 * running executable. */
#ifndef FUSION_BASE_DATAFILE_H
#define FUSION_BASE_DATAFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* The directory of the running executable (/proc/self/exe); false when it is unknown or
 * does not fit in cap. */
bool datafile_exe_dir(char *out, size_t cap);

/* out = $FUSION_DATA/REL when FUSION_DATA is set (and readable, else ERR_NOT_FOUND), else
 * the first readable of ../data/REL (build tree), ../share/fusion/REL (installed) and
 * ../../data/REL (a test binary's directory) next to the executable; ERR_NOT_FOUND naming
 * REL and FUSION_DATA otherwise. */
int datafile_find(const char *rel, char *out, size_t cap, err *e)
    __attribute__((warn_unused_result));

#endif
