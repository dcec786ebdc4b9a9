#ifndef BEGAWI_CCURL_SHIM_H
#define BEGAWI_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: Swift cannot call them.
// These wrappers fix the argument type, one per kind of option.
static inline CURLcode begawi_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_setopt_blob(CURL *h, CURLoption o, struct curl_blob *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*begawi_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode begawi_curl_setopt_callback(CURL *h, CURLoption o, begawi_curl_data_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_setopt_xferinfo(CURL *h, CURLoption o, curl_xferinfo_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode begawi_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode begawi_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode begawi_curl_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
/// CURLVERSION_NOW is a macro alias that Swift does not import.
static inline curl_version_info_data *begawi_curl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }
#endif
