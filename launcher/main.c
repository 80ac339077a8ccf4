/*
 * heapster - the launcher: one command that runs the whole pipeline.
 *
 * It parses Heapster's flags, creates the queues and the store, then starts
 * and supervises one process per role:
 *
 *   heapster-scraper    --source ...      (kubelets -> processor queue)
 *   heapster-processor  --exporter ...    (queue -> store, notifies exporters)
 *   heapster-exporter   --sink ...        (one per --sink, store -> sink)
 *   heapster-kore + heapster-api.so       (store -> HTTP, Heapster's API)
 *
 * A child that dies is restarted after a backoff (1 s doubling to
 * --restart_backoff_max, 30 s, reset once it has run for a minute); the others keep running, which is
 * the point of separate processes.  SIGTERM or SIGINT stops every child
 * (SIGTERM, then SIGKILL after 10 s) and removes the queues.  Children get
 * PR_SET_PDEATHSIG, so a launcher killed with -9 does not leave orphans, and
 * each runs in its own session (Kore signals its whole process group).
 *
 * The API server is our own kore build (heapster-kore, next to the other
 * binaries: Debian's Kore 4.1 patched for TLS under OpenSSL 3,
 * apiserver/kore/); without it, and without TLS flags, /usr/bin/kore does.
 * --tls_cert/--tls_key serve https, --tls_client_ca requires client
 * certificates except on the probes, --allowed_users limits their CNs
 * (REFERENCE §5).  The files are checked before anything starts, and the
 * launcher exits with a one-line error if one cannot be read.
 *
 * In a Kubernetes pod each container runs the launcher with --only=ROLE
 * (deploy/), sharing the store volume and the pod's IPC namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hc.h"
#include "log.h"
#include "mq.h"
#include "store.h"
#include "uri.h"

#define MAX_SINKS    8
#define MAX_CHILDREN (MAX_SINKS + 3)
#define MAX_ARGS     64
#define MAX_ENV      4

#define KORE_STOCK   "/usr/bin/kore"

struct launch_child {
	char    name[64];
	char   *argv[MAX_ARGS];
	char   *env[MAX_ENV];      /* "NAME=value" set in the child (kore), NULL-ended */
	pid_t   pid;
	int64_t started_ms;
	int64_t restart_at_ms;     /* 0: running or not scheduled */
	int64_t backoff_ms;
	int     restarts;
	int     nice;              /* added to the child's nice value */
};

/*
 * The processor and the exporters have a whole resolution to do their
 * work; the scraper's wall time and the API's latency are what users see.
 * On a busy node the batch work yields to them, and the scraper's parsing
 * bursts yield somewhat to the API's requests (a request is tens of
 * microseconds, a scrape seconds: the API's tail latency is what suffers
 * when both want the CPU).
 */
#define LAUNCH_BATCH_NICE   10
#define LAUNCH_SCRAPER_NICE 3

struct launch_config {
	const char *source;
	const char *sinks[MAX_SINKS];
	int         nsinks;
	const char *resolution;
	const char *run_dir;
	const char *instance;
	const char *bind;
	int         port;
	const char *store_size;
	const char *short_ret, *long_ret, *backlog, *long_metrics;
	const char *label_sep;
	const char *label_flags[32];   /* "--store_label=..." / "--ignore_label=..." */
	int         nlabel_flags;
	const char *log_level;
	const char *api_workers;
	const char *only;          /* run just this role (a container of the pod) */
	int64_t     backoff_max_ms;   /* --restart_backoff_max */
	const char *tls_cert, *tls_key, *tls_client_ca;   /* as given */
	const char *allowed_users;    /* CNs, comma-separated; NULL: any */
	char        bin_dir[PATH_MAX];
	/* set by check_api() for the api role: */
	char        kore[PATH_MAX];   /* the kore binary */
	char        cert_path[PATH_MAX], key_path[PATH_MAX], ca_path[PATH_MAX];
};

static volatile sig_atomic_t launch_stop;
static volatile sig_atomic_t launch_child_exited;

static void on_stop(int sig)
{
	(void)sig;
	launch_stop = 1;
}

static void on_child(int sig)
{
	(void)sig;
	launch_child_exited = 1;
}

