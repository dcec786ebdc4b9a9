#include "COpenAPI.h"

// The repository's docs/openapi.yaml, embedded by the compiler (C23 #embed), so that the installed
// binary serves it with no file beside it to lose, and no generated copy to keep in step.
static const unsigned char text[] = {
#embed "../../docs/openapi.yaml"
};

const unsigned char *begawi_openapi_yaml(size_t *length) {
    *length = sizeof text;
    return text;
}
