// Following a job the API accepted (202): GET /api/jobs/ID each second
// until it ends, each state handed to say(job) (its status, progress and,
// when it failed, the engine's reason).
import { api } from "./api.js";

export async function followJob(jobId, say, onError) {
  say({ id: jobId, status: "pending", progress: 0 });
  for (let i = 0; i < 3600; i++) {
    try {
      const j = await api("GET", `/api/jobs/${jobId}`);
      say(j);
      if (!["pending", "running"].includes(j.status)) return j;
    } catch (e) {
      onError(e);
      return null;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return null;
}
