/*
 * main.c - berth-shim's entry: arguments, daemonizing with a readiness pipe,
 * the SIGCHLD reaper and the loop. See shim.h for how berthd uses it.
 *
 *   berth-shim --id ID --bundle DIR --state-dir DIR ...   supervise a container
 *   berth-shim ctl STATE_DIR JSON                          one control request
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/internal.h"

static const char usage[] =
	"Usage: berth-shim --id ID --bundle DIR --state-dir DIR [options]\n"
	"       berth-shim ctl STATE_DIR JSON\n"
	"\n"
	"Supervises one container for berthd (protocol: shim/shim.h, docs/shim.md).\n"
	"\n"
	"Options:\n"
	"      --runtime PATH        OCI runtime (default \"runc\")\n"
	"      --runtime-root DIR    the runtime's --root\n"
	"      --runtime-arg ARG     another global runtime flag (repeatable)\n"
	"      --log-path FILE       json-file log (none without it)\n"
	"      --log-opt KEY=VALUE   max-size, max-file (repeatable)\n"
	"      --log-attrs JSON      \"attrs\" of every log entry\n"
	"      --tty                 assert process.terminal is true\n"
	"      --stdin               keep the container's stdin open\n"
	"      --stdin-once          close it when an attached writer is done\n";

/* ---------------------------------------------------------------- options */

