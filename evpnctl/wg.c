// SPDX-License-Identifier: MIT
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wg.h"

bool evpnctl_find_exe(const char *name, char *out, size_t len)
{
	return evpnctl_find_exe_in(getenv("PATH"), name, out, len);
}

bool evpnctl_find_exe_in(const char *path, const char *name, char *out,
			 size_t len)
{
	const char *p, *end;

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(out, X_OK) == 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; p && *p; p = *end ? end + 1 : NULL) {
		int n;

		end = strchrnul(p, ':');
		/* An empty PATH element means the current directory. */
		if (end == p)
			n = snprintf(out, len, "./%s", name);
		else
			n = snprintf(out, len, "%.*s/%s", (int)(end - p), p,
				     name);
		if (n > 0 && (size_t)n < len && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

int evpnctl_run(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "evpnctl: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

bool evpnctl_iface_up(const char *name)
{
	return if_nametoindex(name) != 0;
}
