/*
 * podmetrics_listen.c - the kubelet loop's extra listeners: one plain TCP
 * socket on 0.0.0.0:<port> per port the application targets use (the
 * target is then the connection's local address and port).  Ports are
 * never dropped while the loop runs.
 */
#include "test/kubesim/podmetrics.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int bind_port(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_ANY)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4096) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void sim_pm_listeners_sync(struct sim_pm_listeners *ls, struct sim_kl_model *m, int ep)
{
	int ports[SIM_PM_MAX_PORTS];
	unsigned gen;
	size_t n;

	if (sim_pm_ports_gen(m) == ls->gen)
		return;
	n = sim_pm_ports(m, ports, SIM_PM_MAX_PORTS, &gen);
	if (n > SIM_PM_MAX_PORTS) {
		log_warn("podmetrics: only the first %d target ports are served", SIM_PM_MAX_PORTS);
		n = SIM_PM_MAX_PORTS;
	}
	for (size_t i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN};
		struct sim_pm_listener *t;
		size_t j;

		for (j = 0; j < ls->n && ls->l[j]->port != ports[i]; j++)
			;
		if (j < ls->n || ls->n == SIM_PM_MAX_PORTS)
			continue;
		t = xcalloc(1, sizeof(*t));
		t->port = ports[i];
		t->fd = bind_port(ports[i]);
		ev.data.ptr = t;
		if (t->fd < 0)
			log_warn("podmetrics: cannot listen on port %d: %s", ports[i],
				 COMMON_SYSERR(errno));
		else if (epoll_ctl(ep, EPOLL_CTL_ADD, t->fd, &ev) != 0)
			log_warn("podmetrics: epoll: %s", COMMON_SYSERR(errno));
		else
			log_v(2, "podmetrics: serving application targets on port %d", ports[i]);
		ls->l[ls->n++] = t;
	}
	ls->gen = gen;
}

int sim_pm_listeners_fd(const struct sim_pm_listeners *ls, const void *p)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->l[i] == p)
			return ls->l[i]->fd;
	return -1;
}

void sim_pm_listeners_close(struct sim_pm_listeners *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->l[i]->fd >= 0)
			close(ls->l[i]->fd);
		free(ls->l[i]);
	}
	ls->n = 0;
}
