/* `vireo user|group|role|permission ...` (people_cmd.c). */
#pragma once

/* argv[0] is user, group, role or permission; returns the exit code, or
 * -1 when argv[0] is none of them. */
int vr_people_cmd(int argc, char **argv);
