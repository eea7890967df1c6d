/* libvirt's event loop thread and the translation of domain events into
 * "VM.event" notifications for subscribed clients. */
#pragma once

#include "agent.h"

/* Register the default event implementation; call before opening libvirt. */
int vr_events_init(vr_error *err);

/* Start the loop thread and subscribe to the connection's domain events. */
int vr_events_start(vr_agent *a, vr_error *err);

/* Stop and join the loop thread: no event callback (and so no VM.event
 * notification) runs after this returns. */
void vr_events_stop(void);

/* Subscribe to domain events of one libvirt connection (again after a
 * reconnect). */
int vr_events_register(vr_agent *a, virConnectPtr conn, vr_error *err);

/* Name of a lifecycle event and its detail ("Stopped", "Shutdown"...). */
const char *vr_event_name(int event);
const char *vr_event_detail(int event, int detail);
