/*
 * plain.c — a program that never uses libctxtrace (tracer_plain), and the same built
 * statically (tracer_plain_static): `ctxtrace run` must leave the first unchanged and
 * refuse the second.
 *
 * It starts and joins a thread (pthread_create is interposed by the shim), forks and
 * waits for a child, then prints its arguments and how many threads it has, and exits 4.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *work(void *arg)
{
    *(int *)arg = 42;
    return NULL;
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    int answer = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, work, &answer) != 0 || pthread_join(t, NULL) != 0)
        return 99;
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0)
        _exit(3);
    int status = 0;
    waitpid(kid, &status, 0);
    printf("plain: answer %d, child exit %d, %d thread(s)\n", answer,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, count_threads());
    for (int i = 0; i < argc; i++)
        printf("plain: argv[%d] = %s\n", i, i == 0 ? "(program)" : argv[i]);
    fprintf(stderr, "plain: a line on stderr\n");
    return 4;
}