static void usage(void)
{
	fprintf(stderr,
"usage: heapster --source=kubernetes.summary_api:URL?opts [--sink=KIND:URL?opts]...\n"
"  (or --source=kubernetes.resource_metrics:URL?opts: kubelet /metrics/resource)\n"
"  [--metric_resolution=60s] [--run_dir=./run] [--instance=NAME]\n"
"  [--bind_address=127.0.0.1] [--port=8082] [--api_workers=2]\n"
"  [--store_size=1G] [--short_retention=140s] [--long_retention=15m]\n"
"  [--export_backlog=15m] [--long_retention_metrics=M1,M2,...]\n"
"  [--label_separator=,] [--store_label=NAME[=KEY]]... [--ignore_label=KEY]...\n"
"  [--log_level=info] [--only=ROLE] [--restart_backoff_max=30s]\n"
"  [--tls_cert=FILE --tls_key=FILE [--tls_client_ca=FILE [--allowed_users=CN,...]]]\n"
"Runs scraper, processor, one exporter per --sink and the API server, and\n"
"restarts any of them that dies.  State (store, logs, kore.conf) lives in\n"
"--run_dir.  --only=scraper|processor|exporter|api runs one role, as a\n"
"container of the pod does (deploy/).  With --tls_cert and --tls_key the\n"
"API serves https; --tls_client_ca then requires a client certificate from\n"
"that CA on every route but /healthz, /readyz and /livez, and\n"
"--allowed_users limits the certificates' CNs.\n");
}

static int parse_args(int argc, char **argv, struct launch_config *c)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 'S' },
		{ "sink", required_argument, NULL, 'k' },
		{ "metric_resolution", required_argument, NULL, 'R' },
		{ "run_dir", required_argument, NULL, 'd' },
		{ "instance", required_argument, NULL, 'i' },
		{ "bind_address", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "api_workers", required_argument, NULL, 'w' },
		{ "store_size", required_argument, NULL, 'z' },
		{ "short_retention", required_argument, NULL, 's' },
		{ "long_retention", required_argument, NULL, 'l' },
		{ "export_backlog", required_argument, NULL, 'e' },
		{ "long_retention_metrics", required_argument, NULL, 'm' },
		{ "label_separator", required_argument, NULL, 'L' },
		{ "store_label", required_argument, NULL, 's' | 0x100 },
		{ "ignore_label", required_argument, NULL, 'i' | 0x100 },
		{ "log_level", required_argument, NULL, 'v' },
		{ "only", required_argument, NULL, 'o' },
		{ "restart_backoff_max", required_argument, NULL, 'B' },
		{ "tls_cert", required_argument, NULL, 'C' },
		{ "tls_key", required_argument, NULL, 'K' },
		{ "tls_client_ca", required_argument, NULL, 'A' },
		{ "allowed_users", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char self[PATH_MAX];
	ssize_t n;
	int ch;

	memset(c, 0, sizeof(*c));
	c->resolution = "60s";
	c->run_dir = "./run";
	c->instance = NULL;
	c->bind = "127.0.0.1";
	c->port = 8082;
	c->log_level = "info";
	c->api_workers = "2";
	c->backoff_max_ms = 30000;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'S': c->source = optarg; break;
		case 'k':
			if (c->nsinks == MAX_SINKS) {
				fprintf(stderr, "heapster: at most %d sinks\n", MAX_SINKS);
				return HC_ERR_CONFIG;
			}
			c->sinks[c->nsinks++] = optarg;
			break;
		case 'R': c->resolution = optarg; break;
		case 'd': c->run_dir = optarg; break;
		case 'i': c->instance = optarg; break;
		case 'b': c->bind = optarg; break;
		case 'p': c->port = atoi(optarg); break;
		case 'w': c->api_workers = optarg; break;
		case 'z': c->store_size = optarg; break;
		case 's': c->short_ret = optarg; break;
		case 'l': c->long_ret = optarg; break;
		case 'e': c->backlog = optarg; break;
		case 'm': c->long_metrics = optarg; break;
		case 'L': c->label_sep = optarg; break;
		case 's' | 0x100:
		case 'i' | 0x100:
			if (c->nlabel_flags == (int)HC_ARRAY_LEN(c->label_flags)) {
				fprintf(stderr, "heapster: too many label flags\n");
				return HC_ERR_CONFIG;
			}
			/* passed through to the processor as given */
			c->label_flags[c->nlabel_flags++] = argv[optind - 1];
			break;
		case 'v': c->log_level = optarg; break;
		case 'B':
			if (hc_duration_parse(optarg, &c->backoff_max_ms) != 0 ||
			    c->backoff_max_ms < 1000) {
				fprintf(stderr, "heapster: --restart_backoff_max takes a "
					"duration of at least 1s\n");
				return HC_ERR_CONFIG;
			}
			break;
		case 'o':
			if (strcmp(optarg, "scraper") && strcmp(optarg, "processor") &&
			    strcmp(optarg, "exporter") && strcmp(optarg, "api")) {
				fprintf(stderr, "heapster: --only takes scraper, processor, "
					"exporter or api\n");
				return HC_ERR_CONFIG;
			}
			c->only = optarg;
			break;
		case 'C': c->tls_cert = optarg; break;
		case 'K': c->tls_key = optarg; break;
		case 'A': c->tls_client_ca = optarg; break;
		case 'U': c->allowed_users = optarg; break;
		default:
			usage();
			return HC_ERR_CONFIG;
		}
	}
	if (optind != argc || c->source == NULL) {
		if (c->source == NULL)
			fprintf(stderr, "heapster: --source is required\n");
		usage();
		return HC_ERR_CONFIG;
	}
	if (c->port <= 0 || c->port > 65535) {
		fprintf(stderr, "heapster: bad --port\n");
		return HC_ERR_CONFIG;
	}
	/* Heapster's checks, plus one: --allowed_users alone would do nothing */
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		fprintf(stderr, "heapster: both --tls_cert and --tls_key are "
			"required to serve TLS\n");
		return HC_ERR_CONFIG;
	}
	if (c->tls_client_ca != NULL && c->tls_cert == NULL) {
		fprintf(stderr, "heapster: --tls_client_ca requires --tls_cert "
			"and --tls_key\n");
		return HC_ERR_CONFIG;
	}
	if (c->allowed_users != NULL && c->tls_client_ca == NULL) {
		fprintf(stderr, "heapster: --allowed_users requires "
			"--tls_client_ca\n");
		return HC_ERR_CONFIG;
	}
	for (int i = 0; i < c->nsinks; i++) {
		struct hc_uri u;

		if (hc_uri_parse(c->sinks[i], &u) != 0) {
			fprintf(stderr, "heapster: cannot parse --sink=%s\n", c->sinks[i]);
			return HC_ERR_CONFIG;
		}
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = '\0';
	snprintf(c->bin_dir, sizeof(c->bin_dir), "%s", dirname(self));
	return 0;
}

