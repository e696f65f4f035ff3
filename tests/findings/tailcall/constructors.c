/* constructors.c — see constructors.h. */
#include "constructors.h"

ctx_t *new_call_ctx(ctx_t *parent)
{
    return ctx_with_timeout(parent, 10 * CTX_SECOND); /* a jump at -O2 */
}