static int parse_args(int argc, char **argv, shim_config *cfg, berth_error **err)
{
	enum { O_ID = 256, O_BUNDLE, O_STATE, O_RUNTIME, O_ROOT, O_RARG, O_LOG, O_LOGOPT, O_ATTRS,
	       O_TTY, O_STDIN, O_ONCE, O_HELP, O_VERSION };
	static const struct option opts[] = {
		{"id", 1, NULL, O_ID},		 {"bundle", 1, NULL, O_BUNDLE},
		{"state-dir", 1, NULL, O_STATE}, {"runtime", 1, NULL, O_RUNTIME},
		{"runtime-root", 1, NULL, O_ROOT}, {"runtime-arg", 1, NULL, O_RARG},
		{"log-path", 1, NULL, O_LOG},	 {"log-opt", 1, NULL, O_LOGOPT},
		{"log-attrs", 1, NULL, O_ATTRS}, {"tty", 0, NULL, O_TTY},
		{"stdin", 0, NULL, O_STDIN},	 {"stdin-once", 0, NULL, O_ONCE},
		{"help", 0, NULL, O_HELP},	 {"version", 0, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	memset(cfg, 0, sizeof(*cfg));
	cfg->runtime = "runc";
	cfg->tty = -1;
	shim_log_opts_init(&cfg->log_opts);
	cfg->runtime_args = berth_xcalloc((size_t)argc, sizeof(char *));
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_ID: cfg->id = optarg; break;
		case O_BUNDLE: cfg->bundle = optarg; break;
		case O_STATE: cfg->state_dir = optarg; break;
		case O_RUNTIME: cfg->runtime = optarg; break;
		case O_ROOT: cfg->runtime_root = optarg; break;
		case O_RARG: cfg->runtime_args[cfg->nruntime_args++] = optarg; break;
		case O_LOG: cfg->log_path = optarg; break;
		case O_LOGOPT:
			if (shim_log_opt_parse(&cfg->log_opts, optarg, err) < 0)
				return -1;
			break;
		case O_ATTRS: cfg->log_attrs = optarg; break;
		case O_TTY: cfg->tty = 1; break;
		case O_STDIN: cfg->open_stdin = true; break;
		case O_ONCE: cfg->stdin_once = true; break;
		case O_HELP: fputs(usage, stdout); exit(0);
		case O_VERSION: printf("berth-shim version %s\n", BERTH_VERSION); exit(0);
		default:
			return berth_error_set(err, 400, "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_error_set(err, 400, "unexpected argument: %s", argv[optind]);
	if (!cfg->id || !cfg->bundle || !cfg->state_dir)
		return berth_error_set(err, 400, "--id, --bundle and --state-dir are required");
	if (cfg->id[0] == '\0' || strchr(cfg->id, '/'))
		return berth_error_set(err, 400, "invalid container id \"%s\"", cfg->id);
	if (cfg->log_attrs) {
		json_t *j cleanup_json = NULL;
		if (berth_json_parse_object(cfg->log_attrs, strlen(cfg->log_attrs), &j, err) < 0)
			return berth_error_wrap(err, "--log-attrs");
	}
	return 0;
}

/* Makes paths absolute before the shim leaves the caller's directory. */
static int resolve_paths(shim_config *cfg, char **keep, berth_error **err)
{
	if (berth_mkdir_all(cfg->state_dir, 0700, err) < 0)
		return -1;
	const char **paths[] = {&cfg->state_dir, &cfg->bundle, &cfg->log_path};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(paths); i++) {
		const char *p = *paths[i];
		if (p == NULL || p[0] == '/')
			continue;
		char *cwd cleanup_free = getcwd(NULL, 0);
		if (cwd == NULL)
			return berth_error_set_errno(err, errno, "getcwd");
		keep[i] = berth_xasprintf("%s/%s", cwd, p);
		*paths[i] = keep[i];
	}
	if (strchr(cfg->runtime, '/') == NULL) {
		const char *env = getenv("PATH");
		char *path cleanup_free = berth_xstrdup(env ? env : "/usr/sbin:/usr/bin:/sbin:/bin");
		char *save = NULL;
		for (char *d = strtok_r(path, ":", &save); d && !keep[3]; d = strtok_r(NULL, ":", &save)) {
			char *cand = berth_xasprintf("%s/%s", d, cfg->runtime);
			if (access(cand, X_OK) == 0)
				keep[3] = cand;
			else
				free(cand);
		}
		if (keep[3] == NULL)
			return berth_error_set(err, 400, "runtime \"%s\" not found in PATH", cfg->runtime);
		cfg->runtime = keep[3];
	}
	return 0;
}

/* ------------------------------------------------------------- daemonizing */

/*
 * The caller's process waits on a pipe until the daemon reports "ok {json}"
 * or "error message", so that berthd learns the outcome of runc
 * create from the exit status of the command it ran, and the shim is not
 * its child afterwards.
 */
static int wait_ready(int fd, const char *state_dir)
{
	berth_buf b cleanup_buf = {0};
	char chunk[1024];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		berth_buf_append(&b, chunk, (size_t)n);
	}
	if (b.len > 3 && strncmp(b.data, "ok ", 3) == 0) {
		printf("%s\n", b.data + 3);
		return 0;
	}
	if (b.len > 6 && strncmp(b.data, "error ", 6) == 0) {
		fprintf(stderr, "%s\n", b.data + 6);
		return 1;
	}
	fprintf(stderr, "berth-shim exited while starting (see %s/shim.log)\n", state_dir);
	return 1;
}

static void report(int *fd, const char *fmt, ...) BERTH_PRINTF(2, 3);
static void report(int *fd, const char *fmt, ...)
{
	if (*fd < 0)
		return;
	berth_buf b cleanup_buf = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	(void)berth_write_all(*fd, b.data, b.len); /* EPIPE if the starter is gone: fine */
	close(*fd);
	*fd = -1;
}

/* Returns in the daemon; the starting process exits from here. */
static int daemonize(const char *state_dir, int *ready_fd, berth_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berth_error_set_errno(err, errno, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return berth_error_set_errno(err, errno, "fork");
	if (pid > 0) {
		close(p[1]);
		exit(wait_ready(p[0], state_dir));
	}
	close(p[0]);
	*ready_fd = p[1];
	if (setsid() < 0)
		return berth_error_set_errno(err, errno, "setsid");
	if (chdir(state_dir) < 0)
		return berth_error_set_errno(err, errno, "chdir %s", state_dir);
	/* Held while the shim lives: a second shim for this state dir would
	 * take over the sockets of the first. Close-on-exec, so runc and the
	 * container never hold it. */
	int lock = open(BERTH_SHIM_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0)
		return berth_error_set_errno(err, errno, "open %s/%s", state_dir, BERTH_SHIM_LOCK_FILE);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0)
		return berth_error_set(err, 409, "another berth-shim is running for %s", state_dir);
	/* The shim's stdout and stderr are its log: the starter's would keep
	 * whoever reads them (berthd, a shell's $(...)) waiting. */
	int null = open("/dev/null", O_RDWR);
	int log = open("shim.log", O_WRONLY | O_APPEND | O_CREAT, 0640);
	if (null < 0 || log < 0)
		return berth_error_set_errno(err, errno, "open shim.log");
	dup2(null, 0);
	dup2(log, 1);
	dup2(log, 2);
	close(null);
	close(log);
	umask(022);
	return 0;
}

/* ----------------------------------------------------------------- signals */

static void sigchld_cb(shim_watch *w, int revents)
{
	shim *s = w->data;
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof(si)) > 0)
		;
	shim_reap_children(s);
}

