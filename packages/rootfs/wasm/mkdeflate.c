/*
 * mkimage's WASM entry points around libdeflate's compressor: one compressor
 * and one input/output buffer pair per instance, memory from a bump arena
 * (nothing is ever freed: an instance lives as long as its worker).
 *
 * JS protocol: mk_init(level, block_capacity) once, then per chunk: write the
 * input at mk_in(), call mk_chunk(n, is_final), read the result at mk_out().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "libdeflate.h"

size_t libdeflate_deflate_compress_chunk(struct libdeflate_compressor *c,
					 const void *in, size_t in_nbytes,
					 void *out, size_t out_nbytes_avail,
					 bool is_final);

/* The sync-flush marker adds at most 5 bytes to libdeflate's bound. */
#define CHUNK_TRAILER_MAX 5
#define WASM_PAGE 65536u

extern unsigned char __heap_base;
static uintptr_t heap_next;

static void *arena_alloc(size_t size)
{
	uintptr_t p, end;
	size_t have;

	if (heap_next == 0)
		heap_next = (uintptr_t)&__heap_base;
	p = (heap_next + 15) & ~(uintptr_t)15;
	end = p + size;
	if (end < p)
		return NULL;
	have = __builtin_wasm_memory_size(0) * WASM_PAGE;
	if (end > have) {
		size_t pages = (end - have + WASM_PAGE - 1) / WASM_PAGE;
		if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
			return NULL;
	}
	heap_next = end;
	return (void *)p;
}

static void arena_free(void *p)
{
	(void)p; /* freed with the instance */
}

static struct libdeflate_compressor *compressor;
static unsigned char *in_buf, *out_buf;
static size_t in_cap, out_cap;

/* Returns 0 on success, 1 for a bad level, 2 when out of memory. */
__attribute__((export_name("mk_init")))
int mk_init(int level, size_t block_capacity)
{
	if (compressor != NULL)
		return 2;
	libdeflate_set_memory_allocator(arena_alloc, arena_free);
	compressor = libdeflate_alloc_compressor(level);
	if (compressor == NULL)
		return level < 0 || level > 12 ? 1 : 2;
	out_cap = libdeflate_deflate_compress_bound(compressor, block_capacity) + CHUNK_TRAILER_MAX;
	in_buf = arena_alloc(block_capacity);
	out_buf = arena_alloc(out_cap);
	if (in_buf == NULL || out_buf == NULL)
		return 2;
	in_cap = block_capacity;
	return 0;
}

__attribute__((export_name("mk_in")))
unsigned char *mk_in(void) { return in_buf; }

__attribute__((export_name("mk_out")))
unsigned char *mk_out(void) { return out_buf; }

/* Compressed size of the n input bytes at mk_in(), or 0 on failure. */
__attribute__((export_name("mk_chunk")))
size_t mk_chunk(size_t n, int is_final)
{
	if (compressor == NULL || n > in_cap)
		return 0;
	return libdeflate_deflate_compress_chunk(compressor, in_buf, n, out_buf, out_cap, is_final != 0);
}