/* Appends "--flag=value" to a child's argv (strings live for the process). */
static void add_arg(struct launch_child *ch, int *argc, const char *flag,
		    const char *value)
{
	char *s;

	if (value == NULL || *argc >= MAX_ARGS - 1)
		return;
	if (flag == NULL) {
		s = strdup(value);
	} else if (asprintf(&s, "--%s=%s", flag, value) < 0) {
		s = NULL;
	}
	if (s != NULL)
		ch->argv[(*argc)++] = s;
	ch->argv[*argc] = NULL;
}

/*
 * Resolves one TLS flag's file to an absolute path (Kore reads it from
 * its own processes) and checks that it is a readable regular file
 * holding a PEM block whose label ends with `pem` ("CERTIFICATE", "PRIVATE
 * KEY": a swapped pair fails here rather than in a restarting kore), at
 * a path Kore's configuration can hold.  0 or HC_ERR_CONFIG, the reason
 * printed on one line.
 */
static int check_tls_file(const char *flag, const char *file, const char *pem,
			  char *path)
{
	char buf[64 * 1024], marker[64];
	struct stat st;
	ssize_t n;
	int fd;

	if (realpath(file, path) == NULL) {
		fprintf(stderr, "heapster: --%s=%s: %s\n", flag, file, strerror(errno));
		return HC_ERR_CONFIG;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "heapster: --%s=%s: %s\n", flag, file,
			fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return HC_ERR_CONFIG;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(marker, sizeof(marker), "%s-----", pem);
	if (strstr(buf, "-----BEGIN ") == NULL || strstr(buf, marker) == NULL) {
		fprintf(stderr, "heapster: --%s=%s: no PEM %s in it\n", flag, file, pem);
		return HC_ERR_CONFIG;
	}
	/* Kore's configuration splits on blanks and ends lines at '\n' */
	for (const char *p = path; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			fprintf(stderr, "heapster: --%s=%s: the path may not "
				"contain blanks\n", flag, file);
			return HC_ERR_CONFIG;
		}
	}
	return 0;
}

