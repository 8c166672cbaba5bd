/* contracts.c: the built artifacts of data/contracts (abi + creation code) turned into
 * deployment data and calldata, with arguments written as cast writes them. */
#include "devnet/devnet.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eth/abi.h"

struct devnet_artifact {
    abi_json *abi;
    buf code;
};

int devnet_artifact_load(devnet_artifact **out, const char *name, err *e)
{
    *out = NULL;
    char rel[128], path[4096];
    snprintf(rel, sizeof rel, "contracts/%s.json", name);
    if (devnet_data_path(path, sizeof path, rel, e) < 0)
        return -1;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return err_set(e, ERR_INVALID, "%s:%d: %s", path, je.line, je.text);
    devnet_artifact *a = calloc(1, sizeof *a);
    if (!a) {
        json_decref(root);
        return err_set(e, ERR_NOMEM, "out of memory loading %s", name);
    }
    buf_init(&a->code);
    const char *hex = json_string_value(json_object_get(root, "bytecode"));
    char *text = json_dumps(root, JSON_COMPACT);
    int rc = -1;
    if (!hex || !text) {
        err_set(e, ERR_INVALID, "%s has no \"bytecode\": rebuild with scripts/contracts build",
                path);
    } else if (hex_decode_buf(&a->code, hex, strlen(hex), HEX_REQUIRE_PREFIX, e) < 0 ||
               abi_json_parse(&a->abi, text, strlen(text), e) < 0) {
        err_prefix(e, "%s", path);
    } else {
        rc = 0;
    }
    free(text);
    json_decref(root);
    if (rc < 0) {
        devnet_artifact_free(&a);
        return -1;
    }
    *out = a;
    return 0;
}

void devnet_artifact_free(devnet_artifact **p)
{
    if (!p || !*p)
        return;
    abi_json_free(&(*p)->abi);
    buf_free(&(*p)->code);
    free(*p);
    *p = NULL;
}

const struct abi_json *devnet_artifact_abi(const devnet_artifact *a)
{
    return a->abi;
}

static int encode_args(const abi_type *inputs, const char *args, buf *out, err *e)
{
    abi_value *v = NULL;
    if (abi_value_parse(&v, inputs, args ? args : "()", e) < 0)
        return -1;
    int rc = abi_encode(out, inputs, v, e);
    abi_value_free(&v);
    return rc;
}

int devnet_artifact_deploy_data(const devnet_artifact *a, const char *args, buf *out, err *e)
{
    if (buf_append(out, a->code.data, a->code.len, e) < 0)
        return -1;
    const abi_fn *ctor = abi_json_constructor(a->abi);
    if (!ctor)
        return args ? err_set(e, ERR_INVALID, "the contract has no constructor arguments") : 0;
    if (encode_args(ctor->inputs, args, out, e) < 0)
        return err_prefix(e, "constructor arguments");
    return 0;
}

int devnet_artifact_calldata(const devnet_artifact *a, const char *fn, const char *args, buf *out,
                             err *e)
{
    return abi_json_calldata(out, a->abi, fn, args, e);
}
