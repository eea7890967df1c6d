#include "events.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hyp.h"
#include "log.h"
#include "storage/enospc.h"
#include "vm_exits.h"
#include "vm_leaseloss.h"
#include "watchdog.h"

int vr_events_init(vr_error *err)
{
    if (virEventRegisterDefaultImpl() < 0)
        return vr_libvirt_error(err, "cannot set up libvirt's event loop");
    return 0;
}

static pthread_t loop_tid;
static bool loop_running;
static int loop_stop; /* atomic */

static void *loop_thread(void *arg)
{
    while (!__atomic_load_n(&loop_stop, __ATOMIC_SEQ_CST)) {
        if (virEventRunDefaultImpl() < 0)
            VR_WARN("libvirt event loop iteration failed");
    }
    return NULL;
}

static void wake_loop(int timer, void *opaque) {}

void vr_events_stop(void)
{
    if (!loop_running)
        return;
    __atomic_store_n(&loop_stop, 1, __ATOMIC_SEQ_CST);
    /* A timer due at once makes the loop's poll return, so the thread sees
     * the flag. Adding it from this thread interrupts the poll. */
    int timer = virEventAddTimeout(0, wake_loop, NULL, NULL);
    pthread_join(loop_tid, NULL);
    if (timer >= 0)
        virEventRemoveTimeout(timer);
    loop_running = false;
}

const char *vr_event_name(int event)
{
    static const char *const names[] = {"Defined", "Undefined", "Started", "Suspended",
                                        "Resumed", "Stopped", "Shutdown", "PMSuspended",
                                        "Crashed"};
    return event >= 0 && event < (int)(sizeof(names) / sizeof(names[0])) ? names[event] : "Unknown";
}

const char *vr_event_detail(int event, int detail)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED: {
        static const char *const d[] = {"Booted", "Migrated", "Restored", "FromSnapshot", "Wakeup"};
        return detail >= 0 && detail < 5 ? d[detail] : "Unknown";
    }
    case VIR_DOMAIN_EVENT_SUSPENDED: {
        static const char *const d[] = {"Paused", "Migrated", "IOError", "Watchdog", "Restored",
                                        "FromSnapshot", "APIError", "PostCopy", "PostCopyFailed"};
        return detail >= 0 && detail < 9 ? d[detail] : "Unknown";
    }
    case VIR_DOMAIN_EVENT_RESUMED: {
        static const char *const d[] = {"Unpaused", "Migrated", "FromSnapshot", "PostCopy"};
        return detail >= 0 && detail < 4 ? d[detail] : "Unknown";
    }
    case VIR_DOMAIN_EVENT_STOPPED: {
        static const char *const d[] = {"Shutdown", "Destroyed", "Crashed", "Migrated",
                                        "Saved", "Failed", "FromSnapshot"};
        return detail >= 0 && detail < 7 ? d[detail] : "Unknown";
    }
    case VIR_DOMAIN_EVENT_SHUTDOWN: {
        static const char *const d[] = {"Finished", "Guest", "Host"};
        return detail >= 0 && detail < 3 ? d[detail] : "Unknown";
    }
    default:
        return "";
    }
}

static json_t *event_base(virDomainPtr dom, const char *event)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    return json_pack("{s:s, s:s, s:s, s:b}", "uuid", uuid, "name", virDomainGetName(dom),
                     "event", event, "owned", vr_dom_is_owned(dom));
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    vr_agent *a = opaque;
    json_t *p = event_base(dom, vr_event_name(event));
    json_object_set_new(p, "detail", json_string(vr_event_detail(event, detail)));
    if (event == VIR_DOMAIN_EVENT_STOPPED) {
        /* Why it ended, for the engine to tell a crash from a stop; also
         * kept for VM.getExit (a client that missed this event). */
        const char *reason = vr_exit_reason_of_stop(detail);
        if (json_is_true(json_object_get(p, "owned")))
            reason = vr_leaseloss_reason(json_string_value(json_object_get(p, "uuid")), reason);
        json_object_set_new(p, "reason", json_string(reason));
        if (json_is_true(json_object_get(p, "owned")))
            vr_exit_record(json_string_value(json_object_get(p, "uuid")), virDomainGetName(dom), reason,
                           vr_event_detail(event, detail));
        vr_dom_forget(dom);
    }
    VR_INFO("event: VM %s %s/%s", virDomainGetName(dom), vr_event_name(event),
            vr_event_detail(event, detail));
    vr_server_notify(a->server, "VM.event", p);
    return 0;
}

static int on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    vr_agent *a = opaque;
    vr_server_notify(a->server, "VM.event", event_base(dom, "Rebooted"));
    return 0;
}

static int on_balloon(virConnectPtr conn, virDomainPtr dom, unsigned long long actual,
                      void *opaque)
{
    vr_agent *a = opaque;
    json_t *p = event_base(dom, "BalloonChanged");
    json_object_set_new(p, "actual_kib", json_integer((json_int_t)actual));
    vr_server_notify(a->server, "VM.event", p);
    return 0;
}

static int on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias,
                             void *opaque)
{
    vr_agent *a = opaque;
    json_t *p = event_base(dom, "DeviceRemoved");
    json_object_set_new(p, "alias", json_string(alias));
    vr_server_notify(a->server, "VM.event", p);
    return 0;
}

/* Each second: the event loop runs (watchdog.h). */
static void beat(int timer, void *opaque)
{
    vr_watchdog_beat(VR_WATCHDOG_EVENT_LOOP);
}

int vr_events_start(vr_agent *a, vr_error *err)
{
    if (virEventAddTimeout(1000, beat, NULL, NULL) < 0)
        return vr_libvirt_error(err, "cannot add the watchdog's timer to libvirt's event loop");
    if (pthread_create(&loop_tid, NULL, loop_thread, NULL) != 0)
        return vr_error_set(err, VR_ERR_INTERNAL, "cannot start the event thread");
    loop_running = true;
    return vr_events_register(a, a->conn, err);
}

int vr_events_register(vr_agent *a, virConnectPtr conn, vr_error *err)
{
    struct {
        int id;
        virConnectDomainEventGenericCallback cb;
    } regs[] = {
        {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle)},
        {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot)},
        {VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon)},
        {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed)},
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        if (virConnectDomainEventRegisterAny(conn, NULL, regs[i].id, regs[i].cb, a, NULL) < 0)
            return vr_libvirt_error(err, "cannot subscribe to libvirt domain events");
    return vr_enospc_register(a, conn, err);
}
