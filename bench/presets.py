"""Recall of the shipped presets per identifier (issue 30): clinical notes and claims under
`hipaa`, payment logs under `pci`, personal data under `gdpr`.

Each identifier gets ≥ 10 cases built from templates and values written here (names,
numbers and dates are invented; card numbers pass Luhn, VINs their check digit). A case is
caught when the preset removes its whole value: every character of it inside a span of a
type the preset acts on (pseudonymize, mask, hash, drop or block) — what the gateway does to
the request before anything leaves. Art. 9 categories (gdpr) count as caught when the task
is found sensitive in their category (`sensitive_task: local` then answers it on the device).

Run: .venv/bin/python bench/presets.py [--json FILE] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from cogate.policies.detect.engine import Detector
from cogate.policies.schema import load_policy
from cogate.policies.sensitive import sensitive_topics

NAMES = ["Margaret Thornbury", "Rahul Menon", "Ines Carvalho", "Tomasz Wojcik", "Aisha Bello"]
NAMES += ["Daniel O'Connor", "Mei Lin Zhou", "Jorge Alvarez", "Sofia Rossi", "Peter Nakamura"]
PHONES = ["(617) 555-0142", "212-555-0187", "+1 415 555 0199", "(303) 555-0110", "646.555.0123"]
PHONES += ["(718) 555-0164", "312-555-0175", "+1 202 555 0136", "(505) 555-0148", "617 555 0190"]
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 000000 00009", "6011000000000004"]
CARDS += ["4012888888881881", "5105-1051-0510-5100", "4222222222222", "3782 822463 10005"]
CARDS += ["6011 1111 1111 1117", "4000 0566 5566 5556"]
VINS = ["1HGCM82633A004352", "1M8GDM9AXKP042788", "5YJSA1E26HF999999", "2T1BURHE0JC123456"]
VINS += ["1FTFW1ET1EFA12345", "3VWFE21C04M000001", "WDBRF40J43F123456", "1G1ZT53826F109149"]
VINS += ["JH4KA8260MC000000", "1GKKRRKD1EJ123456"]


def _cases(templates: list[str], values: list[str]) -> list[tuple[str, str]]:
    """Each value in a template (cycled), as (text, value)."""
    return [(templates[i % len(templates)].format(v=v), v) for i, v in enumerate(values)]


CLINICAL = [
    "Pt seen today. {v} presented with chest pain, BP 150/90.",
    "Discharge summary: {v} tolerated the procedure well.",
    "Referral letter re: {v}, follow-up in 2 weeks.",
]
HIPAA: dict[str, list[tuple[str, str]]] = {
    "names": _cases(CLINICAL, NAMES),
    "phone": _cases(["Call the patient at {v} with results.", "Callback number {v}."], PHONES),
    "fax": _cases(
        ["Fax records to {v} today.", "Please send the referral to fax: {v}"],
        ["(617) 555-0199", "212-555-0100", "(303) 555-0111", "415-555-0122", "(646) 555-0133"]
        + ["(718) 555-0144", "312-555-0155", "(202) 555-0166", "505-555-0177", "617-555-0188"],
    ),
    "email": _cases(
        ["Portal login e-mail {v} confirmed.", "Send the summary to {v}."],
        [f"{n.split()[0].lower()}.{i}@example.com" for i, n in enumerate(NAMES)],
    ),
    "ssn": _cases(
        ["SSN {v} verified at intake.", "Social security number: {v}"],
        ["078-05-1120", "219-09-9999", "457-55-5462", "123-45-6780", "536-22-8726"]
        + ["078 05 1121", "212-67-9832", "401-23-7788", "523-71-1234", "601-44-9012"],
    ),
    "mrn": _cases(
        ["MRN: {v}, admitted to ward 4.", "Medical record number {v} updated.", "Chart #{v}"],
        ["00482913", "A7731442", "MR-2291-884", "55012937", "00077123"]
        + ["K99812734", "MRN2023-0042", "77881234", "B-4421-9983", "30219945"],
    ),
    "health_plan": _cases(
        ["Claim filed, member ID {v}.", "Subscriber ID: {v}", "Medicare ID {v} on file."],
        ["XJH448120931", "1EG4-TE5-MK72", "W123456789", "ZGP882013345", "H4417723901"]
        + ["9AA1-BB2-CC33", "YLB20331876", "M00234987", "QKH551209843", "U77812340"],
    ),
    "dates": _cases(
        ["Admitted on {v} for observation.", "DOB {v}.", "Surgery scheduled {v}."],
        ["03/14/2021", "2019-11-02", "March 3, 1961", "14 March 1931", "7/4/2020"]
        + ["Jan 12, 2022", "2023-06-30", "December 1, 1948", "09.10.2018", "Aug 5 2021"],
    ),
    "ages": _cases(
        ["The patient is a {v} widow.", "Pt is {v}, lives alone.", "Note: {v}."],
        ["93-year-old", "91 years old", "aged 97", "102-year-old", "90 yo"]
        + ["95 years old", "age: 99", "aged 90", "101 years old", "96-year-old"],
    ),
    "vehicle": _cases(["Car VIN {v} reported stolen.", "Claim for vehicle {v}."], VINS),
    "device": _cases(
        ["Pacemaker serial no. {v} interrogated.", "Insulin pump S/N {v} replaced."],
        ["PM-7731-0042", "A55X9921", "SN4420-118", "IP-2231-77A", "GT88123415"]
        + ["PM-0001-9931", "DX7712-44", "CGM-553-210", "XJ9923-1", "SN-44-9921-X"],
    ),
    "url": _cases(
        ["Results at {v} now.", "See {v} for the images."],
        [f"https://portal.example-clinic.com/p/{8800 + i}" for i in range(10)],
    ),
    "ip": _cases(
        ["Login from {v} flagged.", "Device at {v} uploaded vitals."],
        [f"10.{i}.14.{20 + i}" for i in range(5)] + [f"192.168.{i}.{50 + i}" for i in range(5)],
    ),
    "other": _cases(
        ["See claim number {v}.", "Case no. {v} opened.", "Reference {v} attached."],
        ["CLM-2024-118834", "77120-AB", "ZX-4471-9", "C20231188", "R-9912-0042"]
        + ["CLM778812", "A1B2C3D4", "CASE-2219", "88124-X", "REF7712-3"],
    ),
}

PAYMENT = [
    "2024-05-01T10:22:13Z payment failed card={v} amount=49.90",
    "charge declined for {v} (insufficient funds)",
    "Customer read out the card {v} over the phone.",
]
PCI: dict[str, list[tuple[str, str]]] = {
    "pan": _cases(PAYMENT, CARDS),
    "cvv": _cases(
        ["cvv={v} card ending 1111", "CVV {v} given by phone.", "security code: {v}"],
        ["737", "123", "4412", "908", "551", "0042", "372", "866", "219", "6001"],
    ),
    "expiry": _cases(
        ["card exp {v} ok", "exp={v} status=declined", "valid thru {v}", "expiry date {v}"],
        ["09/27", "11/2028", "01/26", "12/29", "06/2030", "03/27", "10/28", "04/2029"]
        + ["08/26", "02/31"],
    ),
    "track": _cases(
        ["swipe data {v} logged", "raw track: {v}"],
        [f";{c.replace(' ', '').replace('-', '')}=2709101000000000?" for c in CARDS[:5]]
        + [
            f"%B{c.replace(' ', '').replace('-', '')}^DOE/JOHN^2709101000000000000?"
            for c in CARDS[5:]
        ],
    ),
}

GDPR_ART4: dict[str, list[tuple[str, str]]] = {
    "name": _cases(["Write to {v} about the contract.", "Forward this to {v}."], NAMES),
    "phone": _cases(["Call me on {v} tonight.", "My number is {v}."], PHONES),
    "email": _cases(
        ["Mail {v} the minutes.", "Her address is {v}."],
        [f"{n.split()[0].lower()}.{i}@example.org" for i, n in enumerate(NAMES)],
    ),
    "iban": _cases(
        ["Pay the invoice to {v}.", "Refund to IBAN {v}."],
        [
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "FR1420041010050500013M02606",
        ]
        + ["NL91ABNA0417164300", "ES9121000418450200051332", "IT60X0542811101000000123456"]
        + ["BE68539007547034", "AT611904300234573201", "CH9300762011623852957"]
        + ["DE44500105175407324931"],
    ),
    "ip": _cases(
        ["Session from {v} expired.", "Our router is {v}."],
        [f"172.16.{i}.{30 + i}" for i in range(5)] + [f"10.0.{i}.{7 + i}" for i in range(5)],
    ),
}

# Art. 9: tasks that state a special category, in the words people use (5 templates x 2).
_ART9_TERMS = {
    "health": ["bipolar disorder", "chemotherapy", "diabetes", "PTSD", "a miscarriage"]
    + ["my HIV status", "depression", "epilepsy", "an eating disorder", "rehab"],
    "sexuality": ["being gay", "coming out", "being bisexual", "being transgender", "my sex life"]
    + [
        "being lesbian",
        "being non-binary",
        "my sexual orientation",
        "being queer",
        "being asexual",
    ],
    "religion": ["my Muslim faith", "converting to Judaism", "my Catholic parish", "Ramadan"]
    + ["my Hindu temple", "leaving my church", "my Buddhist practice", "being an atheist"]
    + ["Sabbath observance", "my mosque"],
    "affiliation": ["my trade union dues", "my union membership", "my party membership"]
    + ["my political views", "who I voted for", "the union steward", "my political affiliation"]
    + ["trade union elections", "union representative duties", "my party member card"],
    "origin": ["my ethnic background", "my ethnicity", "my racial origin", "my ethnic origin"]
    + ["my racial background", "my ethnicity forms", "an ethnic background question"]
    + ["racial origin data", "my ethnic background check", "ethnicity statistics about me"],
    "genetic": ["my BRCA1 mutation", "my genetic test", "a DNA test", "genome sequencing"]
    + ["my genetic predisposition", "a BRCA2 gene result", "my genetic condition"]
    + ["genetic testing results", "my genetic disorder", "a genetic marker"],
    "biometric": ["my fingerprint", "a retina scan", "my voiceprint", "an iris scan"]
    + ["facial recognition data", "my fingerprints", "a face print", "a voice print"]
    + ["facial geometry", "a retinal scan"],
}
_ART9_TEMPLATES = [
    "Help me write a note about {t}.",
    "Draft an email to HR mentioning {t}.",
    "Summarise what I should know about {t}.",
    "Plan my week around {t}.",
    "Explain {t} to my manager politely.",
]
GDPR_ART9 = {
    category: [_ART9_TEMPLATES[i % 5].format(t=t) for i, t in enumerate(terms)]
    for category, terms in _ART9_TERMS.items()
}


def caught(detector: Detector, text: str, value: str) -> bool:
    start = text.index(value)
    end = start + len(value)
    covered: set[int] = set()
    for span in detector.detect(text):
        covered.update(range(max(span.start, start), min(span.end, end)))
    return len(covered) == end - start


def run(verbose: bool) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for preset, table in (("hipaa", HIPAA), ("pci", PCI), ("gdpr", GDPR_ART4)):
        detector = Detector(load_policy(preset))
        out[preset] = {}
        for key, cases in table.items():
            hits = [caught(detector, text, value) for text, value in cases]
            out[preset][key] = sum(hits) / len(hits)
            if verbose:
                for (text, _), hit in zip(cases, hits, strict=True):
                    if not hit:
                        print(f"  missed [{preset}/{key}] {text}", file=sys.stderr)
    out["gdpr-art9"] = {}
    for category, texts in GDPR_ART9.items():
        hits = [category in {t.category for t in sensitive_topics(text)} for text in texts]
        out["gdpr-art9"][category] = sum(hits) / len(hits)
        if verbose:
            for text, hit in zip(texts, hits, strict=True):
                if not hit:
                    print(f"  missed [gdpr-art9/{category}] {text}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.verbose)
    for preset, rows in result.items():
        print(f"{preset}:")
        for key, recall in rows.items():
            print(f"  {key:<12} recall {recall:.2f}")
    print(f"({time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