/*
 * What the api role needs before it starts: the kore binary (ours, or
 * Debian's when ours is missing and no TLS is asked: Debian's cannot serve
 * TLS under OpenSSL 3) and the TLS files.  0 or HC_ERR_CONFIG, the reason
 * printed on one line.
 */
static int check_api(struct launch_config *c)
{
	snprintf(c->kore, sizeof(c->kore), "%s/heapster-kore", c->bin_dir);
	if (access(c->kore, X_OK) != 0) {
		if (c->tls_cert != NULL) {
			fprintf(stderr, "heapster: %s: %s (TLS needs this patched "
				"kore: make)\n", c->kore, strerror(errno));
			return HC_ERR_CONFIG;
		}
		hc_warn("%s not found: the API runs on %s (no TLS)", c->kore,
			KORE_STOCK);
		snprintf(c->kore, sizeof(c->kore), "%s", KORE_STOCK);
	}
	if (c->tls_cert == NULL)
		return 0;
	if (check_tls_file("tls_cert", c->tls_cert, "CERTIFICATE", c->cert_path) != 0 ||
	    check_tls_file("tls_key", c->tls_key, "PRIVATE KEY", c->key_path) != 0)
		return HC_ERR_CONFIG;
	if (c->tls_client_ca != NULL &&
	    check_tls_file("tls_client_ca", c->tls_client_ca, "CERTIFICATE",
			   c->ca_path) != 0)
		return HC_ERR_CONFIG;
	return 0;
}

/*
 * Writes run_dir/kore.conf from the template next to the binaries,
 * substituting every @KEY@ outside comment lines.
 */
static int write_kore_conf(const struct launch_config *c, const char *path)
{
	static const char *keys[] = {
		"@BIND@", "@PORT@", "@SO@", "@WORKERS@", "@TLS@", "@TLS_CERT@",
		"@TLS_KEY@", "@TLS_CLIENT_CA@", "@IF_TLS@", "@IF_CLIENT_CA@",
	};
	char tpl_path[PATH_MAX], so_path[PATH_MAX], port[16], line[1024];
	int tls = c->tls_cert != NULL, ca = c->tls_client_ca != NULL;
	const char *vals[] = {
		c->bind, port, so_path, c->api_workers, tls ? "yes" : "no",
		tls ? c->cert_path : "", tls ? c->key_path : "",
		ca ? c->ca_path : "", tls ? "" : "#", ca ? "" : "#",
	};
	FILE *in, *out;
	int rc = 0;

	snprintf(tpl_path, sizeof(tpl_path), "%s/heapster-api.conf.in", c->bin_dir);
	snprintf(so_path, sizeof(so_path), "%s/heapster-api.so", c->bin_dir);
	snprintf(port, sizeof(port), "%d", c->port);
	in = fopen(tpl_path, "r");
	if (in == NULL) {
		hc_error("cannot read %s: %s", tpl_path, strerror(errno));
		return -errno;
	}
	out = fopen(path, "w");
	if (out == NULL) {
		rc = -errno;
		goto close_in;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		char *p = line;

		p += strspn(p, " \t");
		if (*p == '#') {
			fputs(line, out);
			continue;
		}
		p = line;
		/* substitute every @KEY@ on the line */
		while (*p) {
			size_t k;

			for (k = 0; k < HC_ARRAY_LEN(keys); k++)
				if (strncmp(p, keys[k], strlen(keys[k])) == 0)
					break;
			if (k < HC_ARRAY_LEN(keys)) {
				fputs(vals[k], out);
				p += strlen(keys[k]);
			} else {
				fputc(*p++, out);
			}
		}
	}
	if (fclose(out) != 0)
		rc = -errno;
close_in:
	fclose(in);
	return rc;
}

/*
 * setsid() puts the child in a scheduler autogroup of its own (Linux with
 * kernel.sched_autogroup_enabled, the default on many distributions), and
 * the CPU is then shared between groups before nice values count: a nice
 * processor would still take half the CPU from the API server.  The
 * group's own nice (/proc/self/autogroup) is what lowers its share.  No
 * file (autogroups off or absent) is fine.  In a pod each container has
 * its own cgroup: there CPU requests and limits decide, not this.
 */
