/*
 * fork_prog.c — a traced program that forks, for the live socket's fork test: both
 * processes hold a context, the parent prints "forked PARENT CHILD", and both run
 * until a line (or end of file) on stdin.
 */
#include <ctxtrace/ctx.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    ctx_t *root = ctx_with_cancel(ctx_background());
    int hold[2];
    if (pipe(hold) != 0)
        return 1;
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        close(hold[1]);
        ctx_t *mine = ctx_with_cancel(root);
        char c;
        while (read(hold[0], &c, 1) > 0) /* until the parent closes its end */
            ;
        ctx_release(mine);
        ctx_release(root);
        return 0;
    }
    close(hold[0]);
    printf("forked %d %d\n", (int)getpid(), (int)child);
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL)
        line[0] = '\0';
    close(hold[1]);
    int status = 1;
    waitpid(child, &status, 0);
    ctx_release(root);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
