/*
 * gate.c — a test preload that holds a program before its main until told to go, so a
 * client can attach to the live socket of a program that would otherwise be over
 * before anyone connects (tests/findings' exit-check programs run for milliseconds).
 *
 *   LD_PRELOAD="libctxtrace_live_gate.so libctxtrace_preload.so" PROGRAM
 *
 * Listed first, its constructor runs after the shim's (the dynamic loader initializes
 * the preloaded objects last to first), so the socket is already served: it prints
 * "ready" and waits for a line on stdin, as live_prog --wait-go does.
 */
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void gate(void)
{
    fputs("ready\n", stdout);
    fflush(stdout);
    char c;
    while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
        ;
}