static void autogroup_nice(const struct launch_child *ch)
{
	FILE *f = fopen("/proc/self/autogroup", "w");
	int failed;

	if (f == NULL)
		return;
	failed = fprintf(f, "%d", ch->nice) < 0;
	if (fclose(f) != 0 || failed)
		fprintf(stderr, "heapster: %s: autogroup nice: %s\n", ch->name, strerror(errno));
}

static pid_t spawn(struct launch_child *ch, const struct launch_config *c)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* child */
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(1);   /* the launcher died before prctl took effect */
	for (int i = 0; i < MAX_ENV && ch->env[i] != NULL; i++)
		putenv(ch->env[i]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	(void)c;
	if (ch->nice != 0 && setpriority(PRIO_PROCESS, 0, ch->nice) != 0)
		fprintf(stderr, "heapster: %s: setpriority: %s\n", ch->name, strerror(errno));
	if (ch->nice != 0)
		autogroup_nice(ch);
	execv(ch->argv[0], ch->argv);
	fprintf(stderr, "heapster: cannot exec %s: %s\n", ch->argv[0], strerror(errno));
	_exit(127);
}

static int start(struct launch_child *ch, const struct launch_config *c)
{
	ch->pid = spawn(ch, c);
	if (ch->pid < 0) {
		hc_error("fork %s: %s", ch->name, strerror(errno));
		ch->pid = 0;
		return -errno;
	}
	ch->started_ms = hc_mono_ms();
	ch->restart_at_ms = 0;
	hc_info("started %s (pid %d)", ch->name, (int)ch->pid);
	return 0;
}

/* Builds the children's command lines. */
static int plan(const struct launch_config *c, const char *store_dir,
		const char *conf_path, struct launch_child *kids, int *nkids)
{
	char path[PATH_MAX];
	int n = 0, a;

	/* processor first: it registers exporter cursors and drains the queue */
	snprintf(kids[n].name, sizeof(kids[n].name), "processor");
	kids[n].nice = LAUNCH_BATCH_NICE;
	snprintf(path, sizeof(path), "%s/heapster-processor", c->bin_dir);
	a = 0;
	add_arg(&kids[n], &a, NULL, path);
	add_arg(&kids[n], &a, "instance", c->instance);
	add_arg(&kids[n], &a, "store", store_dir);
	add_arg(&kids[n], &a, "store_size", c->store_size);
	add_arg(&kids[n], &a, "short_retention", c->short_ret);
	add_arg(&kids[n], &a, "long_retention", c->long_ret);
	add_arg(&kids[n], &a, "export_backlog", c->backlog);
	add_arg(&kids[n], &a, "long_retention_metrics", c->long_metrics);
	add_arg(&kids[n], &a, "label_separator", c->label_sep);
	for (int i = 0; i < c->nlabel_flags; i++)
		add_arg(&kids[n], &a, NULL, c->label_flags[i]);
	add_arg(&kids[n], &a, "log_level", c->log_level);
	for (int i = 0; i < c->nsinks; i++) {
		struct hc_uri u;
		char name[80];

		hc_uri_parse(c->sinks[i], &u);
		snprintf(name, sizeof(name), "%s-%d", u.kind, i);
		add_arg(&kids[n], &a, "exporter", name);
	}
	n++;

	for (int i = 0; i < c->nsinks; i++) {
		struct hc_uri u;
		char name[80];

		hc_uri_parse(c->sinks[i], &u);
		snprintf(name, sizeof(name), "%s-%d", u.kind, i);
		snprintf(kids[n].name, sizeof(kids[n].name), "exporter %s", name);
		kids[n].nice = LAUNCH_BATCH_NICE;
		snprintf(path, sizeof(path), "%s/heapster-exporter", c->bin_dir);
		a = 0;
		add_arg(&kids[n], &a, NULL, path);
		add_arg(&kids[n], &a, "sink", c->sinks[i]);
		add_arg(&kids[n], &a, "name", name);
		add_arg(&kids[n], &a, "store", store_dir);
		add_arg(&kids[n], &a, "instance", c->instance);
		add_arg(&kids[n], &a, "log_level", c->log_level);
		n++;
	}

	snprintf(kids[n].name, sizeof(kids[n].name), "scraper");
	kids[n].nice = LAUNCH_SCRAPER_NICE;
	snprintf(path, sizeof(path), "%s/heapster-scraper", c->bin_dir);
	a = 0;
	add_arg(&kids[n], &a, NULL, path);
	add_arg(&kids[n], &a, "source", c->source);
	add_arg(&kids[n], &a, "store", store_dir);
	add_arg(&kids[n], &a, "metric_resolution", c->resolution);
	add_arg(&kids[n], &a, "instance", c->instance);
	add_arg(&kids[n], &a, "log_level", c->log_level);
	n++;

	snprintf(kids[n].name, sizeof(kids[n].name), "api");
	a = 0;
	add_arg(&kids[n], &a, NULL, c->kore[0] ? c->kore : KORE_STOCK);
	add_arg(&kids[n], &a, NULL, "-c");
	add_arg(&kids[n], &a, NULL, conf_path);
	add_arg(&kids[n], &a, NULL, "-f");
	add_arg(&kids[n], &a, NULL, "-n");
	add_arg(&kids[n], &a, NULL, "-r");
	/* always set, so that a value in the launcher's environment never leaks in */
	if (asprintf(&kids[n].env[0], "HEAPSTER_STORE=%s", store_dir) < 0 ||
	    asprintf(&kids[n].env[1], "HEAPSTER_ALLOWED_USERS=%s",
		     c->allowed_users ? c->allowed_users : "") < 0)
		return -ENOMEM;
	n++;
	*nkids = n;
	return 0;
}

