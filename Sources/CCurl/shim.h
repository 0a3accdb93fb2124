// libcurl (Debian libcurl4-openssl-dev) for the firmware HTTP(S) downloads, loaded with dlopen:
// Swift calls libcurl through the function pointers in `ccurl_api`, filled by dlsym.
// curl_easy_setopt, curl_multi_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call: the typed wrappers below call them through the pointers.
#include <curl/curl.h>

typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t count, void *user);
typedef int (*ccurl_socket_callback)(CURL *easy, curl_socket_t socket, int what, void *user, void *socketUser);
typedef int (*ccurl_timer_callback)(CURLM *multi, long timeoutMilliseconds, void *user);

/// The libcurl functions the agent uses, as dlsym returned them (cast back to their types by
/// the wrappers below: Swift cannot represent variadic function pointers).
typedef struct ccurl_api {
    void *global_init, *easy_init, *easy_cleanup, *easy_setopt, *easy_getinfo, *easy_strerror;
    void *multi_init, *multi_cleanup, *multi_setopt, *multi_add_handle, *multi_remove_handle;
    void *multi_socket_action, *multi_info_read, *multi_strerror, *slist_append, *slist_free_all;
} ccurl_api;

static inline CURLcode ccurl_global_init(const ccurl_api *api, long flags) {
    return ((CURLcode (*)(long))api->global_init)(flags);
}
static inline CURL *ccurl_easy_init(const ccurl_api *api) { return ((CURL *(*)(void))api->easy_init)(); }
static inline void ccurl_easy_cleanup(const ccurl_api *api, CURL *easy) { ((void (*)(CURL *))api->easy_cleanup)(easy); }
static inline const char *ccurl_easy_strerror(const ccurl_api *api, CURLcode code) {
    return ((const char *(*)(CURLcode))api->easy_strerror)(code);
}
static inline CURLM *ccurl_multi_init(const ccurl_api *api) { return ((CURLM *(*)(void))api->multi_init)(); }
static inline CURLMcode ccurl_multi_cleanup(const ccurl_api *api, CURLM *multi) {
    return ((CURLMcode (*)(CURLM *))api->multi_cleanup)(multi);
}
static inline CURLMcode ccurl_multi_add_handle(const ccurl_api *api, CURLM *multi, CURL *easy) {
    return ((CURLMcode (*)(CURLM *, CURL *))api->multi_add_handle)(multi, easy);
}
static inline CURLMcode ccurl_multi_remove_handle(const ccurl_api *api, CURLM *multi, CURL *easy) {
    return ((CURLMcode (*)(CURLM *, CURL *))api->multi_remove_handle)(multi, easy);
}
static inline CURLMcode ccurl_multi_socket_action(const ccurl_api *api, CURLM *multi, curl_socket_t socket, int mask,
                                                  int *running) {
    return ((CURLMcode (*)(CURLM *, curl_socket_t, int, int *))api->multi_socket_action)(multi, socket, mask, running);
}
static inline CURLMsg *ccurl_multi_info_read(const ccurl_api *api, CURLM *multi, int *queued) {
    return ((CURLMsg *(*)(CURLM *, int *))api->multi_info_read)(multi, queued);
}
static inline const char *ccurl_multi_strerror(const ccurl_api *api, CURLMcode code) {
    return ((const char *(*)(CURLMcode))api->multi_strerror)(code);
}
static inline struct curl_slist *ccurl_slist_append(const ccurl_api *api, struct curl_slist *list, const char *text) {
    return ((struct curl_slist *(*)(struct curl_slist *, const char *))api->slist_append)(list, text);
}
static inline void ccurl_slist_free_all(const ccurl_api *api, struct curl_slist *list) {
    ((void (*)(struct curl_slist *))api->slist_free_all)(list);
}

typedef CURLcode (*ccurl_easy_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*ccurl_easy_getinfo_fn)(CURL *, CURLINFO, ...);
typedef CURLMcode (*ccurl_multi_setopt_fn)(CURLM *, CURLMoption, ...);

static inline CURLcode ccurl_easy_setopt_long(const ccurl_api *api, CURL *easy, CURLoption option, long value) {
    return ((ccurl_easy_setopt_fn)api->easy_setopt)(easy, option, value);
}
static inline CURLcode ccurl_easy_setopt_string(const ccurl_api *api, CURL *easy, CURLoption option, const char *value) {
    return ((ccurl_easy_setopt_fn)api->easy_setopt)(easy, option, value);
}
static inline CURLcode ccurl_easy_setopt_pointer(const ccurl_api *api, CURL *easy, CURLoption option, void *value) {
    return ((ccurl_easy_setopt_fn)api->easy_setopt)(easy, option, value);
}
static inline CURLcode ccurl_easy_setopt_write_function(const ccurl_api *api, CURL *easy, CURLoption option,
                                                        ccurl_write_callback callback) {
    return ((ccurl_easy_setopt_fn)api->easy_setopt)(easy, option, callback);
}
static inline CURLcode ccurl_easy_getinfo_long(const ccurl_api *api, CURL *easy, CURLINFO info, long *value) {
    return ((ccurl_easy_getinfo_fn)api->easy_getinfo)(easy, info, value);
}
static inline CURLMcode ccurl_multi_setopt_socket_function(const ccurl_api *api, CURLM *multi, ccurl_socket_callback callback) {
    return ((ccurl_multi_setopt_fn)api->multi_setopt)(multi, CURLMOPT_SOCKETFUNCTION, callback);
}
static inline CURLMcode ccurl_multi_setopt_timer_function(const ccurl_api *api, CURLM *multi, ccurl_timer_callback callback) {
    return ((ccurl_multi_setopt_fn)api->multi_setopt)(multi, CURLMOPT_TIMERFUNCTION, callback);
}
static inline CURLMcode ccurl_multi_setopt_pointer(const ccurl_api *api, CURLM *multi, CURLMoption option, void *value) {
    return ((ccurl_multi_setopt_fn)api->multi_setopt)(multi, option, value);
}
static inline CURLcode ccurl_message_result(const CURLMsg *message) { return message->data.result; }
