// libgpiod v1 (Debian bookworm's 1.6, libgpiod.so.2), loaded with dlopen: Swift calls libgpiod
// through the function pointers in `cgpiod_api`, filled by dlsym (Sources/GPIO/GPIODLibrary.swift).
// Each wrapper casts its pointer back to the type of the function it stands for (taken from the
// libgpiod declaration itself with __typeof__, so a signature cannot drift from the header).
// Nothing here links libgpiod: only the types, constants and declarations are used.
#ifndef LWM2M_AGENT_CGPIOD_SHIM_H
#define LWM2M_AGENT_CGPIOD_SHIM_H

#include <gpiod.h>

/// The libgpiod functions the agent uses, as dlsym returned them (one field per function, named
/// after it without the `gpiod_` prefix).
typedef struct cgpiod_api {
    void *version_string;
    // chips
    void *chip_open, *chip_close, *chip_name, *chip_label, *chip_num_lines, *chip_find_line;
    // line information
    void *line_offset, *line_consumer, *line_direction, *line_active_state, *line_is_used, *line_update;
    void *line_get_chip;
    // requests, values, edge events
    void *line_request, *line_release, *line_get_value, *line_set_value;
    void *line_event_get_fd, *line_event_read_fd_multiple;
} cgpiod_api;

#define CGPIOD(api, name) ((__typeof__(&gpiod_##name))(api)->name)

static inline const char *cgpiod_version_string(const cgpiod_api *api) { return CGPIOD(api, version_string)(); }

// MARK: Chips

static inline struct gpiod_chip *cgpiod_chip_open(const cgpiod_api *api, const char *path) {
    return CGPIOD(api, chip_open)(path);
}
static inline void cgpiod_chip_close(const cgpiod_api *api, struct gpiod_chip *chip) { CGPIOD(api, chip_close)(chip); }
static inline const char *cgpiod_chip_name(const cgpiod_api *api, struct gpiod_chip *chip) {
    return CGPIOD(api, chip_name)(chip);
}
static inline const char *cgpiod_chip_label(const cgpiod_api *api, struct gpiod_chip *chip) {
    return CGPIOD(api, chip_label)(chip);
}
static inline unsigned int cgpiod_chip_num_lines(const cgpiod_api *api, struct gpiod_chip *chip) {
    return CGPIOD(api, chip_num_lines)(chip);
}
static inline struct gpiod_line *cgpiod_chip_find_line(const cgpiod_api *api, struct gpiod_chip *chip,
                                                       const char *name) {
    return CGPIOD(api, chip_find_line)(chip, name);
}

// MARK: Line information

static inline unsigned int cgpiod_line_offset(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_offset)(line);
}
static inline const char *cgpiod_line_consumer(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_consumer)(line);
}
static inline int cgpiod_line_direction(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_direction)(line);
}
static inline int cgpiod_line_active_state(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_active_state)(line);
}
static inline bool cgpiod_line_is_used(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_is_used)(line);
}
static inline int cgpiod_line_update(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_update)(line);
}
static inline struct gpiod_chip *cgpiod_line_get_chip(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_get_chip)(line);
}

// MARK: Requests, values, edge events

static inline int cgpiod_line_request(const cgpiod_api *api, struct gpiod_line *line,
                                      const struct gpiod_line_request_config *config, int default_val) {
    return CGPIOD(api, line_request)(line, config, default_val);
}
static inline void cgpiod_line_release(const cgpiod_api *api, struct gpiod_line *line) {
    CGPIOD(api, line_release)(line);
}
static inline int cgpiod_line_get_value(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_get_value)(line);
}
static inline int cgpiod_line_set_value(const cgpiod_api *api, struct gpiod_line *line, int value) {
    return CGPIOD(api, line_set_value)(line, value);
}
static inline int cgpiod_line_event_get_fd(const cgpiod_api *api, struct gpiod_line *line) {
    return CGPIOD(api, line_event_get_fd)(line);
}
static inline int cgpiod_line_event_read_fd_multiple(const cgpiod_api *api, int fd, struct gpiod_line_event *events,
                                                     unsigned int num_events) {
    return CGPIOD(api, line_event_read_fd_multiple)(fd, events, num_events);
}

#endif
