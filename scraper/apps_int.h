/*
 * apps_int.h - private to scraper/: what the application loop (apploop.c)
 * asks of a round (appround.c), and the scrape-duration buckets it shares
 * with the kubelet path's self-metrics (selfmetrics.c).  scraper_int.h
 * holds the rest.
 */
#ifndef SCRAPER_APPS_INT_H
#define SCRAPER_APPS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scraper/scraper.h"

/* Bucket bounds of metrics-server's scrape-duration histograms
 * (utils.BucketsForScrapeDuration of the resolution, in seconds) into
 * out (room for SCRAPER__SCRAPE_BUCKETS_MAX); returns their count. */
#define SCRAPER__SCRAPE_BUCKETS_MAX 16
size_t scraper__scrape_buckets(double resolution_s, double *out);

/* Makes a round in flight end at once (its running targets fail as
 * "aborted") and every later round and idle wait return at once; sticky.
 * Thread-safe: the only call on a from another thread. */
void scraper__apps_abort(struct scraper_apps *a);
/* Watches the kept-alive connections until the monotonic time until or
 * an abort (the thread running the rounds). */
void scraper__apps_idle(struct scraper_apps *a, int64_t until_mono_ns);

#endif