static int setup_signals(shim *s, berth_error **err)
{
	/* The container's init (and whatever it orphans) is reparented to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return berth_error_set_errno(err, errno, "PR_SET_CHILD_SUBREAPER");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		return berth_error_set_errno(err, errno, "signalfd");
	shim_loop_add(s->loop, &s->sigw, s->sigfd, POLLIN, sigchld_cb, s);
	return 0;
}

/* ---------------------------------------------------------------- the shim */

static void shim_free(shim *s)
{
	shim_control_free(s->control);
	for (size_t i = 0; i < s->nexecs; i++)
		shim_proc_free(s->execs[i]);
	free(s->execs);
	shim_proc_free(s->init);
	shim_logfile_close(s->log);
	free(s->oom_file);
	if (s->sigfd >= 0)
		close(s->sigfd);
	shim_loop_free(s->loop);
}

static int run_shim(shim *s, int *ready_fd, berth_error **err)
{
	s->loop = shim_loop_new();
	if (setup_signals(s, err) < 0 || shim_proc_create_init(s, err) < 0 ||
	    shim_control_listen(s, err) < 0)
		return -1;
	report(ready_fd, "ok {\"shim_pid\":%d,\"pid\":%d}", (int)getpid(), (int)s->init->pid);
	shim_loop_run(s->loop);
	return 0;
}

static int ctl_main(int argc, char **argv)
{
	if (argc != 4) {
		fputs(usage, stderr);
		return 2;
	}
	berth_error *err cleanup_error = NULL;
	json_t *req cleanup_json = NULL, *reply cleanup_json = NULL;
	if (berth_json_parse_object(argv[3], strlen(argv[3]), &req, &err) < 0 ||
	    berth_shim_call(argv[2], req, &reply, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	char *text cleanup_free = berth_json_dump(reply);
	printf("%s\n", text);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc, argv);
	/* Nothing berthd's fds (listening sockets...) may stay open in a shim. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	shim s = {.sigfd = -1};
	char *keep[4] = {NULL};
	int ready_fd = -1;
	berth_error *err cleanup_error = NULL;
	int rc = 0;
	if (parse_args(argc, argv, &s.cfg, &err) < 0 || resolve_paths(&s.cfg, keep, &err) < 0) {
		fprintf(stderr, "berth-shim: %s\n", err->msg);
		rc = 1;
		goto out;
	}
	s.state_dir = (char *)s.cfg.state_dir;
	if (daemonize(s.state_dir, &ready_fd, &err) < 0 || run_shim(&s, &ready_fd, &err) < 0) {
		shim_log("%s", err->msg);
		report(&ready_fd, "error %s", err->msg);
		rc = 1;
	} else {
		shim_log("container %s done, exiting", s.cfg.id);
	}
	shim_free(&s);
out:
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keep); i++)
		free(keep[i]);
	free(s.cfg.runtime_args);
	return rc;
}
