/* internal.h: what the files of src/compliance share and nobody else needs: quoting
 * untrusted text in errors, and the evidence details the lists keep (which file named an
 * address, a jurisdiction's name). */
#ifndef FUSION_COMPLIANCE_INTERNAL_H
#define FUSION_COMPLIANCE_INTERNAL_H

#include <stddef.h>

#include "compliance/screen.h"

/* A printable, bounded copy of untrusted text for error messages: bytes outside printable
 * ASCII become '?', and more than SCREEN_EXCERPT_MAX bytes end in "...". Returns out. */
#define SCREEN_EXCERPT_MAX 48
const char *screen_excerpt(char out[SCREEN_EXCERPT_MAX + 4], const char *s, size_t len);

/* Where a listed address came from: "sanctioned_addresses_ETH.txt line 12", or for the
 * desk list "desk.txt line 3: <reason>". Returns false when a is not listed. */
bool screen_sanctions_source(const screen_sanctions *s, const addr *a, char *out, size_t cap);
/* The list's name for a listed jurisdiction, or NULL. */
const char *screen_fatf_name(const screen_fatf *f, const char *iso2);

#endif
