/*
 * backends/sim_util.c - the simulator's small tools: string hashing,
 * counter-based random numbers and GUIDs (its string maps are util/index.h's).
 *
 * Randomness is never a sequence: every draw is a hash of what it is about
 * (the seed, the VM, its operation count, the task), so it does not depend
 * on the order in which calls arrive, and a state file plus a seed replay
 * exactly.
 */
#include "backends/sim_int.h"

#include <string.h>

/* FNV-1a, then a final mix so that short strings spread. */
uint64_t sim_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= UINT64_C(0x100000001b3);
	}
	return sim_mix(h, 0);
}

/* splitmix64 of a combined with b. */
uint64_t sim_mix(uint64_t a, uint64_t b)
{
	uint64_t z = a + UINT64_C(0x9e3779b97f4a7c15) * (b + 1);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

int64_t sim_between(uint64_t h, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(h % (uint64_t)(hi - lo + 1));
}

double sim_unit(uint64_t h)
{
	return (double)(h >> 11) / 9007199254740992.0; /* 2^53 */
}

/* v's low `digits` nibbles in lowercase hex, zero-padded, two per table lookup; the end of what was written. */
static char *put_hex(char *p, uint64_t v, int digits)
{
	static const char pairs[] =
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f"
		"303132333435363738393a3b3c3d3e3f"
		"404142434445464748494a4b4c4d4e4f"
		"505152535455565758595a5b5c5d5e5f"
		"606162636465666768696a6b6c6d6e6f"
		"707172737475767778797a7b7c7d7e7f"
		"808182838485868788898a8b8c8d8e8f"
		"909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
		"b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		"c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		"d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
		"e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	int i = digits;
	for (; i >= 2; i -= 2, v >>= 8)
		memcpy(p + i - 2, pairs + 2 * (v & 0xffu), 2);
	if (i)
		p[0] = pairs[2 * (v & 0xfu) + 1];
	return p + digits;
}

/* As "%08x-%04x-4%03x-%04x-%012llx" would print it, by hand: a job, a point and a call each take one. */
void sim_guid(uint64_t a, uint64_t b, char *out)
{
	char *p = put_hex(out, a >> 32, 8);
	*p++ = '-';
	p = put_hex(p, (a >> 16) & 0xffffu, 4);
	*p++ = '-';
	*p++ = '4';
	p = put_hex(p, a & 0xfffu, 3);
	*p++ = '-';
	p = put_hex(p, 0x8000u | ((b >> 48) & 0x3fffu), 4);
	*p++ = '-';
	p = put_hex(p, b & UINT64_C(0xffffffffffff), 12);
	*p = '\0';
}
