#!/bin/sh
# Rebuilds the committed wasm decoders from the vendored sources (see README.md). Development-time only:
# the package ships the .wasm, so installing it needs no compiler. Needs clang and lld (Debian: clang-14, lld-14).
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
FLAGS="--target=wasm32 -nostdlib -ffreestanding -O2 -mbulk-memory -fno-builtin-malloc -Wall -Wno-unused-function"
LINK="-Wl,--no-entry -Wl,--export-dynamic -Wl,--strip-all -Wl,--initial-memory=1114112 -Wl,--stack-first -z stack-size=65536"
S=xz-embedded/src
# shellcheck disable=SC2086
$CC $FLAGS -Ixz-embedded -I$S $LINK -o xz-embedded.wasm \
	-Wl,--export=create_context -Wl,--export=destroy_context -Wl,--export=supply_input -Wl,--export=get_next_output \
	-Wl,--export=block_reset -Wl,--export=block_run -Wl,--export=block_check_matches \
	libc.c xz-embedded/glue.c $S/xz_dec_stream.c $S/xz_dec_lzma2.c $S/xz_dec_bcj.c $S/xz_crc32.c $S/xz_crc64.c $S/xz_sha256.c
echo "built $(pwd)/xz-embedded.wasm: $(wc -c < xz-embedded.wasm) bytes, sha256 $(sha256sum xz-embedded.wasm | cut -d' ' -f1)"
