"""Loaded by the gateway under test (via PYTHONPATH): records every socket connect it makes."""

import json
import os
import sys

_LOG = os.environ.get("COGATE_TEST_CONNECT_LOG")


def _record(event, args):
    if event == "socket.connect" and _LOG:
        sock, address = args[0], args[1]
        with open(_LOG, "a") as out:
            out.write(json.dumps({"family": int(sock.family), "address": repr(address)}) + "\n")


if _LOG:
    sys.addaudithook(_record)
