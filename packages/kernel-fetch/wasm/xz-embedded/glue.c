/* The wasm interface of our XZ Embedded build (see ../README.md). Two ways to decode, sharing one context:
 *  - stream: xz_dec_catrun over whole .xz streams, every check verified (the sequential path);
 *  - block: the raw LZMA2 decoder over one block's Compressed Data, its Block Header parsed by the caller,
 *    the check computed only when the caller asks for it (the block-parallel path over files whose SHA256
 *    was already verified skips it).
 * Layout of struct ctx as u32 words (xz-wasm.ts CTX mirrors it): 0 buf_size, 1-6 struct xz_buf
 * {in, in_pos, in_size, out, out_pos, out_size}. The in and out buffers hold buf_size bytes each. */
#include "xz_private.h"

/* Largest LZMA2 dictionary accepted (xz -9 uses 64 MiB). */
#define DICT_MAX (64u << 20)

/* "The .xz File Format" 1.2.1 §3.4 Check IDs. */
#define CHECK_NONE 0x00
#define CHECK_CRC32 0x01
#define CHECK_CRC64 0x04
#define CHECK_SHA256 0x0A

struct ctx {
	uint32_t buf_size;
	struct xz_buf b;
	struct xz_dec *stream;
	struct xz_dec_lzma2 *lzma2;
	uint32_t check_id;
	uint32_t crc32;
	uint64_t crc64;
	struct xz_sha256 sha256;
};

static bool tables_ready;

struct ctx *create_context(uint32_t buf_size)
{
	if (!tables_ready) {
		xz_crc32_init();
		xz_crc64_init();
		tables_ready = true;
	}
	struct ctx *c = malloc(sizeof(*c));
	uint8_t *in = malloc(buf_size);
	uint8_t *out = malloc(buf_size);
	if (!c || !in || !out) {
		free(c);
		free(in);
		free(out);
		return NULL;
	}
	memzero(c, sizeof(*c));
	c->buf_size = buf_size;
	c->b.in = in;
	c->b.out = out;
	c->b.out_size = buf_size;
	return c;
}

void destroy_context(struct ctx *c)
{
	if (c->stream)
		xz_dec_end(c->stream);
	if (c->lzma2)
		xz_dec_lzma2_end(c->lzma2);
	free((void *)c->b.in);
	free(c->b.out);
	free(c);
}

/* The first n bytes of the in buffer are the next input; n == 0 means end of input (stream mode). */
void supply_input(struct ctx *c, uint32_t n)
{
	c->b.in_pos = 0;
	c->b.in_size = n;
}

/* Stream mode: decodes into out[out_pos..]; the caller empties out (out_pos = 0) between calls. */
int get_next_output(struct ctx *c)
{
	if (!c->stream) {
		c->stream = xz_dec_init(XZ_DYNALLOC, DICT_MAX);
		if (!c->stream)
			return XZ_MEM_ERROR;
	}
	return xz_dec_catrun(c->stream, &c->b, c->b.in_size == 0);
}

/* Block mode: starts a block whose filter chain is LZMA2 alone, with its dictionary-size byte `props`
 * (§5.3.1); computes the check `check_id` over the output, or nothing when it is CHECK_NONE. */
int block_reset(struct ctx *c, uint32_t props, uint32_t check_id)
{
	if (props > 0xff)
		return XZ_OPTIONS_ERROR;
	if (check_id != CHECK_NONE && check_id != CHECK_CRC32 && check_id != CHECK_CRC64 && check_id != CHECK_SHA256)
		return XZ_UNSUPPORTED_CHECK;
	if (!c->lzma2) {
		c->lzma2 = xz_dec_lzma2_create(XZ_DYNALLOC, DICT_MAX);
		if (!c->lzma2)
			return XZ_MEM_ERROR;
	}
	c->check_id = check_id;
	c->crc32 = 0;
	c->crc64 = 0;
	xz_sha256_reset(&c->sha256);
	c->b.in_pos = c->b.in_size = c->b.out_pos = 0;
	return xz_dec_lzma2_reset(c->lzma2, (uint8_t)props);
}

/* Block mode: decodes in[in_pos..in_size) into out[out_pos..]; XZ_STREAM_END at the LZMA2 end marker. */
int block_run(struct ctx *c)
{
	size_t start = c->b.out_pos;
	enum xz_ret ret = xz_dec_lzma2_run(c->lzma2, &c->b);
	size_t n = c->b.out_pos - start;
	const uint8_t *p = c->b.out + start;
	if (c->check_id == CHECK_CRC32)
		c->crc32 = xz_crc32(p, n, c->crc32);
	else if (c->check_id == CHECK_CRC64)
		c->crc64 = xz_crc64(p, n, c->crc64);
	else if (c->check_id == CHECK_SHA256)
		xz_sha256_update(p, n, &c->sha256);
	return ret;
}

/* Block mode, after XZ_STREAM_END: 1 when the check stored at `stored` (little-endian CRCs) matches. */
int block_check_matches(struct ctx *c, const uint8_t *stored)
{
	switch (c->check_id) {
	case CHECK_NONE:
		return 1;
	case CHECK_CRC32:
		return get_le32(stored) == c->crc32;
	case CHECK_CRC64:
		return get_le32(stored) == (uint32_t)c->crc64 && get_le32(stored + 4) == (uint32_t)(c->crc64 >> 32);
	case CHECK_SHA256:
		return xz_sha256_validate(stored, &c->sha256);
	}
	return 0;
}
