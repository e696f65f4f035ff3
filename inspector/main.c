/*
 * main.c — ctxtrace-inspector: a GTK4 application showing a traced program's context
 * tree, timelines and findings. Everything lives in the inspector library (src/);
 * see src/ct-app.h for the command line.
 */
#include "src/ct-app.h"

int main(int argc, char **argv)
{
    return ct_app_run(argc, argv);
}
