/*
 * flags_hpa.c - the embedded HPA controller's flags (--hpa*,
 * --feature-gates) turned into hpa_loop_options, with their checks.
 */
#include "hpa/hpa.h"
#include "server/server.h"

#include <stdio.h>

int server_hpa_options(const struct server_config *cfg, struct hpa_loop_options *o, char *err,
		       size_t errlen)
{
	const struct server_hpa_flags *f = &cfg->hpa;
	char why[256];

	hpa_options_default(&o->algo);
	o->sync_period_ns = f->sync_period_ns;
	o->algo.tolerance = f->tolerance;
	o->algo.downscale_window_ns = f->downscale_stabilization_ns;
	o->algo.cpu_init_period_ns = f->cpu_init_period_ns;
	o->algo.readiness_delay_ns = f->readiness_delay_ns;
	if (hpa_mode_parse(f->mode, &o->mode) != 0)
		snprintf(err, errlen, "--hpa must be one of off, annotated, all, but value \"%.200s\" "
				      "provided", f->mode ? f->mode : "");
	else if (f->sync_period_ns <= 0)
		snprintf(err, errlen, "--hpa-sync-period should be positive");
	else if (f->tolerance < 0)
		snprintf(err, errlen, "--hpa-tolerance should not be negative");
	else if (f->downscale_stabilization_ns < 0 || f->cpu_init_period_ns < 0 ||
		 f->readiness_delay_ns < 0)
		snprintf(err, errlen, "--hpa-downscale-stabilization, --hpa-cpu-initialization-period "
				      "and --hpa-initial-readiness-delay should not be negative");
	else if (hpa_feature_gates_apply(&o->algo, f->feature_gates.items, f->feature_gates.n, why,
					 sizeof(why)) != 0)
		snprintf(err, errlen, "invalid argument for \"--feature-gates\" flag: %s", why);
	else
		return 0;
	return ERR_INVAL;
}