/* Releases the command lines plan() built. */
static void free_plan(struct launch_child *kids, int nkids)
{
	for (int i = 0; i < nkids; i++) {
		for (int a = 0; kids[i].argv[a] != NULL; a++)
			free(kids[i].argv[a]);
		for (int e = 0; e < MAX_ENV; e++)
			free(kids[i].env[e]);
	}
}

/* Creates the queues afresh (a stale one may hold a dead run's chunks). */
static int make_queues(const struct launch_config *c, int unlink_only)
{
	char name[128], role[96];
	mqd_t q;
	int rc;

	hc_mq_name(name, sizeof(name), c->instance, "processor");
	if (c->only == NULL)
		hc_mq_unlink(name);   /* a whole new pipeline: drop a dead run's chunks */
	if (!unlink_only) {
		rc = hc_mq_open(name, HC_MQ_READ | HC_MQ_CREATE, 0, &q);
		if (rc != 0) {
			hc_error("cannot create queue %s: %s (queues use the default "
				 "limits: 10 x 8 KiB, 800 KiB per user)", name, hc_strerror(rc));
			return rc;
		}
		mq_close(q);
	}
	for (int i = 0; i < c->nsinks; i++) {
		struct hc_uri u;

		hc_uri_parse(c->sinks[i], &u);
		snprintf(role, sizeof(role), "exporter-%s-%d", u.kind, i);
		hc_mq_name(name, sizeof(name), c->instance, role);
		/* exporter queues are not recreated: a restarted launcher's exporters
		 * find their batches in the store anyway */
		if (unlink_only)
			hc_mq_unlink(name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct launch_config cfg;
	struct launch_child kids[MAX_CHILDREN];
	struct store_opts so = { 0 };
	struct store *st;
	char store_dir[PATH_MAX], conf_path[PATH_MAX], inst[64];
	uint64_t size = 0;
	int nkids = 0, rc, status = 0, api;
	struct sigaction sa = { 0 };

	if (parse_args(argc, argv, &cfg) != 0)
		return 2;
	hc_log_init("heapster", HC_LOG_INFO);
	/* the TLS files matter only where the API runs (its container) */
	api = cfg.only == NULL || strcmp(cfg.only, "api") == 0;
	if (api && check_api(&cfg) != 0)
		return 2;
	if (mkdir(cfg.run_dir, 0755) != 0 && errno != EEXIST) {
		hc_error("cannot create %s: %s", cfg.run_dir, strerror(errno));
		return 1;
	}
	if (realpath(cfg.run_dir, store_dir) == NULL) {
		hc_error("%s: %s", cfg.run_dir, strerror(errno));
		return 1;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/kore.conf", store_dir);
	strncat(store_dir, "/store", sizeof(store_dir) - strlen(store_dir) - 1);
	if (cfg.instance == NULL) {
		/* one pipeline per run directory: derive the queue names from it */
		snprintf(inst, sizeof(inst), "%08x",
			 (unsigned)(hc_hash(store_dir, strlen(store_dir)) & 0xffffffffu));
		cfg.instance = inst;
	}
	if (cfg.store_size && hc_size_parse(cfg.store_size, &size) != 0) {
		fprintf(stderr, "heapster: bad --store_size\n");
		return 2;
	}
	/* create the store (and its named databases) before any child opens it */
	so.path = store_dir;
	so.map_size = size;
	rc = store_open(&so, &st);
	if (rc != 0) {
		hc_error("cannot create store %s: %s", store_dir, hc_strerror(rc));
		return 1;
	}
	store_close(st);
	rc = api ? write_kore_conf(&cfg, conf_path) : 0;
	if (rc != 0) {
		hc_error("cannot write %s: %s", conf_path, hc_strerror(rc));
		return 1;
	}
	if (make_queues(&cfg, 0) != 0)
		return 1;
	memset(kids, 0, sizeof(kids));
	rc = plan(&cfg, store_dir, conf_path, kids, &nkids);
	if (rc != 0)
		return 1;
	if (cfg.only != NULL) {
		int kept = 0;

		for (int i = 0; i < nkids; i++) {
			if (strncmp(kids[i].name, cfg.only, strlen(cfg.only)) == 0)
				kids[kept++] = kids[i];
			else
				free_plan(&kids[i], 1);
		}
		nkids = kept;
	}

	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	hc_info("instance %s, store %s, API on %s://%s:%d/%s", cfg.instance,
		store_dir, cfg.tls_cert ? "https" : "http", cfg.bind, cfg.port,
		cfg.tls_client_ca ? " (client certificates required, probes "
		"open)" : "");
	for (int i = 0; i < nkids; i++)
		start(&kids[i], &cfg);

	while (!launch_stop) {
		int64_t now;
		pid_t pid;
		int ws;

		/* sleep until a signal or the next due restart (at most 200 ms) */
		if (!launch_child_exited)
			usleep(200 * 1000);
		launch_child_exited = 0;
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
			for (int i = 0; i < nkids; i++) {
				struct launch_child *ch = &kids[i];

				if (ch->pid != pid)
					continue;
				now = hc_mono_ms();
				if (now - ch->started_ms > 60000)
					ch->backoff_ms = 0;
				ch->backoff_ms = ch->backoff_ms ? ch->backoff_ms * 2 : 1000;
				if (ch->backoff_ms > cfg.backoff_max_ms)
					ch->backoff_ms = cfg.backoff_max_ms;
				ch->pid = 0;
				ch->restart_at_ms = now + ch->backoff_ms;
				ch->restarts++;
				if (WIFSIGNALED(ws))
					hc_warn("%s (pid %d) killed by signal %d; restart in %lld ms",
						ch->name, (int)pid, WTERMSIG(ws),
						(long long)ch->backoff_ms);
				else
					hc_warn("%s (pid %d) exited with status %d; restart in %lld ms",
						ch->name, (int)pid, WEXITSTATUS(ws),
						(long long)ch->backoff_ms);
			}
		}
		now = hc_mono_ms();
		for (int i = 0; i < nkids && !launch_stop; i++)
			if (kids[i].pid == 0 && kids[i].restart_at_ms && now >= kids[i].restart_at_ms)
				start(&kids[i], &cfg);
	}

	hc_info("stopping %d processes", nkids);
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
	for (int64_t deadline = hc_mono_ms() + 10000;;) {
		int alive = 0;
		pid_t pid;
		int ws;

		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
			for (int i = 0; i < nkids; i++)
				if (kids[i].pid == pid)
					kids[i].pid = 0;
		for (int i = 0; i < nkids; i++)
			alive += kids[i].pid > 0;
		if (alive == 0)
			break;
		if (hc_mono_ms() > deadline) {
			for (int i = 0; i < nkids; i++) {
				if (kids[i].pid > 0) {
					hc_warn("%s did not stop: SIGKILL", kids[i].name);
					kill(-kids[i].pid, SIGKILL);
					kill(kids[i].pid, SIGKILL);
				}
			}
			deadline = INT64_MAX;
		}
		usleep(50 * 1000);
	}
	if (cfg.only == NULL)
		make_queues(&cfg, 1);
	free_plan(kids, nkids);
	hc_info("stopped");
	return status;
}
