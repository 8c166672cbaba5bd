/* datafile.c: the shipped data files, found the same way by every module (datafile.h). */
#include "base/datafile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool datafile_exe_dir(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    int k = snprintf(out, cap, "%s", exe);
    return k > 0 && (size_t)k < cap;
}

int datafile_find(const char *rel, char *out, size_t cap, err *e)
{
    const char *env = getenv("FUSION_DATA");
    if (env && *env) {
        int k = snprintf(out, cap, "%s/%s", env, rel);
        if (k > 0 && (size_t)k < cap && access(out, R_OK) == 0)
            return 0;
        return err_set(e, ERR_NOT_FOUND, "cannot read %s (from FUSION_DATA)", out);
    }
    char dir[PATH_MAX];
    if (datafile_exe_dir(dir, sizeof dir)) {
        static const char *const rels[] = {"../data", "../share/fusion", "../../data"};
        for (size_t i = 0; i < sizeof rels / sizeof *rels; i++) {
            int k = snprintf(out, cap, "%s/%s/%s", dir, rels[i], rel);
            if (k > 0 && (size_t)k < cap && access(out, R_OK) == 0)
                return 0;
        }
    }
    return err_set(e, ERR_NOT_FOUND,
                   "cannot find the shipped data/%s: set FUSION_DATA to the data directory", rel);
}
