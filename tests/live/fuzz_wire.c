/*
 * fuzz_wire.c — libFuzzer target for the live wire decoder (libctxtrace/core/wire.c).
 *
 * The input is fed in pieces whose sizes come from its first byte, as a socket would
 * deliver it. Beyond "no crash, no leak, no undefined behaviour" (ASan+UBSan), every
 * frame the decoder accepts must re-encode to exactly its own bytes: the format is
 * canonical, so anything else means the decoder accepted a frame the encoder cannot
 * produce (a check it misses).
 */
#include <ctxtrace/core/wire.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    ct_wire_decoder *d = ct_wire_decoder_new();
    static uint8_t again[CT_WIRE_MAX_FRAME];
    size_t off = 0;
    for (;;) {
        struct ct_wire_msg m;
        int rc;
        while ((rc = ct_wire_next(d, &m)) == CT_WIRE_OK) {
            size_t len;
            const uint8_t *raw = ct_wire_raw(d, &len);
            size_t n = ct_wire_encode(&m, again, sizeof again);
            if (n != len || memcmp(raw, again, n) != 0)
                abort();
        }
        if (rc < 0 || off == size)
            break;
        size_t take = size - off < piece ? size - off : piece;
        off += ct_wire_feed(d, data + off, take);
    }
    ct_wire_decoder_free(d);
    return 0;
}
