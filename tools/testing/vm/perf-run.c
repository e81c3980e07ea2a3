// SPDX-License-Identifier: GPL-2.0-only
/*
 * perf-run: the test VM's side of make bench-profile.
 *
 * The guest has no C library, so this static program starts the host's
 * perf, which make bench-profile copies into the VM with the shared
 * libraries it needs, through their dynamic loader:
 *
 *   perf-run PROG [ARG...]
 *
 * runs "perf record -a -e cpu-clock" of PROG (a static program in the same
 * directory) with its arguments, then prints "perf report --sort sym" of
 * the samples. cpu-clock is a software event driven by a high-resolution
 * timer: it samples under TCG, where no PMU is emulated.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where vmrun.sh --files puts the directory make bench-profile fills */
#define ROOT	"/exec/files/perf-root/"
#define LOADER	ROOT "lib/ld-linux-x86-64.so.2"
#define DATA	"/tmp/perf.data"
#define MAX_ARGS	64

static int spawn(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		perror("perf-run: fork");
		return -1;
	}
	if (!pid) {
		execv(argv[0], argv);
		perror("perf-run: execv");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv)
{
	char *rec[MAX_ARGS + 16] = {
		LOADER, "--library-path", ROOT "lib", ROOT "perf", "record",
		"-a", "-e", "cpu-clock", "-F", "1999", "-o", DATA, "--",
	};
	static char *const rep[] = {
		LOADER, "--library-path", ROOT "lib", ROOT "perf", "report",
		"--stdio", "--no-children", "-i", DATA, "--sort", "sym",
		"--percent-limit", "0.25", NULL,
	};
	static char prog[PATH_MAX];
	int n = 13, i, rc;

	if (argc < 2 || argc > MAX_ARGS) {
		fprintf(stderr, "usage: perf-run PROG [ARG...]\n");
		return 2;
	}
	snprintf(prog, sizeof(prog), ROOT "%s", argv[1]);
	rec[n++] = prog;
	for (i = 2; i < argc; i++)
		rec[n++] = argv[i];
	rec[n] = NULL;

	setenv("HOME", "/tmp", 1);
	setenv("PAGER", "cat", 1);
	rc = spawn(rec);
	fflush(stdout);
	if (rc) {
		printf("perf-run: perf record of %s exited with %d\n", argv[1], rc);
		return 1;
	}
	printf("perf-run: profile\n");
	fflush(stdout);
	return spawn(rep) ? 1 : 0;
}
