/*
 * sceaud: the sceau server. Reads the configuration, opens the database
 * pool and the HSM, serves HTTP until SIGINT or SIGTERM.
 *
 * usage: sceaud [--config FILE]
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/api.h"
#include "sceau/ca.h"
#include "sceau/db.h"
#include "sceau/hsm.h"

static const char usage[] =
    "usage: sceaud [--config FILE] [--port-file FILE]\n"
    "  Serves the sceau REST API. The configuration is FILE, else\n"
    "  $SCEAU_CONFIG, else var/sceau.conf. With --port-file, the port\n"
    "  bound (useful with server.port = 0) is written to FILE.\n";

int
main(int argc, char **argv)
{
	const char *path = getenv("SCEAU_CONFIG"), *port_file = NULL;
	struct sc_config cfg;
	struct sc_db *db = NULL;
	struct sc_hsm *hsm = NULL;
	struct sc_api *api = NULL;
	struct sc_err err;
	FILE *logfp = NULL;
	char *url = NULL;
	sigset_t set;
	int sig, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--port-file") == 0 &&
		    i + 1 < argc) {
			port_file = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return 64;
		}
	}
	if (path == NULL || path[0] == '\0')
		path = "var/sceau.conf";
	sc_err_clear(&err);
	if (sc_config_load(&cfg, path, &err) != 0) {
		fprintf(stderr, "sceaud: %s\n", err.msg);
		return 1;
	}
	if (cfg.log_file[0] != '\0') {
		logfp = fopen(cfg.log_file, "a");
		if (logfp == NULL) {
			fprintf(stderr, "sceaud: cannot open %s: %s\n",
			    cfg.log_file, strerror(errno));
			return 1;
		}
	}
	sc_log_init(cfg.log_level, logfp);
	/* Signals are taken synchronously below; workers never see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	url = sc_config_db_url(&cfg, &err);
	if (url == NULL)
		goto out;
	db = sc_db_open(url, cfg.db_pool, &err);
	if (db == NULL)
		goto out;
	hsm = sc_hsm_open(&cfg, &err);
	if (hsm == NULL)
		goto out;
	{
		/* Profiles are data read at start: a bad one stops sceaud
		 * here rather than failing a request later. */
		struct sc_ca_env env;

		if (sc_ca_env_init(&env, &cfg, db, hsm, &err) != 0 ||
		    sc_ca_profiles_check(&env, &err) != 0)
			goto out;
	}
	api = sc_api_start(&cfg, db, hsm, &err);
	if (api == NULL)
		goto out;
	sc_log(SC_LOG_NOTICE, "sceaud listening on %s:%u (%u threads)",
	    cfg.listen, sc_api_port(api), cfg.threads);
	if (port_file != NULL) {
		FILE *pf = fopen(port_file, "w");

		if (pf == NULL || fprintf(pf, "%u\n", sc_api_port(api)) < 0 ||
		    fclose(pf) != 0) {
			sc_err_set(&err, SC_E_IO, "cannot write %s", port_file);
			goto out;
		}
	}
	if (sigwait(&set, &sig) != 0)
		sig = 0;
	sc_log(SC_LOG_NOTICE, "sceaud: signal %d, stopping", sig);
	rc = 0;
out:
	if (rc != 0) {
		sc_log_err("sceaud", &err);
		fprintf(stderr, "sceaud: %s\n", err.msg);
	}
	sc_api_stop(api);
	sc_hsm_close(hsm);
	sc_db_close(db);
	sc_secret_free(url);
	if (logfp != NULL)
		fclose(logfp);
	return rc;
}
