/*
 * rdp_responder.c - a minimal Remote Desktop responder for check.rdp's
 * tests: it answers the X.224 Connection Request the way an RDP server's
 * first packet does ([MS-RDPBCGR] 2.2.1.2), and nothing more.
 *
 *   rdp_responder PORTFILE MODE
 *
 * Listens on 127.0.0.1 at an ephemeral port, writes the port to PORTFILE,
 * and answers each connection (one at a time) by MODE:
 *   select:N    a Connection Confirm with an RDP Negotiation Response selecting protocol N
 *               (only when the request asked for N, or N is 0; else a failure, code 1)
 *   fail:N      an RDP Negotiation Failure with code N
 *   legacy      a Connection Confirm without negotiation data (an old server)
 *   close       closes the connection without answering (a service still starting)
 *   garbage     answers "SSH-2.0-OpenSSH_9.2\r\n" (another service on the port)
 *   silent      reads the request and never answers
 * It checks the request it reads (TPKT version 3, X.224 CR, RDP_NEG_REQ) and
 * answers a malformed one with nothing but closing. Stops after 60 s or on
 * SIGTERM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int read_n(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The request's requestedProtocols, or -1 when the request is not a well-formed X.224 CR with RDP_NEG_REQ. */
static long read_request(int fd)
{
	unsigned char p[512];
	if (read_n(fd, p, 4) != 0 || p[0] != 3)
		return -1;
	size_t len = (size_t)p[2] << 8 | p[3];
	if (len < 19 || len > sizeof p || read_n(fd, p + 4, len - 4) != 0)
		return -1;
	if (p[4] != len - 5 || p[5] != 0xE0)
		return -1;
	const unsigned char *neg = p + len - 8;
	if (neg[0] != 0x01 || neg[2] != 8 || neg[3] != 0)
		return -1;
	return (long)((uint32_t)neg[4] | (uint32_t)neg[5] << 8 | (uint32_t)neg[6] << 16 | (uint32_t)neg[7] << 24);
}

static void confirm(int fd, int type, uint32_t value, int with_neg)
{
	unsigned char p[19] = {3, 0, 0, 19, 14, 0xD0, 0, 0, 0x12, 0x34, 0};
	if (!with_neg) {
		p[3] = 11;
		p[4] = 6;
	} else {
		p[11] = (unsigned char)type;
		p[12] = type == 2 ? 0x1F : 0;
		p[13] = 8;
		for (int i = 0; i < 4; i++)
			p[15 + i] = (unsigned char)(value >> (8 * i));
	}
	(void)!write(fd, p, with_neg ? 19 : 11);
}

static void answer(int fd, const char *mode)
{
	long requested = read_request(fd);
	if (requested < 0)
		return;
	if (strncmp(mode, "select:", 7) == 0) {
		uint32_t n = (uint32_t)strtoul(mode + 7, NULL, 0);
		if (n == 0 || (n & (uint32_t)requested))
			confirm(fd, 2, n, 1);
		else
			confirm(fd, 3, 1, 1);
	} else if (strncmp(mode, "fail:", 5) == 0) {
		confirm(fd, 3, (uint32_t)strtoul(mode + 5, NULL, 0), 1);
	} else if (strcmp(mode, "legacy") == 0) {
		confirm(fd, 0, 0, 0);
	} else if (strcmp(mode, "garbage") == 0) {
		(void)!write(fd, "SSH-2.0-OpenSSH_9.2\r\n", 21);
	} else if (strcmp(mode, "silent") == 0) {
		sleep(30);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rdp_responder PORTFILE MODE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
		perror("rdp_responder");
		return 1;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (strcmp(argv[2], "close") != 0)
			answer(c, argv[2]);
		close(c);
	}
}
