#!/opt/footprint/bin/python
"""The web service's health check: the site answers /healthz for one of its allowed host names."""

import http.client
import os
import sys

host = (os.environ.get("DJANGO_ALLOWED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".") or "localhost"
connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=5)
try:
    connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
    status = connection.getresponse().status
except OSError as exc:
    print(f"the web service does not answer: {exc}")
    sys.exit(1)
print(status)
sys.exit(0 if status == 200 else 1)
