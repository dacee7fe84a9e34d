/* Freestanding configuration of XZ Embedded for wasm32 (no libc): replaces upstream's
 * userspace/xz_config.h. The allocator and the mem* functions come from ../libc.c. */
#ifndef XZ_CONFIG_H
#define XZ_CONFIG_H

#define XZ_DEC_CONCATENATED /* xz_dec_catrun(): concatenated streams and stream padding */
#define XZ_USE_CRC64
#define XZ_USE_SHA256
#define XZ_DEC_X86
#define XZ_DEC_ARM
#define XZ_DEC_ARMTHUMB
#define XZ_DEC_ARM64
#define XZ_DEC_RISCV
#define XZ_DEC_POWERPC
#define XZ_DEC_IA64
#define XZ_DEC_SPARC
#define XZ_DEC_DYNALLOC /* only the mode the glue uses */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xz.h"

void *malloc(size_t size);
void free(void *ptr);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define kmalloc(size, flags) malloc(size)
#define kfree(ptr) free(ptr)
#define vmalloc(size) malloc(size)
#define vfree(ptr) free(ptr)

#define memeq(a, b, size) (memcmp(a, b, size) == 0)
#define memzero(buf, size) memset(buf, 0, size)

#define min(x, y) ((x) < (y) ? (x) : (y))
#define min_t(type, x, y) min(x, y)
#define fallthrough __attribute__((__fallthrough__))
#define __always_inline inline __attribute__((__always_inline__))

static inline uint32_t get_unaligned_le32(const uint8_t *buf)
{
	return (uint32_t)buf[0] | ((uint32_t)buf[1] << 8) | ((uint32_t)buf[2] << 16) | ((uint32_t)buf[3] << 24);
}
static inline uint32_t get_unaligned_be32(const uint8_t *buf)
{
	return ((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) | ((uint32_t)buf[2] << 8) | (uint32_t)buf[3];
}
static inline void put_unaligned_le32(uint32_t val, uint8_t *buf)
{
	buf[0] = (uint8_t)val; buf[1] = (uint8_t)(val >> 8); buf[2] = (uint8_t)(val >> 16); buf[3] = (uint8_t)(val >> 24);
}
static inline void put_unaligned_be32(uint32_t val, uint8_t *buf)
{
	buf[0] = (uint8_t)(val >> 24); buf[1] = (uint8_t)(val >> 16); buf[2] = (uint8_t)(val >> 8); buf[3] = (uint8_t)val;
}
#define get_le32 get_unaligned_le32
#define get_be32 get_unaligned_be32

#endif
