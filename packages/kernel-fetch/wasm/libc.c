/* The little of libc the decoders need, for wasm32 without one: mem* (the compiler lowers them to
 * memory.copy / memory.fill with -mbulk-memory) and a first-fit allocator over memory.grow.
 * Freed blocks go on a list and are reused whole (no splitting or merging): the decoders allocate a
 * few blocks of recurring sizes (contexts, probability tables, dictionaries), so this stays bounded. */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n) { __builtin_memcpy(dst, src, n); return dst; }
void *memmove(void *dst, const void *src, size_t n) { __builtin_memmove(dst, src, n); return dst; }
void *memset(void *dst, int c, size_t n) { __builtin_memset(dst, c, n); return dst; }
int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

#define PAGE 65536u
#define ALIGN 16u

struct block {
	size_t size; /* usable bytes after this header */
	struct block *next; /* on the free list */
	size_t pad[2]; /* header is ALIGN bytes */
};

extern unsigned char __heap_base;
static uintptr_t heap_top; /* first unused byte */
static struct block *free_list;

void *malloc(size_t size)
{
	if (size == 0)
		size = 1;
	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct block **pp = &free_list;
	for (struct block *b = free_list; b; pp = &b->next, b = b->next) {
		/* Reuse a freed block that fits without wasting more than half of it. */
		if (b->size >= size && b->size / 2 <= size) {
			*pp = b->next;
			return b + 1;
		}
	}
	if (heap_top == 0)
		heap_top = ((uintptr_t)&__heap_base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
	uintptr_t end = heap_top + sizeof(struct block) + size;
	if (end < heap_top)
		return NULL;
	size_t have = __builtin_wasm_memory_size(0) * PAGE;
	if (end > have) {
		size_t pages = (end - have + PAGE - 1) / PAGE;
		if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
			return NULL;
	}
	struct block *b = (struct block *)heap_top;
	b->size = size;
	heap_top = end;
	return b + 1;
}

void free(void *ptr)
{
	if (!ptr)
		return;
	struct block *b = (struct block *)ptr - 1;
	b->next = free_list;
	free_list = b;
}
