// SPDX-License-Identifier: GPL-2.0
/*
 * vmrun.sh exec test: print the arguments, and the first line of each file
 * they name, to stdout, one line to stderr, and exit with N of an argument
 * "--exit=N" (0 without one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[256];
	int i, status = 0;
	FILE *f;

	for (i = 1; i < argc; i++) {
		printf("arg%d=<%s>\n", i, argv[i]);
		if (!strncmp(argv[i], "--exit=", 7))
			status = atoi(argv[i] + 7);
		f = fopen(argv[i], "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f))
			printf("file %s: %s", argv[i], line);
		fclose(f);
	}
	fprintf(stderr, "args: this line goes to stderr\n");
	return status;
}
