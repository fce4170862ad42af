/* registry.c — the table of every protocol, looked up by name. */
#include "protocols/protocol.h"

#include <string.h>

extern const struct protocol chord_protocol;
extern const struct protocol pastry_protocol;
extern const struct protocol kelips_protocol;
extern const struct protocol kademlia_protocol;
extern const struct protocol napster_protocol;
extern const struct protocol gnutella_protocol;
extern const struct protocol fasttrack_protocol;
extern const struct protocol bittorrent_protocol;

/* Lookup overlays, then file search, then content distribution. */
const struct protocol *const protocol_registry[] = {
    &chord_protocol,
    &pastry_protocol,
    &kelips_protocol,
    &kademlia_protocol,
    &napster_protocol,
    &gnutella_protocol,
    &fasttrack_protocol,
    &bittorrent_protocol,
    NULL,
};

const struct protocol *protocol_find(const char *name)
{
    for (const struct protocol *const *p = protocol_registry; *p; p++)
        if (strcmp((*p)->name, name) == 0)
            return *p;
    return NULL;
}
