"""Debian's python3-elasticsearch (7.17), unchanged, against the fake Elasticsearch.

Reads one JSON argument naming the flow and its settings, runs info, cluster.health, bulk, search
and count, and prints one JSON line with what the client returned or raised. The vitest test
asserts on that line.
"""
import json
import sys
import warnings

from elasticsearch import Elasticsearch, exceptions

warnings.simplefilter("ignore")


def client(cfg):
    kwargs = {"hosts": [cfg["url"]], "max_retries": 0, "timeout": 20}
    if "password" in cfg:
        kwargs["http_auth"] = ("elastic", cfg["password"])
    if "api_key" in cfg:
        kwargs["api_key"] = (cfg["api_key"]["id"], cfg["api_key"]["api_key"])
    if "ca_certs" in cfg:
        kwargs["ca_certs"] = cfg["ca_certs"]
    if "fingerprint" in cfg:
        # 7.17 passes this to urllib3's assert_fingerprint; verify_certs=False skips the chain check.
        kwargs["ssl_assert_fingerprint"] = cfg["fingerprint"]
        kwargs["verify_certs"] = False
    if "client_cert" in cfg:
        kwargs["client_cert"] = cfg["client_cert"]
        kwargs["client_key"] = cfg["client_key"]
    return Elasticsearch(**kwargs)


def round_trip(es, index):
    info = es.info()
    who = es.security.authenticate()
    bulk = es.bulk(
        body=[
            {"index": {"_index": index, "_id": "1"}},
            {"user": "kimchy", "message": "trying out Elasticsearch"},
            {"create": {"_index": index}},
            {"user": "kimchy", "message": "second"},
            {"delete": {"_index": index, "_id": "nope"}},
        ],
        refresh=True,
    )
    health = es.cluster.health(wait_for_status="yellow", timeout="1s")
    found = es.search(index=index, body={"query": {"term": {"user.keyword": "kimchy"}}})
    count = es.count(index=index, body={"query": {"match": {"message": "second"}}})
    return {
        "version": info["version"]["number"],
        "username": who["username"],
        "authentication_type": who["authentication_type"],
        "bulk_errors": bulk["errors"],
        "bulk_statuses": [list(item.values())[0]["status"] for item in bulk["items"]],
        "health": health["status"],
        "hits": [hit["_source"]["message"] for hit in found["hits"]["hits"]],
        "count": count["count"],
    }


def main():
    cfg = json.loads(sys.argv[1])
    try:
        result = round_trip(client(cfg), cfg["index"])
        print(json.dumps({"ok": True, **result}))
    except exceptions.TransportError as error:
        status = error.status_code if isinstance(error.status_code, int) else None
        info = error.info if isinstance(error.info, dict) else None
        print(json.dumps({"ok": False, "error": type(error).__name__, "status": status, "body": info, "message": str(error)}))


main()
