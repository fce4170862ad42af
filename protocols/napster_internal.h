/* napster_internal.h — what napster.c shows its tests: the message types and their sizes. */
#ifndef P2PLAB_NAPSTER_INTERNAL_H
#define P2PLAB_NAPSTER_INTERNAL_H

#include <stddef.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

/* Sizes on the wire, from the Napster protocol as documented by OpenNap ("napster messages",
 * drscholl, 2000): every client-server message is <length><type><data>, 2 + 2 bytes and an
 * ASCII body, on TCP (40 B of TCP/IP headers per message). Bodies, with a 12-byte nick, a
 * 64-byte file name ("random band - generic cowboy song.mp3" and a path) and its 32-hex-digit
 * MD5:
 *   login (2): <nick> <password> <port> "<client-info>" <link-type>           ~44 B
 *   login ack (3): <email>                                                    ~20 B
 *   shared file (100): "<filename>" <md5> <size> <bitrate> <frequency> <time>  121 B + 4
 *   search (200): FILENAME CONTAINS "..." MAX_RESULTS <n> ...                 ~64 B
 *   search result (201): "<filename>" <md5> <size> <bitrate> <frequency> <length> <nick>
 *                        <ip> <link-type>                                      147 B + 4
 *   end of search (202): empty                                                  4 B
 *   ping (751) / pong (752): <user>                                            12 B + 4
 * A search relayed between servers carries the searcher's nick besides (12 B). Logout is the
 * TCP connection's close (a bare header here). Clients measure RTTs with ICMP echo: IPv4 20 B
 * + ICMP 8 B + 56 B of data (ping's default), no TCP. */
#define NAPSTER_WIRE_TCPIP 40
#define NAPSTER_WIRE_HDR 4
#define NAPSTER_WIRE_NICK 12
#define NAPSTER_WIRE_LOGIN 44
#define NAPSTER_WIRE_LOGIN_ACK 20
#define NAPSTER_WIRE_FILE (NAPSTER_WIRE_HDR + 121)
#define NAPSTER_WIRE_SEARCH 64
#define NAPSTER_WIRE_RESULT (NAPSTER_WIRE_HDR + 147)
#define NAPSTER_WIRE_ICMP_ECHO 84

/* X(type, bytes on the wire before the list (transport headers included), bytes per list
 * item). TCP messages carry NAPSTER_WIRE_TCPIP; the ICMP echo carries its own headers. The
 * category follows from the lookup a message serves: searches and pings are lookup traffic,
 * the rest maintenance. */
#define NAPSTER_TCP(bytes) (NAPSTER_WIRE_TCPIP + (bytes))
#define NAPSTER_MESSAGES(X)                                                                    \
    /* login and a batch of "shared file" notifications; the ack */                           \
    X(NAPSTER_MSG_UPLOAD_REQ, NAPSTER_TCP(NAPSTER_WIRE_HDR + NAPSTER_WIRE_LOGIN), NAPSTER_WIRE_FILE) \
    X(NAPSTER_MSG_UPLOAD_REP, NAPSTER_TCP(NAPSTER_WIRE_HDR + NAPSTER_WIRE_LOGIN_ACK), 0)       \
    /* a leaving client closes its session */                                                  \
    X(NAPSTER_MSG_GOODBYE, NAPSTER_TCP(NAPSTER_WIRE_HDR), 0)                                   \
    /* keep-alive (server -> client) and probe (client -> server): ping / pong */             \
    X(NAPSTER_MSG_KEEPALIVE_REQ, NAPSTER_TCP(NAPSTER_WIRE_HDR + NAPSTER_WIRE_NICK), 0)         \
    X(NAPSTER_MSG_KEEPALIVE_REP, NAPSTER_TCP(NAPSTER_WIRE_HDR + NAPSTER_WIRE_NICK), 0)         \
    /* search and its results, then end of search */                                           \
    X(NAPSTER_MSG_QUERY_REQ, NAPSTER_TCP(NAPSTER_WIRE_HDR + NAPSTER_WIRE_SEARCH), 0)           \
    X(NAPSTER_MSG_QUERY_REP, NAPSTER_TCP(NAPSTER_WIRE_HDR), NAPSTER_WIRE_RESULT)               \
    /* a search relayed to another server, and its results */                                  \
    X(NAPSTER_MSG_FORWARD_REQ,                                                                 \
      NAPSTER_TCP(NAPSTER_WIRE_HDR + NAPSTER_WIRE_SEARCH + NAPSTER_WIRE_NICK), 0)             \
    X(NAPSTER_MSG_FORWARD_REP, NAPSTER_TCP(NAPSTER_WIRE_HDR), NAPSTER_WIRE_RESULT)             \
    /* RTT probe of a candidate holder: ICMP echo request / reply */                           \
    X(NAPSTER_MSG_PING_REQ, NAPSTER_WIRE_ICMP_ECHO, 0)                                         \
    X(NAPSTER_MSG_PING_REP, NAPSTER_WIRE_ICMP_ECHO, 0)
KIT_MSG_DECLARE(napster, NAPSTER, NAPSTER_MESSAGES);

extern const struct protocol napster_protocol;
/* Bytes on the wire of a message of `type` carrying `items` list entries (files, results). */
size_t napster_wire_size(unsigned type, unsigned items);

#endif
