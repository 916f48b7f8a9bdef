#!/usr/bin/env python3
"""Validate ca-config/municipalities.json (or the file given as the first argument).

Checks: valid JSON of the expected shape; 47 prefectures with unique two-digit
codes 01-47 in JIS order; each municipality code is five digits starting with
its prefecture's code; codes and names unique within a prefecture (codes also
across the file); romanised names non-empty printable ASCII.  Warns (does not
fail) when a Japanese name has a character outside JIS X 0208, because such a
character is replaced in the certificate's address and the name could then
never match.  Standard library only.  Exit status 0 when valid.
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(ROOT, "ca-config", "municipalities.json")


def is_jisx0208(ch):
    try:
        b = ch.encode("euc_jp")
    except UnicodeEncodeError:
        return False
    if len(b) != 2:
        return False
    row = b[0] - 0xA0
    return 1 <= row <= 8 or 16 <= row <= 84


def ascii_ok(s):
    return isinstance(s, str) and s != "" and s == s.strip() and all(0x20 <= ord(c) < 0x7F for c in s)


def main(argv):
    path = argv[1] if len(argv) > 1 else DEFAULT
    errors, warnings = [], []

    def err(msg):
        errors.append(msg)

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        print("FAIL: %s: %s" % (path, e))
        return 1

    prefs = data.get("prefectures") if isinstance(data, dict) else None
    if not isinstance(prefs, list):
        print("FAIL: top level must be an object with a \"prefectures\" array")
        return 1
    if len(prefs) != 47:
        err("expected 47 prefectures, found %d" % len(prefs))

    pref_codes, all_codes = [], {}
    total = 0
    for i, p in enumerate(prefs):
        where = "prefectures[%d]" % i
        if not isinstance(p, dict):
            err("%s: not an object" % where)
            continue
        code, name, rom = p.get("code"), p.get("name"), p.get("romanized")
        if not (isinstance(code, str) and re.fullmatch(r"\d\d", code) and 1 <= int(code) <= 47):
            err("%s: code %r is not two digits 01-47" % (where, code))
            code = None
        else:
            where = "prefecture %s" % code
        if not (isinstance(name, str) and name and name[-1] in "都道府県"):
            err("%s: name %r must end in 都, 道, 府 or 県" % (where, name))
        if not ascii_ok(rom):
            err("%s: romanized %r is not printable ASCII" % (where, rom))
        pref_codes.append(code)

        munis = p.get("municipalities")
        if not isinstance(munis, list):
            err("%s: municipalities must be an array" % where)
            continue
        seen_codes, seen_names = set(), set()
        for j, m in enumerate(munis):
            mw = "%s municipalities[%d]" % (where, j)
            if not isinstance(m, dict):
                err("%s: not an object" % mw)
                continue
            mcode, mname, mrom = m.get("code"), m.get("name"), m.get("romanized")
            if not (isinstance(mcode, str) and re.fullmatch(r"\d{5}", mcode)):
                err("%s: code %r is not five digits" % (mw, mcode))
            else:
                mw = "%s %s" % (where, mcode)
                if code is not None and not mcode.startswith(code):
                    err("%s: code does not start with the prefecture code %s" % (mw, code))
                if mcode in seen_codes:
                    err("%s: duplicate code in this prefecture" % mw)
                if mcode in all_codes and all_codes[mcode] != code:
                    err("%s: code also used in prefecture %s" % (mw, all_codes[mcode]))
                seen_codes.add(mcode)
                all_codes[mcode] = code
            if not (isinstance(mname, str) and mname and mname[-1] in "市区町村"):
                err("%s: name %r must end in 市, 区, 町 or 村" % (mw, mname))
            else:
                if mname in seen_names:
                    err("%s: duplicate name %s in this prefecture" % (mw, mname))
                seen_names.add(mname)
                bad = [c for c in mname if not is_jisx0208(c)]
                if bad:
                    warnings.append("%s: %s has characters outside JIS X 0208: %s" % (mw, mname, " ".join(bad)))
            if not ascii_ok(mrom):
                err("%s: romanized %r is not printable ASCII" % (mw, mrom))
            total += 1

    good = [c for c in pref_codes if c is not None]
    if len(set(good)) != len(good):
        err("prefecture codes are not unique")
    if good != sorted(good):
        err("prefectures are not in JIS code order")

    for w in warnings:
        print("warning: " + w)
    for e in errors:
        print("error: " + e)
    print("%s: %d prefectures, %d municipalities, %d error(s), %d warning(s)"
          % (os.path.relpath(path), len(prefs), total, len(errors), len(warnings)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
