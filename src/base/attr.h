/* attr.h: the one warn-unused-result attribute of the tree. FUSION_WUR marks a result
 * whose neglect is a bug (every verify, decrypt, sign and store write). The modules' own
 * names (STORE_WUR, DESK_WUR, ...) are aliases of it, kept so that code written against
 * them still reads and compiles; new code uses FUSION_WUR. */
#ifndef FUSION_BASE_ATTR_H
#define FUSION_BASE_ATTR_H

#define FUSION_WUR __attribute__((warn_unused_result))

#endif
