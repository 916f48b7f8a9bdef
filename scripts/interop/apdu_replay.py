#!/usr/bin/env python3
"""Sends raw command APDUs to a card through PC/SC (pyscard), as a reader program such as myna does,
and prints the answers as JSON: {"answers": [{"data": HEX, "sw": "9000"}, ...]}.

    apdu_replay.py READER-NAME-PART APDU-HEX...

All APDUs go in one card session (one connection, so verified PINs last until the end). An APDU
that PC/SC itself refuses to send is answered {"error": "..."}. Needs python3-pyscard (Debian).
"""
import json
import sys

from smartcard.System import readers
from smartcard.Exceptions import SmartcardException

wanted = sys.argv[1]
matching = [r for r in readers() if wanted in str(r)]
if not matching:
    sys.exit(f"no reader matching {wanted!r} among {[str(r) for r in readers()]}")
connection = matching[0].createConnection()
connection.connect()
answers = []
for apdu in sys.argv[2:]:
    try:
        data, sw1, sw2 = connection.transmit(list(bytes.fromhex(apdu)))
        answers.append({"data": bytes(data).hex().upper(), "sw": f"{sw1:02X}{sw2:02X}"})
    except SmartcardException as error:
        answers.append({"error": str(error)})
connection.disconnect()
print(json.dumps({"answers": answers}))
