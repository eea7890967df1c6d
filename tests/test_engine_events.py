"""Events and jobs follow the collection conventions: search, max, page,
total, newest first, and bad search clauses are a 400."""

from harness.engine import Engine


def test_events_search_and_paging(ctx):
    with Engine(ctx) as eng:
        for i in range(5):
            eng.create_dc(f"evdc{i}")
        r = eng.request("GET", "/api/events", params={"search": "message=*evdc*", "max": "2"})
        assert r.status == 200, r
        assert r.body["total"] == 5 and len(r.body["events"]) == 2
        # Newest first, and page 3 holds the oldest one alone.
        assert "evdc4" in r.body["events"][0]["message"] and "evdc3" in r.body["events"][1]["message"]
        r = eng.request("GET", "/api/events", params={"search": "message=*EVDC*", "max": "2", "page": "3"})
        assert r.body["total"] == 5 and [e["message"] for e in r.body["events"]] == [
            "data center 'evdc0' created"]
        ids = [e["id"] for e in eng.get("/api/events", params={"max": "1000"})["events"]]
        assert ids == sorted(ids, reverse=True)
        r = eng.request("GET", "/api/events", params={"search": "severity=normal and user=admin@internal"})
        assert r.body["total"] >= 6  # the login and the five creations
        assert all(e["user"] == "admin@internal" for e in r.body["events"])
        # Unknown fields and clauses without a value are refused; a value
        # that looks like SQL is only ever a bound value: it matches nothing.
        for bad in ("bogus=1", "message", "=x", "after=notanumber"):
            r = eng.request("GET", "/api/events", params={"search": bad})
            assert r.status == 400 and r.body["fault"]["detail"], (bad, r)
        r = eng.request("GET", "/api/events", params={"search": "message=x' OR '1'='1"})
        assert r.status == 200 and r.body == {"events": [], "total": 0}, r
        r = eng.request("GET", "/api/events", params={"search": "message=*' OR '1'='1*"})
        assert r.status == 200 and r.body["total"] == 0, r
        r = eng.request("GET", "/api/events", params={"search": "bogus=1"})
        assert r.status == 400 and "bogus" in r.body["fault"]["detail"]
        r = eng.request("GET", "/api/jobs", params={"search": "status=failed"})
        assert r.status == 200 and r.body == {"jobs": [], "total": 0}
        assert eng.request("GET", "/api/jobs", params={"max": "0"}).status == 400
