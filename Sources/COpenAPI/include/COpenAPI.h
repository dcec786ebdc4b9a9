#ifndef BEGAWI_COPENAPI_H
#define BEGAWI_COPENAPI_H
#include <stddef.h>

/// The bytes of docs/openapi.yaml as they were when the hub was built; `length` receives their count.
const unsigned char *begawi_openapi_yaml(size_t *length);
#endif
